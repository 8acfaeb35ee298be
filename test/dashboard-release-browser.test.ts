// The dashboard's release controls in real Chromium (Debian's, through playwright-core) against a
// real daemon on a real two-region local edge, with real traffic flowing through both regions
// (src/cli/launchers/synthetic-traffic.ts) so that the canary analysis has invocations to compare:
//   - a release started from the dashboard: its diff and plan are on screen before anything
//     starts, then "Start release";
//   - its page draws the canary against the baseline per target and step (requests, error rate,
//     p99, with the gate's bar), live while it runs;
//   - a `{pause: approve}` step waits; pause and resume from the dashboard; promote from the
//     dashboard lets each wave go on; the release succeeds and the edge serves the new version;
//   - a viewer's session sees no release, rollback, publish or control button, and the API
//     refuses its promote and its release even with the session's CSRF token;
//   - config published from the dashboard after its diff is shown in the confirmation.
// No CSP violation or failed request on the way. Screenshots: test-artifacts/dashboard-release/.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSyntheticTraffic } from "../src/cli/launchers/synthetic-traffic.ts";
import type { Daemon } from "../src/daemon.ts";
import { launchChromium, logIn, watchProblems } from "./support/browser-page.ts";
import { startDaemonIn, bearerApi } from "./support/daemon-rig.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { eventually, httpGet } from "./support/http.ts";

const ARTIFACTS = fileURLToPath(new URL("../test-artifacts/dashboard-release/", import.meta.url));
const REGIONS = ["eu", "us"];
/** /health for the probes; every other path answers the version's tag after a few ms. */
const shop = (tag: string) => `export default {
  async fetch(request) {
    if (new URL(request.url).pathname === "/health") return new Response("ok");
    await new Promise((r) => setTimeout(r, 5));
    return new Response(${JSON.stringify(tag)});
  },
};
`;
const settings = `export default { fetch() { return new Response("settings"); } };\n`;
/** An SPA with its API under /api/: Cloudflare answers /health from its assets, so the plan warns. */
const spa = (tag: string) => `export default { fetch() { return Response.json({ v: ${JSON.stringify(tag)} }); } };\n`;
const spec = (banner: string) => `version: 1
targets:
${REGIONS.map((r) => `  - { name: ${r}, api: local }`).join("\n")}
rollout:
  waves: [[eu], [us]]
  steps: [50, { pause: approve }, 100]
  gate: { probe_path: /health, bake_ms: 2500, min_samples: 5, interval_ms: 100 }
  # min_latency_increase_ms: a loaded 2-core CI machine adds scheduling noise to a few seconds of p99;
  # this test is about the dashboard, the latency rule has its own (test/canary-analysis.test.ts).
  analysis: { min_requests: 20, interval_ms: 500, baseline_lookback_sec: 120, min_latency_increase_ms: 1000 }
workers:
  - { name: shop, main: shop.js, compatibility_date: "2025-01-01" }
  - name: settings
    main: settings.js
    compatibility_date: "2025-01-01"
    agent: true
    config: { values: { banner: ${JSON.stringify(banner)}, limits: { rate: 10 } } }
  - name: spa
    main: spa.js
    compatibility_date: "2025-09-01"
    assets: { directory: public, not_found_handling: single-page-application, run_worker_first: ["/api/*"] }
`;

type Release = { id: string; status: string; worker: string };

