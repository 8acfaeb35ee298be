// The dashboard in real Chromium when the daemon fails it: a 500 (not JSON) or a 429 (the daemon's
// JSON error) or a slow answer, the daemon answering nothing on first load, the daemon stopped
// while a page is open and started again (which ends every session: they live in its memory). Each
// time the page says what is wrong in words (never blank, never raw JSON, never undefined, NaN or
// [object Object]) and recovers once the daemon answers again. The real daemon (startDaemon) runs
// a spec with one local target and no workers, so nothing calls the edge: its address book is a
// stand-in. The 500, 429 and slow answers are Playwright's request interception standing in for a
// daemon fault that cannot be provoked on demand; the stopped daemon is the real one stopped.
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Browser, Page, WebSocketRoute } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDaemon, type Daemon } from "../src/daemon.ts";
import { launchChromium, LANDED, watchProblems } from "./support/browser-page.ts";
import { makeTempDir } from "./support/edge.ts";
// With no workers nothing ever calls the edge.
import { UNREACHABLE_EDGE as EDGE } from "./support/daemon-rig.ts";

const SPEC = "version: 1\ntargets:\n  - { name: eu, api: local }\n";
const RELEASES = /\/v1\/releases(\?|$)/;
const BROKEN = /undefined|NaN|\[object Object\]|\{"error"/;

describe("the dashboard under a failing daemon", () => {
  let dir: string;
  let daemon: Daemon;
  let port = 0;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  const streams: WebSocketRoute[] = [];
  const masterKey = randomBytes(32).toString("base64");
  const start = async () => {
    daemon = await startDaemon({
      dataDir: join(dir, "data"),
      configFile: join(dir, "orchestrator.yaml"),
      edge: EDGE,
      port,
      env: { CBO_MASTER_KEY: masterKey },
      log: () => {},
    });
    port = Number(new URL(daemon.url).port);
  };
  const admin = () => readFileSync(join(dir, "data", "admin-token"), "utf8").trim();
  const text = async () => (await page.locator("body").textContent()) ?? "";
  const logIn = async (landed = LANDED) => {
    await page.fill("#token", admin());
    await page.click("button[type=submit]");
    await page.locator(landed).waitFor();
  };

  beforeAll(async () => {
    dir = await makeTempDir("dashboard-failing");
    writeFileSync(join(dir, "orchestrator.yaml"), SPEC);
    await start();
    browser = await launchChromium();
    page = await (await browser.newContext()).newPage();
    // The event stream passes through Playwright (to the real daemon) so that the test can drop it.
    await page.routeWebSocket(/\/v1\/events\/stream/, (ws) => {
      ws.connectToServer();
      streams.push(ws);
    });
    // The failures below are provoked; the browser's own words for a refused WebSocket are not the page's.
    // 401: the session that ended with the daemon's restart.
    watchProblems(page, problems, { allowed: [401, 429, 500] });
  });
  afterAll(async () => {
    await browser?.close();
    await daemon?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("says so when the daemon cannot tell who this is on first load, and goes on once it can", async () => {
    await page.route("**/ui/session", (r) => r.fulfill({ status: 500, contentType: "text/plain", body: "Internal Server Error" }));
    await page.goto(new URL("/ui/", daemon.url).href);
    const error = page.locator("[data-boot-error]");
    await error.waitFor();
    expect(await error.textContent()).toMatch(/answered HTTP 500 .*Trying again/);
    expect(await error.getAttribute("role")).toBe("alert");
    await page.route("**/v1/openapi.json", (r) => r.fulfill({ status: 429, contentType: "text/plain", body: "slow down" }));
    await page.unroute("**/ui/session");
    await expect.poll(() => error.textContent(), { timeout: 10_000 }).toMatch(/answered HTTP 429 when asked what it offers\. Trying again/);
    await page.unroute("**/v1/openapi.json");
    await page.locator("#token").waitFor({ timeout: 10_000 });
    await logIn();
    // What the daemon offers was asked again too: its optional pages are there.
    expect(await page.locator("nav a[data-nav=metrics]").count()).toBe(1);
    expect(await text()).not.toMatch(BROKEN);
  });

  it("a 500, a 429 and a slow answer: a message in words, then the page again", async () => {
    await page.route(RELEASES, (r) => r.fulfill({ status: 500, contentType: "text/html", body: "<h1>Internal Server Error</h1>" }));
    await page.click("nav a[data-nav=releases]");
    const alert = page.locator(".releases-list [role=alert]");
    await expect.poll(() => alert.textContent()).toBe("ERR_INTERNAL: The daemon answered HTTP 500.");

    await page.unroute(RELEASES);
    const limited = { error: { code: "ERR_RATE_LIMITED", message: "Too many requests from this token; try again in 3 s." } };
    await page.route(RELEASES, (r) => r.fulfill({ status: 429, contentType: "application/json", body: JSON.stringify(limited) }));
    await page.click("nav a[data-nav=releases]"); // the page shown, clicked again: it loads again
    await expect.poll(() => alert.textContent()).toBe("ERR_RATE_LIMITED: Too many requests from this token; try again in 3 s.");
    expect(await text()).not.toMatch(BROKEN);

    await page.unroute(RELEASES);
    await page.route(RELEASES, async (r) => {
      await new Promise((done) => setTimeout(done, 1_500));
      await r.continue();
    });
    await page.click("nav a[data-nav=releases]");
    await page.locator(".releases-list", { hasText: "Loading…" }).waitFor();
    await page.locator(".releases-list", { hasText: "No releases yet." }).waitFor({ timeout: 10_000 });
    await page.unroute(RELEASES);
    expect(await text()).not.toMatch(BROKEN);
  });

  it("every page, with every API answer a 500: says so in words on each, and loads again once the daemon answers", async () => {
    const api = /\/v1\/(?!events\/stream)/;
    await page.route(api, (r) => r.fulfill({ status: 500, contentType: "text/plain", body: "Internal Server Error" }));
    const pages = ["architecture", "releases", "metrics", "logs", "config", "d1", "secrets", "audit", "setup"];
    for (const name of pages) {
      await page.click(`nav a[data-nav=${name}]`);
      const main = page.locator(`main [data-page=${name}]`);
      await main.locator("[role=alert]").first().waitFor({ timeout: 5_000 });
      const shown = (await main.textContent()) ?? "";
      expect(shown, name).toContain("The daemon answered HTTP 500.");
      expect(shown, name).not.toMatch(BROKEN);
      expect(shown, name).not.toContain("Internal Server Error"); // the body is not the page's to show
    }
    await page.unroute(api);
    await page.click("nav a[data-nav=setup]"); // the page shown, clicked again
    await expect.poll(() => page.locator("main [data-page=setup] [role=alert]").count()).toBe(0);
    expect(await text()).not.toMatch(BROKEN);
  });

  it("the daemon stopped while a page is open: the page says it is not answering; started again: log in, and on", async () => {
    await page.locator(".live[data-state=live]").waitFor({ timeout: 10_000 });
    await daemon.close();
    await page.locator(".live[data-state=retrying]").waitFor({ timeout: 10_000 });
    await page.click("nav a[data-nav=audit]");
    const alert = page.locator("[data-page=audit] [role=alert]");
    await expect
      .poll(() => alert.textContent(), { timeout: 10_000 })
      .toMatch(/^ERR_IO: The daemon at http:\/\/127\.0\.0\.1:\d+ is not answering\.$/);
    expect(await text()).not.toMatch(BROKEN);

    await start(); // the same port and data; sessions lived in the old process's memory
    await page.locator("#token").waitFor({ timeout: 15_000 });
    expect(await page.locator("form [role=alert]").textContent()).toBe("Your session has ended; log in again.");
    // Stopped again before the login: the form says the daemon is not answering, in words.
    await daemon.close();
    await page.fill("#token", admin());
    await page.click("button[type=submit]");
    await expect
      .poll(() => page.locator("form [role=alert]").textContent())
      .toMatch(/^Login failed: the orchestrator daemon at 127\.0\.0\.1:\d+ is not answering\. Try again once it is back\.$/);
    await start();
    await logIn("nav a[data-nav=audit][aria-current=page]"); // back on the page it was on
    await page.locator("[data-page=audit] table[data-table=audit]").waitFor({ timeout: 10_000 });
    await page.locator(".live[data-state=live]").waitFor({ timeout: 10_000 });
  });

  it("the network gone while a page is open: the page says so, and loads again by itself once it is back", async () => {
    await page.click("nav a[data-nav=releases]");
    await page.locator(".releases-list", { hasText: "No releases yet." }).waitFor();
    await page.context().setOffline(true);
    for (const ws of streams.splice(0)) await ws.close({ code: 1001, reason: "dropped" }); // an open socket outlives "offline"
    await page.locator(".live[data-state=retrying]").waitFor({ timeout: 10_000 });
    await page.click("nav a[data-nav=releases]");
    const alert = page.locator(".releases-list [role=alert]");
    await expect.poll(() => alert.textContent(), { timeout: 10_000 }).toMatch(/is not answering\.$/);
    await page.context().setOffline(false);
    await page.locator(".live[data-state=live]").waitFor({ timeout: 15_000 });
    await page.locator(".releases-list", { hasText: "No releases yet." }).waitFor({ timeout: 5_000 });
    expect(await text()).not.toMatch(BROKEN);
    const rest = problems.filter((p) => !/WebSocket connection to .* failed/.test(p));
    expect(rest).toEqual([]);
  });
});
