// The dashboard's metrics page and live log view in real Chromium (Debian's, through
// playwright-core) against a real daemon on a real three-region local edge:
//   - after traffic, the metrics page's charts have a line per worker and region with points, and
//     a new request moves the requests line (read again every few seconds);
//   - the log view shows a new line from any region live, and its filters (worker, status, text)
//     keep only what they ask for;
//   - no CSP violation on the way. Screenshots are kept under test-artifacts/dashboard-observe/.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Daemon } from "../src/daemon.ts";
import { launchChromium, logIn, watchProblems } from "./support/browser-page.ts";
import { startDaemonIn } from "./support/daemon-rig.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { httpGet } from "./support/http.ts";
import { ALL_AT_ONCE, fleetYaml } from "./support/orchestrator.ts";

const ARTIFACTS = fileURLToPath(new URL("../test-artifacts/dashboard-observe/", import.meta.url));
const REGIONS = ["eu", "us", "ap"];
const CODE = `export default {
  async fetch(req) {
    const u = new URL(req.url);
    console.log("order", u.searchParams.get("m"));
    if (u.pathname === "/boom") throw new Error("payment failed " + u.searchParams.get("m"));
    return new Response("ok");
  },
};
`;
const SPEC = fleetYaml({
  regions: REGIONS,
  ...ALL_AT_ONCE,
  workers: ["shop", "ledger"],
  perWorker: { shop: { main: "w.js" }, ledger: { main: "w.js" } },
  top: { logs: { workers: ["shop"] } },
});

