// The dashboard in real Chromium (Debian's, through playwright-core) against a real daemon on a
// real three-region local edge running the example fleet: log in; the architecture view shows the
// three regions and the example Workers; a fault injected into one region turns its Workers red
// within 2 s; a release started with the real `cbo` binary shows its steps live; a rollback
// confirmed in the dashboard puts the earlier version back on the edge; the audit page verifies
// the chain; mutations without the CSRF token or the session are refused. Each page is kept as a
// screenshot under test-artifacts/dashboard/. The page must run without a CSP violation.
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Daemon } from "../src/daemon.ts";
import { launchChromium, watchProblems } from "./support/browser-page.ts";
import { startDaemonIn, bearerApi } from "./support/daemon-rig.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { eventually, httpGet } from "./support/http.ts";
import { startCbo } from "./support/run-cbo.ts";

const EXAMPLE = fileURLToPath(new URL("../examples/orchestrator.yaml", import.meta.url));
const ARTIFACTS = fileURLToPath(new URL("../test-artifacts/dashboard/", import.meta.url));
const REGIONS = ["eu", "us", "ap"];
// In the spec's order: a Worker after the one its service binding names.
const WORKERS = ["ads-attribution", "ads-api", "ads-conversions"];

type Release = { id: string; status: string };
type Version = { target: string; versionId: string; releaseId: string | null; live: boolean };

