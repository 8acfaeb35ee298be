// An operator DOING things in the dashboard, in real Chromium (Debian's, through playwright-core),
// against a real daemon on a real two-region local edge: where the earlier browser tests show that
// each control works once, these press them as people do, and check what goes wrong then:
//   - a refusal on screen carries the API's code and its hint (what to do), not the message alone;
//   - a double click on "Roll back…" asks once and starts one rollback; a double click on "Start
//     release" starts one release; Escape in a confirmation cancels it, and nothing starts;
//   - a rollback that pins an older secret asks for the downgrade too; cancelling rolls nothing back;
//   - a reload keeps each page's filters (they are in the address); Back and Forward go between pages;
//   - keyboard only: Tab reaches a running release's controls with a visible focus ring, the focus
//     survives the page's redraws, Enter and Escape work the dialogs (pause, resume, promote, abort);
//   - the secrets page follows a secret rotated and a token created and revoked elsewhere;
//   - a viewer sees no control on any page; on a phone no page, review or dialog is wider than the
//     screen, and the charts' axes say the numbers they mark;
//   - the daemon restarted under an open page: reconnecting, then log in again, on the same page.
// No failed request (beyond the refusal provoked) or console error on the way.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDaemon, type Daemon } from "../src/daemon.ts";
import { launchChromium, logIn, watchProblems } from "./support/browser-page.ts";
import { bearerApi, startDaemonIn } from "./support/daemon-rig.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";

const ARTIFACTS = fileURLToPath(new URL("../test-artifacts/dashboard-operate/", import.meta.url));
const REGIONS = ["eu", "us"];
const shop = (tag: string) => `export default { fetch() { return new Response(${JSON.stringify(tag)}); } };\n`;
// Fast releases: one step per target, a short bake, no canary analysis (no traffic here).
const SPEC = `version: 1
targets:
${REGIONS.map((r) => `  - { name: ${r}, api: local }`).join("\n")}
rollout:
  steps: [100]
  gate: { probe_path: /, bake_ms: 300, min_samples: 2, interval_ms: 100 }
  analysis: { enabled: false }
workers:
  - { name: shop, main: shop.js, compatibility_date: "2025-01-01" }
  - { name: needs, main: shop.js, compatibility_date: "2025-01-01", secrets: [NOT_IN_THE_VAULT] }
  - name: gated
    main: shop.js
    compatibility_date: "2025-01-01"
    rollout: { steps: [50, { pause: approve }, 100] }
  - { name: keyed, main: shop.js, compatibility_date: "2025-01-01", secrets: [ROLL_KEY] }
`;

type Release = { id: string; status: string; kind: string };