describe("the dashboard's metrics page and live log view in Chromium", () => {
  let t: TestEdge;
  let dir: string;
  let daemon: Daemon;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  const hit = (worker: string, region: string, m: string, path = "/") =>
    httpGet(t.edge.regions.find((r) => r.name === region)!.port, `${worker}.localhost`, { path: `${path}?m=${m}` });
  const line = (metric: string, worker: string, region: string) =>
    page.locator(`svg.chart[data-metric="${metric}"] path.series[data-worker="${worker}"][data-target="${region}"]`);
  const total = async (metric: string, worker: string, region: string) =>
    Number(await line(metric, worker, region).getAttribute("data-total"));

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    t = await startTestEdge({ regions: REGIONS });
    dir = await makeTempDir("dashboard-observe");
    writeFileSync(join(dir, "orchestrator.yaml"), SPEC);
    writeFileSync(join(dir, "w.js"), CODE);
    daemon = await startDaemonIn(dir, t.edge, {
      // Health probes are requests too: rare here, so that the counts are the test's own.
      metricsFreshMs: 500,
      fleetLogs: { reconcileMs: 200, tail: { backoff: { baseMs: 100, maxMs: 500 } } },
    });
    for (const w of ["shop", "ledger"]) {
      const r = await fetch(new URL("/v1/releases", daemon.url), {
        method: "POST",
        headers: { authorization: `Bearer ${daemon.initialAdminToken}`, "content-type": "application/json" },
        body: JSON.stringify({ worker: w }),
      });
      expect((await daemon.engine.wait(((await r.json()) as { id: string }).id)).status).toBe("succeeded");
    }
    for (const region of REGIONS) {
      for (let i = 0; i < 3; i++) await hit("shop", region, `warm-${i}`);
      await hit("shop", region, "warm-boom", "/boom");
      await hit("ledger", region, "warm");
    }
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    page = await context.newPage();
    watchProblems(page, problems);
    await logIn(page, daemon.url, daemon.initialAdminToken!, "nav a[data-nav=metrics]");
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await daemon?.close();
    await t?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("draws live series per worker and region; a new request moves them", async () => {
    await page.click("nav a[data-nav=metrics]");
    for (const region of REGIONS) {
      await expect.poll(() => total("requests", "shop", region), { timeout: 15_000 }).toBeGreaterThanOrEqual(4);
      expect(await total("requests", "ledger", region)).toBeGreaterThanOrEqual(1);
      // Latency and error rate have points only for minutes with requests.
      expect(Number(await line("p99", "shop", region).getAttribute("data-points"))).toBeGreaterThanOrEqual(1);
      expect(Number(await line("error-rate", "shop", region).getAttribute("data-points"))).toBeGreaterThanOrEqual(1);
      expect(await total("error-rate", "shop", region)).toBeGreaterThan(0);
    }
    expect(await page.locator('svg.chart[data-metric="requests"] path.series').count()).toBe(REGIONS.length * 2);
    expect(await page.locator('[data-analytics="ok"]').count()).toBe(REGIONS.length);
    await shot("metrics");
    const before = await total("requests", "shop", "us");
    const euBefore = await total("requests", "shop", "eu");
    const d = (await line("requests", "shop", "us").getAttribute("d"))!;
    for (let i = 0; i < 5; i++) await hit("shop", "us", `more-${i}`);
    await expect.poll(() => total("requests", "shop", "us"), { timeout: 15_000 }).toBeGreaterThanOrEqual(before + 5);
    expect(await line("requests", "shop", "us").getAttribute("d")).not.toBe(d);
    // The other regions' lines did not take those requests.
    expect((await total("requests", "shop", "eu")) - euBefore).toBeLessThan(5);
    // Narrowed to one worker and region.
    await page.selectOption("#metrics-worker", "ledger");
    await page.selectOption("#metrics-target", "ap");
    await expect.poll(() => page.locator('svg.chart[data-metric="requests"] path.series').count(), { timeout: 10_000 }).toBe(1);
    expect(await line("requests", "ledger", "ap").count()).toBe(1);
    await shot("metrics-ledger-ap");
  });

  it("the log view shows a new line from any region live, and filters it", async () => {
    await page.click("nav a[data-nav=logs]");
    await page.locator(".page-logs .live[data-state=live]").waitFor({ timeout: 10_000 });
    // The kept lines of the kept worker come first (what the warm-up requests logged).
    await expect.poll(() => page.locator('li.log-line[data-worker="shop"]').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    const entry = (text: string) => page.locator("li.log-line", { hasText: text });
    await hit("shop", "ap", "live-ap");
    await entry("live-ap").waitFor({ timeout: 10_000 });
    expect(await entry("live-ap").getAttribute("data-target")).toBe("ap");
    expect(await entry("live-ap").textContent()).toContain("order live-ap");

    // A worker whose logs are not kept: choosing it follows it live.
    await page.selectOption("#logs-worker", "ledger");
    await page.locator(".page-logs .live[data-state=live]").waitFor();
    await expect
      .poll(
        async () => {
          await hit("ledger", "eu", "ledger-eu");
          return entry("ledger-eu").count();
        },
        { timeout: 15_000, interval: 300 },
      )
      .toBeGreaterThan(0);
    expect(await page.locator('li.log-line:not([data-worker="ledger"])').count()).toBe(0);

    // Status: only failures.
    await page.selectOption("#logs-worker", "shop");
    await page.selectOption("#logs-status", "error");
    await page.locator(".page-logs .live[data-state=live]").waitFor();
    await hit("shop", "us", "fine-us");
    await hit("shop", "us", "broken-us", "/boom");
    await entry("broken-us").waitFor({ timeout: 10_000 });
    expect(await entry("broken-us").getAttribute("data-verdict")).toBe("error");
    expect(await entry("broken-us").textContent()).toContain("payment failed broken-us");
    expect(await entry("fine-us").count()).toBe(0);
    expect(await page.locator('li.log-line[data-verdict="ok"]').count()).toBe(0);

    // Text: only lines that say it.
    await page.selectOption("#logs-status", "");
    await page.fill("#logs-search", "needle-42");
    await expect.poll(() => page.locator("li.log-line").count(), { timeout: 5_000 }).toBe(0);
    await page.locator(".page-logs .live[data-state=live]").waitFor();
    await hit("shop", "eu", "hay-1");
    await hit("shop", "eu", "needle-42");
    await entry("needle-42").waitFor({ timeout: 10_000 });
    expect(await entry("hay-1").count()).toBe(0);
    await page.fill("#logs-search", "");
    await expect.poll(() => entry("hay-1").count(), { timeout: 10_000 }).toBe(1);
    await shot("logs");
    expect(problems).toEqual([]);
  });
});
