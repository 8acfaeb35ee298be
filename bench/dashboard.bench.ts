// The dashboard in real Chromium (Debian's, through playwright-core) against a real daemon on a
// three-region local edge holding 50 Workers in each region (150 Worker/target pairs).
//
// The fleet is SEEDED, not released: each tiny Worker is uploaded straight to each region through
// the edge's Cloudflare API (one PUT script per Worker and region, deployed at 100%), each version
// is recorded in the daemon's catalog as a release would record it (so a failing probe means
// "unhealthy", not "never deployed here"), and the daemon's spec lists all 50. Releasing 150
// versions through the gated engine would take minutes and measure the engine; the picture only
// needs Workers that exist, serve and are probed. The daemon's monitor probes them all (health),
// /v1/status reads their live versions from the edge.
//
//   dashboard.first_render_ms       time from navigation start until the architecture view has
//                                   drawn all 150 Workers (the page's own performance mark), median
//                                   of warm loads; the first, cold load (the daemon bundles the
//                                   page's script, /v1/status reads 150 deployments) is reported too
//   dashboard.event_to_screen_p95_ms each health.changed event from its append in the daemon (the
//                                   monitor's call, before the store's listeners run) until the page's
//                                   DOM shows it (a MutationObserver in the page): both stamped with
//                                   performance.timeOrigin + performance.now(), the same wall clock,
//                                   with the page's offset from the daemon's measured NTP-style
//                                   (midpoint of the tightest of 20 round trips) and taken out.
//                                   Real changes: an outage injected into a region turns its 50
//                                   Workers unhealthy, clearing it turns them back, region by region.
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { startDaemon, type Daemon } from "../src/daemon.ts";
import type { LocalEdge } from "../src/local-edge/types.ts";
import { generateKeyFile } from "../src/vault/index.ts";
import { launchChromium } from "../test/support/browser-page.ts";
import { benchWorkerSource, fleetSpec, localRuntimes, REGIONS, sharedReleaseEdge, tempDir, writeSource } from "./release-support.ts";
import { atMost, info, median, percentile, round, type BenchContext, type Benchmark } from "./types.ts";

const WORKERS = 50;
const WARM_LOADS = 5;

type Fleet = { edge: LocalEdge; daemon: Daemon; browser: Browser; cookie: { name: string; value: string }; names: string[] };

const wall = () => performance.timeOrigin + performance.now();

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function fleet(ctx: BenchContext): Promise<Fleet> {
  return ctx.shared(
    "dashboard-fleet",
    async () => {
      const edge = await sharedReleaseEdge(ctx);
      const dir = await tempDir("dashboard");
      const names = Array.from({ length: WORKERS }, (_, i) => `dash-${String(i).padStart(2, "0")}`);
      await fleetSpec(dir, names, { steps: [100], gate: { probe_path: "/" } });
      const source = benchWorkerSource("seeded");
      for (const n of names) await writeSource(dir, n, source);
      const started = performance.now();
      const runtimes = localRuntimes(edge);
      const uploaded: Array<{ worker: string; target: string; versionId: string }> = [];
      await Promise.all(
        [...runtimes.values()].map(async (rt) => {
          for (const n of names) {
            const put = await rt.client.uploadScript(n, {
              mainModule: "index.js",
              modules: [{ name: "index.js", content: source }],
              compatibilityDate: "2025-01-01",
            });
            uploaded.push({ worker: n, target: rt.name, versionId: put.deployment_id! });
          }
        }),
      );
      ctx.log(
        `seeded ${names.length} workers x ${REGIONS.length} regions through the edge API in ${(performance.now() - started).toFixed(0)} ms`,
      );
      const keyFile = join(dir, "master.key");
      generateKeyFile(keyFile);
      const daemon = await startDaemon({
        dataDir: join(dir, "data"),
        configFile: join(dir, "orchestrator.yaml"),
        edge,
        masterKeyFile: keyFile,
        env: {},
        port: 0,
        monitorIntervalMs: 1_000,
        log: () => {},
      });
      for (const u of uploaded)
        daemon.store.catalog.recordVersion({
          tenant: daemon.spec.tenant,
          worker: u.worker,
          target: u.target,
          version_id: u.versionId,
          release_id: null,
          bundle_hash: null,
          secrets: null,
        });
      const healthy = () => daemon.store.health.list(daemon.spec.tenant).filter((h) => h.status === "healthy").length;
      await until(() => healthy() === names.length * REGIONS.length, 60_000, "every seeded worker healthy");
      const res = await fetch(new URL("/ui/login", daemon.url), {
        method: "POST",
        headers: { "content-type": "application/json", origin: daemon.url },
        body: JSON.stringify({ token: daemon.initialAdminToken }),
      });
      if (!res.ok) throw new Error(`login: HTTP ${res.status} ${await res.text()}`);
      const [name, value] = (res.headers.get("set-cookie") ?? "").split(";")[0]!.split("=") as [string, string];
      const browser = await launchChromium();
      return { edge, daemon, browser, cookie: { name, value }, names, dir };
    },
    async (f) => {
      await f.browser.close();
      await f.daemon.close();
      const { rm } = await import("node:fs/promises");
      await rm((f as Fleet & { dir: string }).dir, { recursive: true, force: true });
    },
  );
}