describe("an operator pressing the dashboard's controls in Chromium", () => {
  let t: TestEdge;
  let dir: string;
  let daemon: Daemon;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  // The first start's admin token (a restarted daemon prints none: it made it already).
  let adminToken = "";
  const api = bearerApi(() => ({ url: daemon.url, token: adminToken }));
  const releases = async (worker: string) => (await api<{ items: Release[] }>("GET", `/v1/releases?worker=${worker}`)).items;
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    t = await startTestEdge({ regions: REGIONS });
    dir = await makeTempDir("dashboard-operate");
    writeFileSync(join(dir, "orchestrator.yaml"), SPEC);
    for (const tag of ["v1", "v2"]) {
      writeFileSync(join(dir, "shop.js"), shop(tag));
      if (!daemon) {
        daemon = await startDaemonIn(dir, t.edge);
        adminToken = daemon.initialAdminToken!;
        await api("PUT", "/v1/secrets/ROLL_KEY", { value: `one-${crypto.randomUUID()}`, mode: "binding" });
      }
      for (const worker of tag === "v1" ? ["shop", "gated"] : ["shop"]) {
        const r = await api<Release>("POST", "/v1/releases", { worker });
        const done = await daemon.engine.wait(r.id);
        expect(done.status, done.reason ?? "").toBe("succeeded");
      }
    }
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    // The one refusal provoked on purpose: the plan of a worker whose secret is missing (400).
    watchProblems(page, problems, { allowed: [400] });
    await logIn(page, daemon.url, adminToken);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await daemon?.close();
    await t?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("a refusal on screen says the API's code and its hint", async () => {
    await page.click("nav a[data-nav=releases]");
    await page.selectOption("#release-worker", "needs");
    await page.click("#release-review");
    const alert = page.locator(".release-review [role=alert]");
    await alert.waitFor({ timeout: 20_000 });
    expect(await alert.getAttribute("data-code")).toBe("ERR_VALIDATION");
    const text = (await alert.textContent())!;
    expect(text).toMatch(/^ERR_VALIDATION: Worker needs uses secret\(s\) NOT_IN_THE_VAULT/);
    expect(text).toContain("Hint: Set each with: cbo secrets set NOT_IN_THE_VAULT");
    await shot("refusal-with-hint");
  });

  it("a double click on Roll back… asks once and rolls back once; Escape cancels the dialog", async () => {
    const before = await releases("shop");
    await page.goto(new URL("/ui/#/releases?worker=shop", daemon.url).href);
    await expect.poll(() => page.locator("#rollback-to option").count()).toBeGreaterThan(1);
    const rollBack = page.locator("#rollback-worker ~ button[type=submit]");

    // Keyboard: Escape closes the confirmation; nothing is rolled back, and the form works again.
    await rollBack.click();
    await page.locator("dialog.confirm[open]").waitFor();
    await page.keyboard.press("Escape");
    await expect.poll(() => page.locator("dialog.confirm").count()).toBe(0);
    expect(await rollBack.isEnabled()).toBe(true);
    // The focus is back on the button (disabled while the dialog was open), not lost to the page.
    expect(await rollBack.evaluate((b) => b === (b.ownerDocument as { activeElement: unknown }).activeElement)).toBe(true);

    await rollBack.dblclick();
    await page.locator("dialog.confirm[open]").waitFor();
    // Give a second preview the time to come back and open its own dialog, had it been asked.
    await page.waitForTimeout(1_000);
    expect(await page.locator("dialog.confirm").count()).toBe(1);
    await shot("rollback-one-dialog");
    await page.locator("dialog.confirm[open] button[data-confirm]").click();
    await page.locator("[data-page=releases-detail]").waitFor();
    await expect.poll(() => page.locator(".release-phase").textContent(), { timeout: 20_000 }).toBe("succeeded");
    expect(await page.locator("dialog.confirm").count()).toBe(0);
    const after = await releases("shop");
    expect(after.length - before.length).toBe(1);
    expect(after[0]).toMatchObject({ kind: "rollback", status: "succeeded" });
  });

  it("a rollback that pins an older secret asks for that too: cancelling either dialog rolls nothing back", async () => {
    const first = await api<Release>("POST", "/v1/releases", { worker: "keyed" }).catch(() => undefined);
    expect(first, "the vault holds ROLL_KEY").toBeDefined();
    expect((await daemon.engine.wait(first!.id)).status).toBe("succeeded");
    await api("PUT", "/v1/secrets/ROLL_KEY", { value: `two-${crypto.randomUUID()}`, mode: "binding" });
    const second = await api<Release>("POST", "/v1/releases", { worker: "keyed", force: true });
    expect((await daemon.engine.wait(second.id)).status).toBe("succeeded");
    const before = (await releases("keyed")).length;

    await page.goto(new URL("/ui/#/releases?worker=keyed", daemon.url).href);
    await expect.poll(() => page.locator("#rollback-to option").count()).toBeGreaterThan(1);
    await page.selectOption("#rollback-to", first!.id);
    const rollBack = page.locator("#rollback-worker ~ button[type=submit]");
    const dialog = page.locator("dialog.confirm[open]");
    // The preview names the downgrade; past the first dialog, the second one asks for it alone.
    await rollBack.click();
    await expect.poll(() => dialog.locator("pre.preview").textContent()).toMatch(/ROLL_KEY.*DOWNGRADE/);
    await dialog.locator("button[data-confirm]").click();
    await expect.poll(() => dialog.locator("h2").textContent()).toBe("Downgrade secrets?");
    await dialog.locator("button.secondary").click();
    await expect.poll(() => page.locator("dialog.confirm").count()).toBe(0);
    expect((await releases("keyed")).length).toBe(before);
    // Both confirmed: the rollback runs, with the downgrade confirmed on the record.
    await rollBack.click();
    await dialog.locator("pre.preview").waitFor();
    await dialog.locator("button[data-confirm]").click();
    await expect.poll(() => dialog.locator("h2").textContent()).toBe("Downgrade secrets?");
    await dialog.locator("button[data-confirm]").click();
    await page.locator("[data-page=releases-detail]").waitFor();
    await expect.poll(() => page.locator(".release-phase").textContent(), { timeout: 20_000 }).toBe("succeeded");
    expect((await releases("keyed")).length).toBe(before + 1);
  });

  it("a double click on Start release starts one release", async () => {
    const before = await releases("shop");
    await page.click("nav a[data-nav=releases]");
    await page.selectOption("#release-worker", "shop");
    await page.click("#release-review");
    await page.locator("#release-start").waitFor({ timeout: 20_000 });
    // The rollback above left v1 live while the spec says v2: a real change, no force needed.
    await page.locator("#release-start").dblclick();
    await page.locator("[data-page=releases-detail]").waitFor();
    await expect.poll(() => page.locator(".release-phase").textContent(), { timeout: 20_000 }).toBe("succeeded");
    const after = await releases("shop");
    expect(after.length - before.length).toBe(1);
  });

  it("a reload shows what each page showed (its filters are in the address); Back and Forward go between pages", async () => {
    const value = (sel: string) => page.locator(sel).inputValue();
    const reload = async (landed: string) => {
      await page.reload();
      await page.locator(landed).waitFor();
    };
    // Releases, narrowed to a worker.
    await page.goto(new URL("/ui/#/releases", daemon.url).href);
    await page.locator("#release-filter option[value=shop]").waitFor({ state: "attached" });
    await page.selectOption("#release-filter", "shop");
    await expect.poll(() => page.url()).toMatch(/#\/releases\?worker=shop$/);
    await reload("nav a[data-nav=releases][aria-current=page]");
    await expect.poll(() => value("#release-filter")).toBe("shop");
    await expect
      .poll(() => page.locator(".releases-list tbody td:nth-child(2)").allTextContents())
      .toEqual(Array.from({ length: (await releases("shop")).length }, () => "shop"));
    // Back from a release's page comes back to the narrowed list, Forward to the release again.
    const first = page.locator("a[data-release]").first();
    const id = (await first.getAttribute("data-release"))!;
    await first.click();
    await page.locator("[data-page=releases-detail]").waitFor();
    await page.goBack();
    await page.locator("[data-page=releases]").waitFor();
    await expect.poll(() => value("#release-filter")).toBe("shop");
    await page.goForward();
    await page.locator("[data-page=releases-detail]").waitFor();
    expect(page.url()).toContain(`#/releases/${id}`);
    await reload("[data-page=releases-detail] .release-phase");

    // Config, on the worker chosen.
    await page.goto(new URL("/ui/#/config", daemon.url).href);
    await page.locator("#config-worker option[value=needs]").waitFor({ state: "attached" });
    await page.selectOption("#config-worker", "needs");
    await expect.poll(() => page.url()).toMatch(/#\/config\?worker=needs$/);
    await reload("nav a[data-nav=config][aria-current=page]");
    await expect.poll(() => value("#config-worker")).toBe("needs");

    // Metrics, narrowed to a worker and a target, over 3 hours.
    await page.goto(new URL("/ui/#/metrics", daemon.url).href);
    await page.locator("#metrics-target option[value=us]").waitFor({ state: "attached" });
    await page.selectOption("#metrics-worker", "shop");
    await page.selectOption("#metrics-target", "us");
    await page.selectOption("#metrics-range", "180");
    await expect.poll(() => page.url()).toMatch(/#\/metrics\?worker=shop&target=us&minutes=180$/);
    await reload("nav a[data-nav=metrics][aria-current=page]");
    await expect
      .poll(() => Promise.all(["#metrics-worker", "#metrics-target", "#metrics-range"].map(value)))
      .toEqual(["shop", "us", "180"]);
    await expect
      .poll(
        () =>
          page
            .locator('svg.chart[data-metric="requests"] path.series')
            .evaluateAll((ps) => ps.map((p) => `${p.getAttribute("data-worker")}@${p.getAttribute("data-target")}`)),
        { timeout: 20_000 },
      )
      .toEqual(["shop@us"]);

    // Audit, filtered by action and outcome.
    await page.goto(new URL("/ui/#/audit", daemon.url).href);
    await page.fill("#audit-action", "rollback.*");
    await page.selectOption("#audit-outcome", "ok");
    await page.click("form.filters button[type=submit]");
    await expect.poll(() => page.url()).toMatch(/#\/audit\?action=rollback\.\*&outcome=ok$/);
    await reload("nav a[data-nav=audit][aria-current=page]");
    expect(await Promise.all(["#audit-action", "#audit-outcome"].map(value))).toEqual(["rollback.*", "ok"]);
    const actions = page.locator("table[data-table=audit] tbody td:nth-child(4)");
    await actions.first().waitFor();
    expect((await actions.allTextContents()).every((a) => a.startsWith("rollback."))).toBe(true);

    // Logs, following a worker's errors.
    await page.goto(new URL("/ui/#/logs", daemon.url).href);
    await page.locator("#logs-worker option[value=shop]").waitFor({ state: "attached" });
    await page.selectOption("#logs-worker", "shop");
    await page.selectOption("#logs-status", "error");
    await expect.poll(() => page.url()).toMatch(/#\/logs\?worker=shop&status=error$/);
    await reload("nav a[data-nav=logs][aria-current=page]");
    await expect.poll(() => Promise.all(["#logs-worker", "#logs-status"].map(value))).toEqual(["shop", "error"]);
    await page.locator('.live[data-state="live"]').first().waitFor();
  });

  it("keyboard only: Tab reaches a running release's controls, they keep the focus while the page updates, Enter and Escape work the dialogs", async () => {
    const focused = () =>
      page.evaluate(() => {
        const el = (globalThis as unknown as { document: { activeElement: { getAttribute(n: string): string | null } | null } }).document
          .activeElement;
        return el?.getAttribute("data-control") ?? el?.getAttribute("data-confirm") ?? null;
      });
    const outline = () =>
      page.evaluate(() => {
        const g = globalThis as unknown as {
          document: { activeElement: unknown };
          getComputedStyle(e: unknown): { outlineStyle: string; outlineWidth: string };
        };
        const s = g.getComputedStyle(g.document.activeElement);
        return `${s.outlineStyle} ${s.outlineWidth}`;
      });
    // A second release (the first of a worker goes to 100% at once): forced, as nothing changed.
    const r = await api<Release>("POST", "/v1/releases", { worker: "gated", force: true });
    await page.goto(new URL(`/ui/#/releases/${r.id}`, daemon.url).href);
    await page.locator("button[data-control=pause]").waitFor({ timeout: 20_000 });
    // From the top of the page, Tab alone reaches Pause, shown with a visible focus ring.
    for (let i = 0; i < 40 && (await focused()) !== "pause"; i++) await page.keyboard.press("Tab");
    expect(await focused()).toBe("pause");
    expect(await outline()).toMatch(/^solid [1-9]/);
    // The page reads the release's control state every 2 s and draws again: the focus stays.
    await page.waitForTimeout(2_500);
    expect(await focused()).toBe("pause");
    await page.keyboard.press("Enter");
    await page.locator(".release-paused").waitFor();
    expect(await focused()).toBe("resume");
    await page.keyboard.press("Enter");
    await page.locator("button[data-control=pause]").waitFor();
    expect(await focused()).toBe("pause");

    // At the approval step Promote appears before Pause; the focus stays on Pause meanwhile.
    await page.locator('tr[data-target="eu"][data-waiting="approval"]').waitFor({ timeout: 20_000 });
    await page.locator("button[data-control=promote]").waitFor();
    expect(await focused()).toBe("pause");
    await page.keyboard.press("Shift+Tab");
    expect(await focused()).toBe("promote");
    // Enter opens the dialog on Cancel; Escape closes it and nothing is promoted.
    await page.keyboard.press("Enter");
    await page.locator("dialog.confirm[open]").waitFor();
    await page.keyboard.press("Escape");
    await expect.poll(() => page.locator("dialog.confirm").count()).toBe(0);
    expect(daemon.security.audit.search({ action: "release.promote", limit: 10 }).length).toBe(0);
    // Enter, Tab to the confirm button, Enter: promoted.
    await page.keyboard.press("Enter");
    await page.locator("dialog.confirm[open]").waitFor();
    await page.keyboard.press("Tab");
    expect(await focused()).toBe("");
    await page.keyboard.press("Enter");
    await page.locator('tr[data-target="eu"] .step.pause[data-state="done"]').waitFor({ timeout: 10_000 });
    expect(daemon.security.audit.search({ action: "release.promote", limit: 10 }).length).toBe(1);

    // Abort by keyboard too: the focus is still among the controls.
    await page.locator('tr[data-target="us"][data-waiting="approval"]').waitFor({ timeout: 20_000 });
    for (let i = 0; i < 5 && (await focused()) !== "abort"; i++) await page.keyboard.press("Tab");
    expect(await focused()).toBe("abort");
    await page.keyboard.press("Enter");
    await page.locator("dialog.confirm[open]").waitFor();
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    await expect.poll(() => page.locator(".release-phase").textContent(), { timeout: 20_000 }).toMatch(/^(aborted|rolled back)$/);
    expect((await daemon.engine.wait(r.id)).status).toBe("aborted");
  });

  it("the secrets page shows a secret rotated and a token created and revoked elsewhere, without a reload", async () => {
    await api("PUT", "/v1/secrets/ROTATED_KEY", { value: `first-${crypto.randomUUID()}`, mode: "binding" });
    await page.goto(new URL("/ui/#/secrets", daemon.url).href);
    const secretRow = page.locator("table[data-table=secrets] tbody tr", { hasText: "ROTATED_KEY" });
    await expect.poll(() => secretRow.locator("td:nth-child(2)").textContent()).toBe("v1");
    // Rotated by the CLI (a bearer token): the open page shows v2 by itself.
    await api("PUT", "/v1/secrets/ROTATED_KEY", { value: `second-${crypto.randomUUID()}`, mode: "binding" });
    await expect.poll(() => secretRow.locator("td:nth-child(2)").textContent(), { timeout: 10_000 }).toBe("v2");
    const created = await api<{ id: string }>("POST", "/v1/tokens", { name: "ci-deployer", role: "deployer" });
    const tokenRow = page.locator("table[data-table=tokens] tbody tr", { hasText: "ci-deployer" });
    await expect.poll(() => tokenRow.locator("td:last-child").textContent(), { timeout: 10_000 }).toBe("active");
    await api("DELETE", `/v1/tokens/${created.id}`);
    await expect.poll(() => tokenRow.locator("td:last-child").textContent(), { timeout: 10_000 }).toBe("revoked");
    expect(await page.locator("main").textContent()).not.toMatch(/first-|second-/);
  });

  it("a viewer's session has no control on any page: only the filters that read", async () => {
    const viewer = await api<{ token: string }>("POST", "/v1/tokens", { name: "looker", role: "viewer" });
    const [newest] = await releases("shop");
    const vp = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    watchProblems(vp, problems);
    try {
      await logIn(vp, daemon.url, viewer.token);
      const pages = ["architecture", "releases", `releases/${newest!.id}`, "metrics", "logs", "config", "d1", "secrets", "audit", "setup"];
      const controls: Record<string, string[]> = {};
      for (const p of pages) {
        await vp.goto(new URL(`/ui/#/${p}`, daemon.url).href);
        await vp.locator("nav a[aria-current=page]").waitFor();
        await expect.poll(() => vp.locator("main .muted", { hasText: /^Loading…$/ }).count()).toBe(0);
        await vp.waitForTimeout(300);
        // Buttons, links styled as buttons and downloads; a select or search box that narrows what is read is fine.
        const found = await vp
          .locator("body button:not(header button.secondary), body a.button, body a[download]")
          .evaluateAll((els) => els.map((e) => `${e.tagName.toLowerCase()} "${(e.textContent ?? "").trim()}"`));
        if (found.length) controls[p] = found;
      }
      expect(controls).toEqual({});
    } finally {
      await vp.close();
    }
  });

  it("on a phone (375 px) no page is wider than the screen, and the charts' axes say the numbers they mark", async () => {
    const [newest] = await releases("shop");
    const phone = await (await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true })).newPage();
    watchProblems(phone, problems);
    try {
      await logIn(phone, daemon.url, adminToken);
      // releases?worker=keyed: its rollback choices are long lines.
      const pages = [
        "architecture",
        "releases?worker=keyed",
        `releases/${newest!.id}`,
        "metrics",
        "logs",
        "config",
        "d1",
        "secrets",
        "audit",
        "setup",
      ];
      const wide: string[] = [];
      for (const p of pages) {
        await phone.goto(new URL(`/ui/#/${p}`, daemon.url).href);
        await phone.locator(`nav a[aria-current=page]`).waitFor();
        if (p === "metrics") await phone.locator("svg.chart").first().waitFor({ timeout: 20_000 });
        else if (p.startsWith("releases?")) await expect.poll(() => phone.locator("#rollback-to option").count()).toBeGreaterThan(1);
        else await phone.waitForTimeout(300);
        // Against the screen's 375 px: a phone widens its layout to fit a page wider than that.
        const scroll = await phone.evaluate(
          () => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth,
        );
        if (scroll > 375) wide.push(`${p}: ${scroll} px wide on a 375 px screen`);
      }
      // A release's review: the diff and the plan, with their tables.
      await phone.goto(new URL("/ui/#/releases", daemon.url).href);
      await phone.locator("#release-worker option[value=shop]").waitFor({ state: "attached" });
      await phone.selectOption("#release-worker", "shop");
      await phone.click("#release-review");
      await phone.locator("#release-start").waitFor({ timeout: 20_000 });
      const reviewWidth = await phone.evaluate(
        () => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth,
      );
      if (reviewWidth > 375) wide.push(`release review: ${reviewWidth} px wide on a 375 px screen`);
      await phone.screenshot({ path: join(ARTIFACTS, "phone-release-review.png"), fullPage: true });
      expect(wide).toEqual([]);
      // A confirmation on a phone: the dialog, its title and its buttons on the screen, whatever its preview holds.
      await phone.goto(new URL("/ui/#/releases?worker=keyed", daemon.url).href);
      await expect.poll(() => phone.locator("#rollback-to option").count()).toBeGreaterThan(1);
      await phone.locator("#rollback-worker ~ button[type=submit]").click();
      await phone.locator("dialog.confirm[open] pre.preview").waitFor();
      // The phone's screen is 375 px wide, whatever a wider layout makes of the page's own width.
      const offscreen = await phone
        .locator("dialog.confirm[open], dialog.confirm[open] h2, dialog.confirm[open] button")
        .evaluateAll((els) =>
          els
            .map((e) => [e.tagName, e.getBoundingClientRect(), e.scrollWidth - e.clientWidth] as const)
            .filter(([, r, hidden]) => r.left < 0 || r.right > 375 || hidden > 0)
            .map(([tag, r, hidden]) => `${tag}: ${Math.round(r.left)}..${Math.round(r.right)} px, ${hidden} px hidden`),
        );
      await phone.screenshot({ path: join(ARTIFACTS, "phone-rollback-confirm.png") });
      expect(offscreen).toEqual([]);
      await phone.keyboard.press("Escape");
      // Narrowed to the worker that never ran: nothing to draw, so each axis is the least one, 0..1.
      await phone.goto(new URL("/ui/#/metrics", daemon.url).href);
      await phone.locator("#metrics-worker option[value=needs]").waitFor({ state: "attached" });
      await phone.selectOption("#metrics-worker", "needs");
      await expect
        .poll(() => phone.locator("svg.chart .tick text").allTextContents(), { timeout: 20_000 })
        .toEqual(["0", "0.5", "1", "0%", "0.5%", "1%", "0 ms", "0.5 ms", "1 ms"]);
      await phone.screenshot({ path: join(ARTIFACTS, "phone-metrics.png"), fullPage: true });
    } finally {
      await phone.close();
    }
    expect(problems).toEqual([]);
  });
  it("the daemon restarted under an open page: it says it is reconnecting, then asks to log in again, and lands on the same page", async () => {
    const [newest] = await releases("shop");
    const port = Number(new URL(daemon.url).port);
    await page.goto(new URL(`/ui/#/releases/${newest!.id}`, daemon.url).href);
    await page.locator(".release-phase").waitFor();
    await page.locator('header .live[data-state="live"]').waitFor();
    await daemon.close();
    // The browser's own "WebSocket connection … failed" lines while the daemon is away are expected.
    problems.length = 0;
    await page.locator('header .live[data-state="retrying"]').waitFor({ timeout: 10_000 });
    daemon = await startDaemon({
      dataDir: join(dir, "data"),
      configFile: join(dir, "orchestrator.yaml"),
      edge: t.edge,
      masterKeyFile: join(dir, "master.key"),
      env: {},
      port,
      monitorIntervalMs: 60_000,
      log: () => {},
    });
    // Sessions live in the daemon's memory: the new one knows none, so the page asks to log in.
    await expect.poll(() => page.locator("main.login [role=alert]").textContent(), { timeout: 20_000 }).toMatch(/session has ended/);
    expect(page.url()).toContain(`#/releases/${newest!.id}`);
    await page.fill("#token", adminToken);
    await page.click("button[type=submit]");
    await expect.poll(() => page.locator(".release-phase").textContent(), { timeout: 10_000 }).toBe("succeeded");
    await page.locator('header .live[data-state="live"]').waitFor();
    expect(problems.filter((p) => !/WebSocket connection to .* failed|HTTP 401/.test(p))).toEqual([]);
  });
});