describe("the dashboard in Chromium, against a real daemon and local edge", () => {
  let t: TestEdge;
  let dir: string;
  let daemon: Daemon;
  let token: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

  /** The first page's items of a paged list (`{ items, next }`). */
  const list = async <T>(path: string): Promise<T[]> => (await api<{ items: T[] }>("GET", path)).items;
  const api = bearerApi(() => ({ url: daemon.url, token }));
  const served = async (region: string) =>
    JSON.parse((await httpGet(t.edge.region(region).port, "ads-api.localhost", { path: "/health" })).body).version as string;
  const worker = (w: string, region: string) => page.locator(`g.worker[data-worker="${w}"][data-target="${region}"]`);

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    t = await startTestEdge({ regions: REGIONS });
    dir = await makeTempDir("dashboard");
    daemon = await startDaemonIn(dir, t.edge, {
      configFile: EXAMPLE,
      monitorIntervalMs: 200,
    });
    token = daemon.initialAdminToken!;
    // The example's API Worker relays its webhook secret: it must be in the vault to release.
    await api("PUT", "/v1/secrets/SHOPIFY_WEBHOOK_SECRET", { value: `dashboard-e2e-${crypto.randomUUID()}`, mode: "relay" });
    // The first releases at once (each bakes its gate; they share no Worker).
    const started = await Promise.all(WORKERS.map((worker) => api<Release>("POST", "/v1/releases", { worker })));
    for (const done of await Promise.all(started.map((r) => daemon.engine.wait(r.id)))) expect(done.status).toBe("succeeded");
    await api("POST", "/v1/workers/ads-api/config/publish", {}); // as `cbo up` does
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    page = await context.newPage();
    // Refusals the tests provoke are 401 and 403; anything else the page asked for must succeed.
    watchProblems(page, problems, { allowed: [401, 403], withQuery: true });
  });
  afterAll(async () => {
    await browser?.close();
    await daemon?.close();
    await t?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("logs in with an API token into an HttpOnly, SameSite=Strict session", async () => {
    await page.goto(new URL("/ui/", daemon.url).href);
    await page.locator("#token").waitFor();
    await shot("login");
    await page.fill("#token", "cbo_admin_wrong-token-for-the-dashboard-test");
    await page.click("button[type=submit]");
    await expect.poll(() => page.locator("[role=alert]").textContent()).toMatch(/not valid/);
    await page.fill("#token", token);
    await page.click("button[type=submit]");
    await page.locator("nav a[data-nav=architecture][aria-current=page]").waitFor();
    const cookies = await context.cookies();
    expect(cookies).toEqual([expect.objectContaining({ name: "cbo_session", httpOnly: true, sameSite: "Strict", path: "/" })]);
    expect(await page.evaluate(() => (globalThis as unknown as { document: { cookie: string } }).document.cookie)).toBe(""); // scripts never see it
  });

  it("the architecture view shows the three regions and the example Workers, healthy, with their live versions", async () => {
    for (const region of REGIONS) {
      await page.locator(`g.region[data-target="${region}"]`).waitFor();
      for (const w of WORKERS) await worker(w, region).and(page.locator('[data-health="healthy"]')).waitFor({ timeout: 10_000 });
    }
    expect(await page.locator("g.worker").count()).toBe(REGIONS.length * WORKERS.length);
    await page.locator("g.live, .live[data-state=live]").first().waitFor();
    const live = (await list<Version>("/v1/workers/ads-api/versions")).find((v) => v.target === "eu" && v.live)!;
    expect(await worker("ads-api", "eu").getAttribute("aria-label")).toContain(live.versionId.slice(0, 8));
    await worker("ads-api", "eu").click();
    await expect.poll(() => page.locator(".arch-details h2").textContent()).toBe("ads-api @ eu");
    expect(await page.locator(".arch-details").textContent()).toContain(live.versionId);
    await shot("architecture");
  });

  it("a fault injected into one region turns its Workers red within 2 s", async () => {
    await page.locator(".live[data-state=live]").waitFor();
    const injected = Date.now();
    await t.edge.setFault("us", { outage: true });
    await Promise.all(WORKERS.map((w) => worker(w, "us").and(page.locator('[data-health="unhealthy"]')).waitFor({ timeout: 5_000 })));
    const elapsed = Date.now() - injected;
    expect(elapsed, `red after ${elapsed} ms`).toBeLessThanOrEqual(2_000);
    for (const region of ["eu", "ap"]) for (const w of WORKERS) expect(await worker(w, region).getAttribute("data-health")).toBe("healthy");
    await shot("architecture-us-outage");
    await t.edge.setFault("us", null);
    for (const w of WORKERS) await worker(w, "us").and(page.locator('[data-health="healthy"]')).waitFor({ timeout: 10_000 });
  });

  it("a release started from the CLI shows its steps live", async () => {
    await page.click("nav a[data-nav=releases]");
    await page.locator(".releases-list table").waitFor();
    await shot("releases");
    const before = new Set((await list<Release>("/v1/releases")).map((r) => r.id));
    // --force: the Worker is unchanged since the fleet was released (without it the release ends "unchanged").
    const cli = startCbo(["release", "ads-api", "--force", "--data", join(dir, "data")]);
    try {
      // The new release appears in the list by itself (release.created over the event stream).
      const row = page.locator("a[data-release]").first();
      await expect.poll(async () => before.has((await row.getAttribute("data-release")) ?? ""), { timeout: 20_000 }).toBe(false);
      const id = (await row.getAttribute("data-release"))!;
      await row.click();
      await page.locator(`[data-page=releases-detail]`).waitFor();
      // A step passes on screen while the release is still running: progress arrives live.
      await page.locator('tr[data-target="eu"] .step[data-state="passed"]').first().waitFor({ timeout: 20_000 });
      expect(daemon.store.releases.get(id)!.status).toBe("running");
      expect(cli.exitCode).toBeNull();
      await shot("release-live");
      const done = await cli.done;
      expect(done.code, done.stderr).toBe(0);
      await expect.poll(() => page.locator(".release-phase").textContent(), { timeout: 10_000 }).toBe("succeeded");
      const steps = page.locator(".step");
      expect(await steps.count()).toBeGreaterThanOrEqual(REGIONS.length);
      expect(await page.locator('.step:not([data-state="passed"])').count()).toBe(0);
      expect(await page.locator(".event-log li").count()).toBeGreaterThan(REGIONS.length * 2);
      await shot("release-detail");
    } finally {
      if (cli.exitCode === null) cli.kill("SIGTERM");
    }
  });

  it("rolls back from the dashboard, after a confirmation: the edge serves the earlier version again", async () => {
    const releases = (await list<Release & { worker: string; kind: string }>("/v1/releases?worker=ads-api")).filter(
      (r) => r.kind === "release",
    );
    const first = releases.at(-1)!;
    const versions = await list<Version>("/v1/workers/ads-api/versions");
    const earlier = Object.fromEntries(
      REGIONS.map((r) => [r, versions.find((v) => v.target === r && v.releaseId === first.id)!.versionId]),
    );
    for (const r of REGIONS) expect(await served(r)).not.toBe(earlier[r]);

    await page.goto(new URL("/ui/#/releases?worker=ads-api", daemon.url).href);
    await expect.poll(() => page.locator("#rollback-to option").count()).toBeGreaterThan(1);
    expect(await page.locator("#rollback-worker").inputValue()).toBe("ads-api");
    await page.selectOption("#rollback-to", first.id);
    await page.click("text=Roll back…");
    const dialog = page.locator("dialog.confirm[open]");
    await dialog.waitFor();
    for (const r of REGIONS) expect(await dialog.textContent()).toContain(earlier[r]);
    await shot("rollback-confirm");
    // Cancelling changes nothing.
    await dialog.locator("button.secondary").click();
    expect((await list<Release>("/v1/releases?worker=ads-api")).length).toBe(releases.length);
    await page.click("text=Roll back…");
    await page.locator("dialog.confirm[open] button[data-confirm]").click();
    await page.locator("[data-page=releases-detail]").waitFor();
    await expect.poll(() => page.locator(".release-phase").textContent(), { timeout: 20_000 }).toBe("succeeded");
    await shot("rollback-done");
    for (const r of REGIONS) await eventually(async () => expect(await served(r)).toBe(earlier[r]));
    const rollback = (await list<Release & { kind: string; created_by: string }>("/v1/releases?worker=ads-api"))[0]!;
    expect(rollback).toMatchObject({ kind: "rollback", status: "succeeded", created_by: "initial admin" });
    const entry = daemon.security.audit.search({ action: "rollback.create", limit: 10 }).at(-1)!;
    expect(entry.details).toMatchObject({ via: "dashboard" });
  });

  it("the audit page searches, filters and verifies the chain", async () => {
    await page.click("nav a[data-nav=audit]");
    await page.locator("table[data-table=audit] tbody tr").first().waitFor();
    await page.fill("#audit-action", "rollback.*");
    await page.click("form.filters button[type=submit]");
    await expect
      .poll(async () =>
        (await page.locator("table[data-table=audit] tbody tr td:nth-child(4)").allTextContents()).every((a) => a.startsWith("rollback.")),
      )
      .toBe(true);
    expect(await page.locator("table[data-table=audit] tbody tr").count()).toBeGreaterThan(0);
    await page.click("#audit-verify");
    await page.locator('.verify-result[data-verify="ok"]').waitFor({ timeout: 20_000 });
    expect(await page.locator(".verify-result").textContent()).toMatch(/Chain intact: \d+ entries checked/);
    await shot("audit");
  });

  it("config, secrets and setup pages: names and versions only, never a secret value", async () => {
    // As the architecture view's link opens it (ads-attribution runs no agent: it has no config).
    await page.goto(new URL("/ui/#/config?worker=ads-api", daemon.url).href);
    await page.locator("#cfg-diff-h").waitFor();
    await expect.poll(() => page.locator("section table").count()).toBe(3); // per target, versions, drift
    expect(await page.locator("section table").nth(1).textContent()).toMatch(/v1/);
    await shot("config");
    await page.click("nav a[data-nav=secrets]");
    await page.locator("table[data-table=secrets]").waitFor();
    const text = (await page.locator("main").textContent())!;
    expect(text).toContain("SHOPIFY_WEBHOOK_SECRET");
    expect(text).not.toContain("dashboard-e2e-");
    await page.locator("table[data-table=tokens]").waitFor();
    expect(await page.locator("table[data-table=tokens]").textContent()).toContain("initial admin");
    await shot("secrets");
    const setup = page.locator("nav a[data-nav=setup]");
    const hasSetup =
      daemon &&
      (await fetch(new URL("/v1/openapi.json", daemon.url)).then((r) => r.json() as Promise<{ paths: Record<string, unknown> }>)).paths[
        "/v1/setup"
      ] !== undefined;
    expect(await setup.count()).toBe(hasSetup ? 1 : 0);
    if (hasSetup) {
      await setup.click();
      await page.locator("ol.wizard li[data-step]").first().waitFor();
      await shot("setup");
    }
    // The deployment kit downloads with the session (a plain link: the cookie goes along).
    const kit = page.locator("header a.kit");
    if ((await kit.count()) > 0) {
      const [download] = await Promise.all([page.waitForEvent("download"), kit.click()]);
      const file = join(dir, "kit.tar.gz");
      await download.saveAs(file);
      expect(readFileSync(file).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b])); // gzip
    }
  });

  it("mutations without the CSRF token or without a session are refused, from the browser too", async () => {
    const count = (await list<Release>("/v1/releases")).length;
    const post = (p: Page) =>
      p.evaluate(
        async () =>
          (
            await fetch("/v1/releases", {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ worker: "ads-api" }),
              credentials: "same-origin",
            })
          ).status,
      );
    expect(await post(page)).toBe(403); // logged in, but no CSRF token
    const stranger = await browser.newPage();
    try {
      await stranger.goto(new URL("/ui/", daemon.url).href);
      expect(await post(stranger)).toBe(401); // no session
    } finally {
      await stranger.close();
    }
    expect((await list<Release>("/v1/releases")).length).toBe(count);
  });

  it("logs out: the session ends and the login form is back; nothing broke the CSP on the way", async () => {
    await page.click("text=Log out");
    await page.locator("#token").waitFor();
    const status = await page.evaluate(async () => (await fetch("/v1/status", { credentials: "same-origin" })).status);
    expect(status).toBe(401);
    expect(problems).toEqual([]);
  });
});