async function openPage(f: Fleet): Promise<Page> {
  const context = await f.browser.newContext({ viewport: { width: 1400, height: 900 } });
  await context.addCookies([{ name: f.cookie.name, value: f.cookie.value, url: f.daemon.url }]);
  return context.newPage();
}

/** Loads the architecture view; ms from navigation start to the page's "all drawn" mark. */
async function loadArchitecture(page: Page, f: Fleet): Promise<number> {
  await page.goto("about:blank"); // a new document each time (the same URL would only move the hash)
  await page.goto(new URL("/ui/#/architecture", f.daemon.url).href);
  const expected = f.names.length * REGIONS.length;
  await page.waitForFunction(
    (n) =>
      (globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }).document.querySelectorAll("g.worker")
        .length === n,
    expected,
    { timeout: 60_000 },
  );
  return page.evaluate(() => performance.getEntriesByName("cbo:architecture:rendered")[0]!.startTime);
}

async function firstRender(ctx: BenchContext) {
  const f = await fleet(ctx);
  const page = await openPage(f);
  try {
    const cold = await loadArchitecture(page, f);
    const warm: number[] = [];
    for (let i = 0; i < WARM_LOADS; i++) warm.push(await loadArchitecture(page, f));
    ctx.log(`first render: cold ${cold.toFixed(0)} ms, warm ${warm.map((w) => w.toFixed(0)).join(", ")} ms`);
    const workers = f.names.length * REGIONS.length;
    return [
      atMost("dashboard.first_render_ms", median(warm), "ms", 1_000, {
        samples: warm.map((w) => round(w, 1)),
        workers,
        seeded: "edge API uploads, not engine releases",
      }),
      info("dashboard.first_render_cold_ms", cold, "ms", {
        workers,
        note: "first load after daemon start: script bundled on demand, 150 deployments read",
      }),
    ];
  } finally {
    await page.context().close();
  }
}

type Stamp = { key: string; health: string; t: number };

/** How far the page's clock is ahead of ours (ms), and within how much: the tightest of n round trips. */
async function clockOffset(page: Page, n = 20): Promise<{ offset: number; within: number }> {
  let best = { offset: 0, within: Infinity };
  for (let i = 0; i < n; i++) {
    const t0 = wall();
    const p = await page.evaluate(() => performance.timeOrigin + performance.now());
    const t1 = wall();
    if ((t1 - t0) / 2 < best.within) best = { offset: p - (t0 + t1) / 2, within: (t1 - t0) / 2 };
  }
  return best;
}