describe("the dashboard's release controls and canary chart in Chromium", () => {
  let t: TestEdge;
  let dir: string;
  let daemon: Daemon;
  let token: string;
  let browser: Browser;
  let page: Page;
  let traffic: ReturnType<typeof startSyntheticTraffic>;
  const problems: string[] = [];
  const shot = (p: Page, name: string) => p.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

  const api = bearerApi(() => ({ url: daemon.url, token }));
  const releases = async (worker: string) => (await api<{ items: Release[] }>("GET", `/v1/releases?worker=${worker}`)).items;
  const served = async (region: string) => (await httpGet(t.edge.region(region).port, "shop.localhost", { path: "/items" })).body;
  const chartLine = (target: string, percent: number, metric: string, series: "canary" | "baseline") =>
    page.locator(`svg.chart[data-metric="${metric}"][data-target="${target}"][data-percent="${percent}"] path[data-series="${series}"]`);
  const points = async (target: string, percent: number, metric: string, series: "canary" | "baseline") =>
    Number((await chartLine(target, percent, metric, series).getAttribute("data-points")) ?? 0);

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    t = await startTestEdge({ regions: REGIONS });
    dir = await makeTempDir("dashboard-release");
    writeFileSync(join(dir, "orchestrator.yaml"), spec("hello"));
    writeFileSync(join(dir, "shop.js"), shop("v1"));
    writeFileSync(join(dir, "settings.js"), settings);
    writeFileSync(join(dir, "spa.js"), spa("v1"));
    mkdirSync(join(dir, "public"));
    writeFileSync(join(dir, "public", "index.html"), "<h1>spa</h1>");
    daemon = await startDaemonIn(dir, t.edge);
    token = daemon.initialAdminToken!;
    // The three first releases at once (each bakes its gate for seconds; they share no Worker).
    const started = await Promise.all(["shop", "settings", "spa"].map((worker) => api<Release>("POST", "/v1/releases", { worker })));
    for (const done of await Promise.all(started.map((r) => daemon.engine.wait(r.id))))
      expect(done.status, done.reason ?? "").toBe("succeeded");
    await api("POST", "/v1/workers/settings/config/publish", {});
    // Real requests through both regions from here on: the canary analysis compares them.
    traffic = startSyntheticTraffic({
      targets: REGIONS.map((r) => ({ port: t.edge.region(r).port, host: "shop.localhost", paths: ["/items", "/checkout"] })),
      ratePerSec: 60,
    });
    writeFileSync(join(dir, "shop.js"), shop("v2"));
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
    watchProblems(page, problems);
    await logIn(page, daemon.url, token);
  }, 120_000);
  afterAll(async () => {
    await traffic?.stop();
    await browser?.close();
    await daemon?.close();
    await t?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("starts a release from the dashboard only after its diff and plan are shown", async () => {
    const before = (await releases("shop")).length;
    await page.click("nav a[data-nav=releases]");
    // On a narrow window the list's short cells keep their words whole ("release", "succeeded"),
    // rather than giving the reason column the width and breaking them letter by letter.
    await page.locator(".releases-list table tbody tr").first().waitFor();
    await page.setViewportSize({ width: 640, height: 1000 });
    type Cell = { textContent: string | null };
    type Dom = {
      document: {
        querySelectorAll(q: string): ArrayLike<Cell>;
        createRange(): { selectNodeContents(n: Cell): void; getClientRects(): ArrayLike<{ top: number }> };
      };
    };
    const lines = await page.evaluate(() => {
      const { document } = globalThis as unknown as Dom;
      const cells = document.querySelectorAll(".releases-list table tbody tr td:nth-child(3), .releases-list table thead th");
      return Array.from(cells, (cell) => {
        const range = document.createRange();
        range.selectNodeContents(cell);
        const words = (cell.textContent ?? "").trim().split(/\s+/).length;
        return { text: cell.textContent, lines: new Set(Array.from(range.getClientRects(), (r) => Math.round(r.top))).size, words };
      });
    });
    expect(lines.filter((l) => l.lines > l.words)).toEqual([]);
    await page.setViewportSize({ width: 1400, height: 1000 });
    await page.selectOption("#release-worker", "shop");
    await page.click("#release-review");
    const diff = page.locator('.diff[data-diff="shop"]');
    await diff.waitFor({ timeout: 20_000 });
    // The code changed on both targets, against the version each runs now; nothing else did.
    for (const r of REGIONS) {
      const rows = diff.locator(`.target-diff[data-target="${r}"] table[data-table=diff] tbody tr`);
      expect(await rows.count()).toBeGreaterThan(0);
      expect(await rows.locator("td:first-child").allTextContents()).toEqual(Array.from({ length: await rows.count() }, () => "code"));
    }
    expect(await diff.getAttribute("data-changed")).toBe("true");
    expect(await page.locator("[data-steps]").textContent()).toBe("50% → approve → 100%");
    expect(Number(await page.locator("[data-api-calls]").getAttribute("data-api-calls"))).toBeGreaterThan(0);
    expect(await page.locator('table[data-table="plan-targets"] tbody tr').count()).toBe(REGIONS.length);
    await shot(page, "release-review");
    // Shown, not started: nothing exists until the button is pressed.
    expect((await releases("shop")).length).toBe(before);
    await page.click("#release-start");
    await page.locator("[data-page=releases-detail]").waitFor();
    const [newest] = await releases("shop");
    expect(page.url()).toContain(`#/releases/${newest!.id}`);
    expect(newest!.status).toBe("running");
    const audit = daemon.security.audit.search({ action: "release.create", limit: 10 }).at(-1)!;
    expect(audit.details).toMatchObject({ via: "dashboard" });
  });

  it("draws the canary against the baseline live, waits at the approval step, pauses, resumes and is promoted from the dashboard", async () => {
    const id = decodeURIComponent(page.url().split("#/releases/")[1]!);
    // eu's 50% step: both versions' requests on the chart while the release runs.
    await expect.poll(() => points("eu", 50, "requests", "canary"), { timeout: 20_000 }).toBeGreaterThanOrEqual(1);
    expect(await points("eu", 50, "requests", "baseline")).toBeGreaterThanOrEqual(1);
    expect(Number(await chartLine("eu", 50, "requests", "canary").getAttribute("data-total"))).toBeGreaterThan(0);
    expect(daemon.store.releases.get(id)!.status).toBe("running");
    await shot(page, "release-canary-live");

    // The 50% gate passed on the analysis; eu waits for approval: promote is offered.
    const promote = page.locator("button[data-control=promote]");
    await promote.waitFor({ timeout: 30_000 }).catch(async (e) => {
      // Say why: the release's record and what the page shows.
      await shot(page, "release-no-promote");
      throw new Error(`${e}\nrelease: ${JSON.stringify(daemon.store.releases.get(id))}`);
    });
    await page.locator('tr[data-target="eu"][data-waiting="approval"] .step.pause[data-state="waiting"]').waitFor();
    const eu50 = page.locator('.canary-step[data-target="eu"][data-percent="50"]');
    await expect.poll(() => eu50.getAttribute("data-state"), { timeout: 10_000 }).toBe("passed");
    // The verdict on screen is the gate's (pass, or inconclusive if the machine sent too little traffic).
    const judged = (await api<{ steps: Array<{ target: string; percent: number; verdict: string }> }>("GET", `/v1/releases/${id}/analysis`))
      .steps;
    const verdict = judged.find((s) => s.target === "eu" && s.percent === 50)!.verdict;
    expect(["pass", "inconclusive"]).toContain(verdict);
    expect(await eu50.getAttribute("data-verdict")).toBe(verdict);
    // The gate's error-rate bar sits above the baseline's rate.
    expect(Number(await eu50.locator('svg.chart[data-metric="error-rate"] line.threshold').getAttribute("data-threshold"))).toBeGreaterThan(
      0,
    );
    expect(await page.locator('tr[data-target="us"] .step[data-state="passed"]').count()).toBe(0);
    await shot(page, "release-waiting-approval");

    // Pause and resume from the dashboard: the buttons follow the release's control state.
    await page.click("button[data-control=pause]");
    await page.locator("button[data-control=resume]").waitFor();
    await page.locator(".release-paused").waitFor();
    expect((await api<{ paused: boolean }>("GET", `/v1/releases/${id}/control`)).paused).toBe(true);
    await shot(page, "release-paused");
    await page.click("button[data-control=resume]");
    await page.locator("button[data-control=pause]").waitFor();
    expect((await api<{ paused: boolean }>("GET", `/v1/releases/${id}/control`)).paused).toBe(false);

    // Promote eu's wave (confirmed), then us's wave when it reaches its approval.
    for (const target of REGIONS) {
      await page.locator(`tr[data-target="${target}"][data-waiting="approval"]`).waitFor({ timeout: 30_000 });
      await page.click("button[data-control=promote]");
      const dialog = page.locator("dialog.confirm[open]");
      await dialog.waitFor();
      expect(await dialog.textContent()).toContain(`${target} (at 50%)`);
      await dialog.locator("button[data-confirm]").click();
      await page.locator(`tr[data-target="${target}"] .step.pause[data-state="done"]`).waitFor({ timeout: 10_000 });
    }
    await expect.poll(() => page.locator(".release-phase").textContent(), { timeout: 30_000 }).toBe("succeeded");
    expect(await page.locator("button[data-control]").count()).toBe(0);
    for (const r of REGIONS) await eventually(async () => expect(await served(r)).toBe("v2"));

    // Every step of both targets drawn, with a verdict, both versions' lines and the p99 bar.
    for (const r of REGIONS)
      for (const percent of [50, 100]) {
        const step = page.locator(`.canary-step[data-target="${r}"][data-percent="${percent}"]`);
        await step.waitFor({ timeout: 10_000 });
        expect(await step.getAttribute("data-state")).toBe("passed");
        expect(["pass", "inconclusive"]).toContain(await step.getAttribute("data-verdict"));
        expect(await points(r, percent, "requests", "canary")).toBeGreaterThanOrEqual(1);
        expect(await points(r, percent, "requests", "baseline")).toBeGreaterThanOrEqual(1);
      }
    expect(
      await page.locator('.canary-step[data-target="eu"][data-percent="50"] svg.chart[data-metric="p99"] line.threshold').count(),
    ).toBe(1);
    await shot(page, "release-done");
    const promotes = daemon.security.audit.search({ action: "release.promote", limit: 10 });
    expect(promotes.length).toBe(2);
    for (const e of promotes) expect(e.details).toMatchObject({ via: "dashboard" });
    expect(daemon.security.audit.search({ action: "release.pause", limit: 10 }).at(-1)?.details).toMatchObject({ via: "dashboard" });
  });

  it("a viewer's session sees no buttons, and the API refuses its promote and release", async () => {
    const viewer = await api<{ token: string }>("POST", "/v1/tokens", { name: "watcher", role: "viewer" });
    writeFileSync(join(dir, "shop.js"), shop("v3"));
    const r = await api<Release>("POST", "/v1/releases", { worker: "shop" });
    const vp = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
    watchProblems(vp, problems, { allowed: [403] });
    try {
      await logIn(vp, daemon.url, viewer.token);
      await vp.click("nav a[data-nav=releases]");
      await vp.locator(".releases-list table").waitFor();
      expect(await vp.locator("#release-worker, #release-review, #rollback-worker").count()).toBe(0);
      await vp.goto(new URL(`/ui/#/releases/${r.id}`, daemon.url).href);
      // It sees the release wait for approval, and the canary drawn, but no control.
      await vp.locator('tr[data-target="eu"][data-waiting="approval"]').waitFor({ timeout: 30_000 });
      await vp.locator('.canary-step[data-target="eu"][data-percent="50"][data-state="passed"]').waitFor({ timeout: 10_000 });
      expect(await vp.locator(".release-controls, button[data-control]").count()).toBe(0);
      await shot(vp, "viewer-release");
      const refused = await vp.evaluate(async (releaseId) => {
        const s = (await (await fetch("/ui/session", { credentials: "same-origin" })).json()) as { csrf: string };
        const post = (path: string, body: unknown) =>
          fetch(path, {
            method: "POST",
            credentials: "same-origin",
            headers: { "content-type": "application/json", "x-csrf-token": s.csrf },
            body: JSON.stringify(body),
          }).then(async (res) => [res.status, ((await res.json()) as { error?: { code?: string } }).error?.code]);
        return [await post(`/v1/releases/${releaseId}/promote`, {}), await post("/v1/releases", { worker: "shop" })];
      }, r.id);
      expect(refused).toEqual([
        [403, "ERR_FORBIDDEN"],
        [403, "ERR_FORBIDDEN"],
      ]);
      await vp.click("nav a[data-nav=config]");
      await vp.locator("#cfg-diff-h").waitFor();
      expect(await vp.locator("#config-publish").count()).toBe(0);
      expect(daemon.store.releases.get(r.id)!.status).toBe("running");
    } finally {
      await vp.close();
      await api("POST", `/v1/releases/${r.id}/abort`, {});
      expect((await daemon.engine.wait(r.id)).status).toBe("aborted");
    }
  });

  it("shows the plan's warnings before a start, and a refused start says why once, however often it is pressed", async () => {
    writeFileSync(join(dir, "spa.js"), spa("v2"));
    // Another release of spa, waiting for approval on eu: a second one is refused (ERR_CONFLICT).
    const r = await api<Release>("POST", "/v1/releases", { worker: "spa" });
    try {
      await page.goto(new URL("/ui/#/releases", daemon.url).href);
      await page.selectOption("#release-worker", "spa");
      await page.click("#release-review");
      const warnings = page.locator("[data-plan-warnings] li");
      await warnings.first().waitFor({ timeout: 20_000 });
      expect(await warnings.allTextContents()).toContainEqual(
        expect.stringContaining("Warning: gate probe_path /health reaches the static assets, not the Worker's code"),
      );
      const refusal = page.locator('[data-start-error] [data-code="ERR_CONFLICT"]');
      const seen = problems.length;
      for (let press = 1; press <= 3; press++) {
        await page.click("#release-start");
        await refusal.waitFor();
        await expect.poll(() => page.locator("#release-start").isDisabled()).toBe(false);
        expect(await page.locator(".release-review [role=alert][data-code]").count()).toBe(1);
      }
      expect(await refusal.textContent()).toContain(`Worker spa already has a release in progress (${r.id}`);
      // The three refusals this test asked for are the only failed requests it made.
      expect(problems.splice(seen)).toEqual(Array.from({ length: 3 }, () => "HTTP 409 POST /v1/releases"));
      await shot(page, "release-start-refused");
    } finally {
      await api("POST", `/v1/releases/${r.id}/abort`, {});
      expect((await daemon.engine.wait(r.id)).status).toBe("aborted");
    }
  });

  it("publishes config from the dashboard after showing its diff", async () => {
    writeFileSync(join(dir, "orchestrator.yaml"), spec("hi there"));
    await page.goto(new URL("/ui/#/config?worker=settings", daemon.url).href);
    const publish = page.locator("#config-publish:not([disabled])");
    await publish.waitFor();
    await expect
      .poll(async () => (await api<Array<{ changed: boolean }>>("GET", "/v1/workers/settings/config/diff")).every((d) => d.changed))
      .toBe(true);
    await publish.click();
    const dialog = page.locator("dialog.confirm[open]");
    await dialog.waitFor();
    for (const r of REGIONS) {
      const changes = dialog.locator(`.config-changes[data-target="${r}"]`);
      expect(await changes.textContent()).toContain('banner: "hello" -> "hi there"');
      expect(await changes.textContent()).not.toContain("limits.rate");
    }
    await shot(page, "config-publish-confirm");
    expect((await api<unknown[]>("GET", "/v1/workers/settings/config/history")).length).toBe(1);
    await dialog.locator("button[data-confirm]").click();
    await expect.poll(() => page.locator(".publish-note").textContent(), { timeout: 10_000 }).toMatch(/^Published v2 to eu, us\./);
    const history = await api<Array<{ version: number; createdBy: string }>>("GET", "/v1/workers/settings/config/history");
    expect(history[0]).toMatchObject({ version: 2, createdBy: "initial admin" });
    await shot(page, "config-published");
    expect(problems).toEqual([]);
  });
});