async function eventToScreen(ctx: BenchContext) {
  const f = await fleet(ctx);
  const page = await openPage(f);
  const emitted: Stamp[] = [];
  // Stamped as the monitor calls append, before the store's listeners (the event stream's
  // fan-out among them) run: the time the event is emitted, not after it went out.
  const events = f.daemon.store.events;
  const append = events.append;
  events.append = (e) => {
    const t = wall();
    const stored = append(e);
    if (stored.type === "health.changed") emitted.push({ key: `${stored.worker}@${stored.target}`, health: String(stored.data.to), t });
    return stored;
  };
  const off = () => void (events.append = append);
  try {
    await loadArchitecture(page, f);
    await page.waitForSelector(".live[data-state=live]");
    // Every data-health change, stamped on the same wall clock as the daemon's.
    await page.evaluate(() => {
      type Records = Array<{ target: unknown }>;
      const w = globalThis as unknown as {
        __seen: Array<{ key: string; health: string; t: number }>;
        document: { querySelector(s: string): unknown };
        MutationObserver: new (fn: (records: Records) => void) => { observe(el: unknown, o: object): void };
      };
      w.__seen = [];
      new w.MutationObserver((records) => {
        const t = performance.timeOrigin + performance.now();
        for (const r of records) {
          const el = r.target as unknown as { getAttribute(n: string): string | null };
          w.__seen.push({
            key: `${el.getAttribute("data-worker")}@${el.getAttribute("data-target")}`,
            health: el.getAttribute("data-health") ?? "",
            t,
          });
        }
      }).observe(w.document.querySelector(".arch-picture"), { subtree: true, attributes: true, attributeFilter: ["data-health"] });
    });
    const shown = (health: string, region: string) =>
      page.evaluate(
        ([h, r]) =>
          (globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }).document.querySelectorAll(
            `g.worker[data-target="${r}"][data-health="${h}"]`,
          ).length,
        [health, region] as const,
      );
    for (const region of REGIONS) {
      await f.edge.setFault(region, { outage: true });
      await until(async () => (await shown("unhealthy", region)) === f.names.length, 30_000, `${region} red`);
      await f.edge.setFault(region, null);
      await until(async () => (await shown("healthy", region)) === f.names.length, 30_000, `${region} green`);
    }
    const clock = await clockOffset(page);
    const seen = (await page.evaluate(() => (globalThis as unknown as { __seen: Stamp[] }).__seen)).map((x) => ({
      ...x,
      t: x.t - clock.offset,
    }));
    // Each event against the first DOM change to the same state of the same Worker after it
    // (within the clock's uncertainty).
    const latencies: number[] = [];
    let unmatched = 0;
    for (const e of emitted) {
      const s = seen.find((x) => x.key === e.key && x.health === e.health && x.t >= e.t - clock.within);
      if (s) latencies.push(s.t - e.t);
      else unmatched++;
    }
    ctx.log(`page clock ${clock.offset.toFixed(2)} ms ahead of the daemon's (within ±${clock.within.toFixed(2)} ms)`);
    ctx.log(
      `event to screen: ${latencies.length} events matched (${unmatched} not), median ${median(latencies).toFixed(2)} ms, max ${Math.max(...latencies).toFixed(1)} ms`,
    );
    return [
      atMost("dashboard.event_to_screen_p95_ms", percentile(latencies, 95), "ms", 500, {
        samples: latencies.length,
        unmatched,
        median_ms: round(median(latencies), 2),
        max_ms: round(Math.max(...latencies), 1),
        workers: f.names.length * REGIONS.length,
        clock_offset_ms: round(clock.offset, 2),
        clock_uncertainty_ms: round(clock.within, 2),
        how: "outage injected per region (50 health.changed at once), then cleared; append time in the daemon vs MutationObserver time in the page",
      }),
    ];
  } finally {
    off();
    await page.context().close();
  }
}

export const benchmarks: Benchmark[] = [
  { name: "dashboard.first_render", run: firstRender },
  { name: "dashboard.event_to_screen", run: eventToScreen },
];
