// The issue's release figures, on a three-region local edge (eu, us, ap):
//   (a) release.parallel_vs_wrangler_ratio        one Worker to 3 regions vs 3 sequential `wrangler deploy`
//   (b) release.rollback_after_failed_gate_p95_s  failed gate -> every region serves the previous version
//   (c) release.fleet_under_ratelimit             a fleet released while the edge rate-limits the API
//   (e) release.daemon_idle_rss_mib               idle `cbo daemon` memory on the released example fleet
// (d), the WebSocket fan-out, belongs to the API's benchmarks.
// Each uses the release engine (src/deploy/index.ts) when it exists; where a figure needs it and
// it is missing, the line says so (value null, `error`) instead of measuring something else.
// Env knobs: BENCH_RATIO_REPS (3), BENCH_ROLLBACK_SAMPLES (20), BENCH_FLEET_WORKERS (50),
// BENCH_VERBOSE (engine log lines on stderr).
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { createRequestBudget } from "../src/cloudflare/index.ts";
import type { ResolvedSpec } from "../src/config/load.ts";
import type { Engine, EngineDeps } from "../src/deploy/types.ts";
import type { TargetRuntime } from "../src/targets/types.ts";
import { isCboError } from "../src/kit/errors.ts";
import { createStore, type Release, type StoredEvent } from "../src/store/index.ts";
import { createWranglerProject, describeRun, type WranglerProject } from "../test/support/wrangler.ts";
import {
  benchWorkerSource,
  fleetSpec,
  loadEngineFactory,
  localRuntimes,
  maxInWindow,
  NO_GATE,
  sharedReleaseEdge,
  tempDir,
  untilServing,
  writeSource,
} from "./release-support.ts";
import { daemonIdleRss } from "./daemon-rss.ts";
import { atMost, median, percentile, round, type Benchmark, type BenchContext, type BenchResult } from "./types.ts";
import { lineLogger, silentLogger } from "../src/telemetry/index.ts";

const envNumber = (name: string, fallback: number): number => {
  const v = process.env[name];
  if (v === undefined || v === "") return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(v)}`);
  return n;
};

const sec = (ms: number) => round(ms / 1000);

/** A line for a figure whose prerequisite is missing: no number rather than a wrong one. */
function unavailable(name: string, unit: string, goal: string, error: string, extra: Record<string, unknown> = {}): BenchResult {
  return { name, value: null as unknown as number, unit, goal, pass: false, error, ...extra };
}

const engineLog = (ctx: BenchContext) =>
  process.env["BENCH_VERBOSE"] ? lineLogger((line: string) => ctx.log(`engine: ${line}`)) : silentLogger;

type CreateEngine = (deps: EngineDeps) => Engine;

/** Engine + its own store file; `close` stops the engine and closes the store. */
function engineFor(createEngine: CreateEngine, dir: string, spec: ResolvedSpec, targets: Map<string, TargetRuntime>, ctx: BenchContext) {
  const store = createStore(join(dir, "state.db"));
  const engine = createEngine({ store, spec: () => spec, targets: () => targets, log: engineLog(ctx) });
  return {
    engine,
    store,
    async close() {
      await engine.close();
      store.close();
    },
  };
}

/** Releases and waits; throws unless the release succeeded. */
async function releaseOk(engine: Engine, worker: string): Promise<Release> {
  const started = await engine.release(worker, { by: "bench" });
  const done = await engine.wait(started.id);
  if (done.status !== "succeeded") throw new Error(`release ${done.id} of ${worker} ended ${done.status}: ${done.reason ?? "no reason"}`);
  return done;
}

// --- (a) ------------------------------------------------------------------------------------------

async function parallelVsWrangler(ctx: BenchContext): Promise<BenchResult[]> {
  const name = "release.parallel_vs_wrangler_ratio";
  const reps = envNumber("BENCH_RATIO_REPS", 3);
  const edge = await sharedReleaseEdge(ctx);
  const dir = await tempDir("ratio");
  try {
    const factory = await loadEngineFactory();
    const ours: number[] = [];
    let via: "engine" | "client";
    const worker = "ratio-ours";
    // Rep 0 creates the script everywhere and warms caches; it is not counted (same for wrangler).
    if ("createEngine" in factory) {
      via = "engine";
      const spec = await fleetSpec(dir, [worker], { waves: [edge.regions.map((r) => r.name)], steps: [100], gate: NO_GATE });
      const e = engineFor(factory.createEngine, dir, spec, localRuntimes(edge, { budget: createRequestBudget() }), ctx);
      try {
        for (let i = 0; i <= reps; i++) {
          const tag = `ours-${i}-${crypto.randomUUID()}`;
          await writeSource(dir, worker, benchWorkerSource(tag));
          const t0 = performance.now();
          await releaseOk(e.engine, worker);
          const ms = performance.now() - t0;
          await untilServing(edge, worker, tag);
          if (i > 0) ours.push(ms);
          ctx.log(`engine release to 3 regions (rep ${i}${i === 0 ? ", warm-up" : ""}): ${ms.toFixed(0)} ms`);
        }
      } finally {
        await e.close();
      }
    } else {
      via = "client";
      ctx.log(`no engine (${factory.missing}): measuring the Cloudflare client deploying to 3 regions in parallel`);
      const targets = [...localRuntimes(edge, { budget: createRequestBudget() }).values()];
      for (let i = 0; i <= reps; i++) {
        const tag = `ours-${i}-${crypto.randomUUID()}`;
        const upload = {
          mainModule: "index.js",
          modules: [{ name: "index.js", content: benchWorkerSource(tag) }],
          compatibilityDate: "2025-01-01",
        };
        const t0 = performance.now();
        await Promise.all(targets.map((t) => t.client.deploy(worker, upload)));
        const ms = performance.now() - t0;
        await untilServing(edge, worker, tag);
        if (i > 0) ours.push(ms);
      }
    }

    const projects: WranglerProject[] = [];
    for (const r of edge.regions) {
      const p = await createWranglerProject(join(dir, `wrangler-${r.name}`), edge, r.accountId);
      await p.writeConfig({ name: "ratio-wrangler", main: "src/index.js", compatibility_date: "2025-01-01" });
      projects.push(p);
    }
    const wrangler: number[] = [];
    const single: number[] = [];
    for (let i = 0; i <= reps; i++) {
      const tag = `wrangler-${i}-${crypto.randomUUID()}`;
      for (const p of projects) await p.writeSource(benchWorkerSource(tag));
      const t0 = performance.now();
      for (const p of projects) {
        const t = performance.now();
        const r = await p.run(["deploy"], { timeoutMs: 120_000 });
        if (r.code !== 0) throw new Error(describeRun(r));
        if (i > 0) single.push(performance.now() - t);
      }
      const ms = performance.now() - t0;
      await untilServing(edge, "ratio-wrangler", tag);
      if (i > 0) wrangler.push(ms);
      ctx.log(`3 sequential wrangler deploys (rep ${i}${i === 0 ? ", warm-up" : ""}): ${ms.toFixed(0)} ms`);
    }

    return [
      atMost(name, median(ours) / median(wrangler), "ratio", 0.5, {
        via,
        reps,
        ours_s: sec(median(ours)),
        ours_samples_s: ours.map(sec),
        wrangler_3_sequential_s: sec(median(wrangler)),
        wrangler_3_sequential_samples_s: wrangler.map(sec),
        wrangler_single_deploy_median_s: sec(median(single)),
        ...(via === "engine" ? { gate: "steps [100], bake_ms 0, min_samples 1, one wave of 3 targets" } : {}),
      }),
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// --- (b) ------------------------------------------------------------------------------------------

async function rollbackAfterFailedGate(ctx: BenchContext): Promise<BenchResult[]> {
  const name = "release.rollback_after_failed_gate_p95_s";
  const goal = "<= 2 s";
  const factory = await loadEngineFactory();
  if (!("createEngine" in factory)) return [unavailable(name, "s", goal, `needs the release engine: ${factory.missing}`)];
  const samples = envNumber("BENCH_ROLLBACK_SAMPLES", 20);
  const edge = await sharedReleaseEdge(ctx);
  const dir = await tempDir("rollback");
  const worker = "rollback-bench";
  const gate = { probe_path: "/", interval_ms: 50, timeout_ms: 1000, failure_limit: 2, max_error_rate: 0.05, bake_ms: 300, min_samples: 3 };
  const spec = await fleetSpec(dir, [worker], { waves: [["eu"], ["us", "ap"]], steps: [10, 50, 100], gate });
  const e = engineFor(factory.createEngine, dir, spec, localRuntimes(edge, { budget: createRequestBudget() }), ctx);
  const seen = new Map<string, Map<string, number>>(); // release id -> event type -> performance.now()
  const uploaded = new Map<string, string>(); // release id -> the new version's id on the canary
  const unsubscribe = e.store.events.subscribe((ev: StoredEvent) => {
    if (!ev.release_id) return;
    if (ev.type === "release.target.uploaded" && ev.target === "eu" && typeof ev.data["versionId"] === "string")
      uploaded.set(ev.release_id, ev.data["versionId"]);
    let m = seen.get(ev.release_id);
    if (!m) seen.set(ev.release_id, (m = new Map()));
    if (!m.has(ev.type)) m.set(ev.type, performance.now());
  });
  const waitFor = async (releaseId: string, type: string, timeoutMs: number): Promise<number> => {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const t = seen.get(releaseId)?.get(type);
      if (t !== undefined) return t;
      if (performance.now() > deadline)
        throw new Error(
          `release ${releaseId}: no ${type} event within ${timeoutMs} ms (saw ${[...(seen.get(releaseId)?.keys() ?? [])].join(", ")})`,
        );
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  try {
    const goodTag = `good-${crypto.randomUUID()}`;
    await writeSource(dir, worker, benchWorkerSource(goodTag));
    await releaseOk(e.engine, worker);
    await untilServing(edge, worker, goodTag);

    const toServing: number[] = [];
    const toRecord: number[] = [];
    const detection: number[] = [];
    for (let i = 0; i < samples; i++) {
      await writeSource(dir, worker, benchWorkerSource(`bad-${i}`, { bad: true }));
      const started = await e.engine.release(worker, { by: "bench" });
      const failedAt = await waitFor(started.id, "release.step.failed", 60_000);
      const badId = uploaded.get(started.id);
      if (badId === undefined) throw new Error(`release ${started.id}: no release.target.uploaded event for eu`);
      // Pinned to the bad version: a region answers the good tag only once the bad version is no
      // longer in its live deployment (the override is ignored for versions not live).
      const servingAt = await untilServing(edge, worker, goodTag, { pin: badId, timeoutMs: 30_000, pollMs: 5 });
      const done = await e.engine.wait(started.id);
      if (done.status !== "rolled_back")
        throw new Error(`bad release ${done.id} ended ${done.status}, want rolled_back: ${done.reason ?? ""}`);
      // The sample counts only if the bad version really took traffic on the canary before its
      // gate failed, and the other regions were never touched.
      const journal = e.store.releases.entries(started.id);
      const deployed = journal.some((j) => j.kind === "step.deployed" && j.target === "eu" && j.data["versionId"] === badId);
      const elsewhere = journal.filter((j) => j.kind === "uploaded" && j.target !== "eu").map((j) => j.target);
      if (!deployed || elsewhere.length > 0)
        throw new Error(
          `release ${started.id}: bad version live on eu: ${deployed}; uploaded elsewhere: ${elsewhere.join(", ") || "none"}`,
        );
      const recordedAt = seen.get(started.id)?.get("release.rolled_back");
      toServing.push(servingAt - failedAt);
      if (recordedAt !== undefined) toRecord.push(recordedAt - failedAt);
      const stepStartedAt = seen.get(started.id)?.get("release.step.started");
      if (stepStartedAt !== undefined) detection.push(failedAt - stepStartedAt);
      ctx.log(`sample ${i}: failed gate -> all regions serve the previous version in ${(servingAt - failedAt).toFixed(0)} ms`);
    }
    return [
      atMost(name, percentile(toServing, 95) / 1000, "s", 2, {
        samples,
        median_s: sec(median(toServing)),
        max_s: sec(Math.max(...toServing)),
        // From release.step.failed to release.rolled_back being recorded (engine's own view).
        to_rolled_back_event_p95_s: toRecord.length > 0 ? sec(percentile(toRecord, 95)) : null,
        // Not part of the figure: from the bad version taking 10% on the canary to its gate failing.
        gate_detection_median_s: detection.length > 0 ? sec(median(detection)) : null,
        gate: `probe every ${gate.interval_ms} ms, failure_limit ${gate.failure_limit}`,
        steps: [10, 50, 100],
        waves: [["eu"], ["us", "ap"]],
      }),
    ];
  } finally {
    unsubscribe();
    await e.close();
    await rm(dir, { recursive: true, force: true });
  }
}

// --- (c) ------------------------------------------------------------------------------------------

/** Per region account. BENCH_FLEET_EDGE_LIMIT lowers it to make the edge refuse and retries show. */
const edgeLimit = () => ({ limit: envNumber("BENCH_FLEET_EDGE_LIMIT", 300), windowSec: 60 });
const BUDGET = { limit: 280, windowMs: 60_000 };
/** Keep the run within about 3 minutes: the budget lets 4 windows' worth start by then. */
const MAX_REQUESTS = BUDGET.limit * 4 - 40;

async function fleetUnderRateLimit(ctx: BenchContext): Promise<BenchResult[]> {
  const name = "release.fleet_under_ratelimit";
  const goal = `all released, 0 429s to callers, <= ${BUDGET.limit} requests per ${BUDGET.windowMs / 1000} s`;
  const edge = await sharedReleaseEdge(ctx);
  const EDGE_LIMIT = edgeLimit();
  const dir = await tempDir("fleet");
  const budget = createRequestBudget(BUDGET);
  const starts: number[] = [];
  let edge429 = 0;
  const targets = localRuntimes(edge, {
    budget,
    onRequest: (r) => void starts.push(r.startedAt),
    fetch: async (input, init) => {
      const res = await fetch(input, init);
      if (res.status === 429) edge429++;
      return res;
    },
  });
  const factory = await loadEngineFactory();
  const via = "createEngine" in factory ? "engine" : "client";
  const requested = envNumber("BENCH_FLEET_WORKERS", 50);
  const explicit = process.env["BENCH_FLEET_WORKERS"] !== undefined;
  const names = (n: number) => Array.from({ length: n }, (_, i) => `fleet-${String(i + 1).padStart(3, "0")}`);
  const e =
    "createEngine" in factory
      ? engineFor(
          factory.createEngine,
          dir,
          await fleetSpec(dir, names(requested), { waves: [edge.regions.map((r) => r.name)], steps: [100], gate: NO_GATE }),
          targets,
          ctx,
        )
      : undefined;
  try {
    // Requests per Worker (3 regions), to size the run before starting it.
    let perWorker: number;
    if (e) {
      await writeSource(dir, names(1)[0]!, benchWorkerSource("sizing"));
      // The plan counts the release's own reads of the edge too (retries excluded).
      perWorker = (await e.engine.plan(names(1)[0]!)).apiCalls;
    } else {
      // A new script per region: version upload refused (no script), PUT, list deployments.
      perWorker = 3 * edge.regions.length;
    }
    const fits = Math.max(1, Math.floor((MAX_REQUESTS - starts.length) / perWorker));
    const workers = explicit ? requested : Math.min(requested, fits);
    const expectedRequests = workers * perWorker;
    const expectedS = Math.floor(Math.max(0, expectedRequests + starts.length - 1) / BUDGET.limit) * (BUDGET.windowMs / 1000);
    ctx.log(
      `${via}: ${workers} Workers x ${edge.regions.length} regions, ~${perWorker} requests per Worker -> ~${expectedRequests} requests, expected >= ${expectedS} s at ${BUDGET.limit}/min`,
    );
    if (workers < requested)
      ctx.log(`scaled down from ${requested} to ${workers} Workers to stay near 3 minutes (set BENCH_FLEET_WORKERS=${requested} to force)`);

    const fleet = names(workers);
    const tags = new Map(fleet.map((w) => [w, `${w}-${crypto.randomUUID()}`]));
    for (const w of fleet) await writeSource(dir, w, benchWorkerSource(tags.get(w)!));
    const edgeCountBefore = new Map(edge.regions.map((r) => [r.name, edge.apiRequestCount(r.accountId)]));
    for (const r of edge.regions) await edge.setFault(r.name, { rateLimit: EDGE_LIMIT });
    const startsBefore = starts.length;
    const failures: string[] = [];
    let reached429 = 0;
    const noteFailure = (what: string, err: unknown) => {
      const text = err instanceof Error ? `${isCboError(err) ? `${err.code}: ` : ""}${err.message}` : String(err);
      if (/429|ERR_CF_RATE_LIMITED|rate.?limit/i.test(text)) reached429++;
      failures.push(`${what}: ${text.slice(0, 300)}`);
    };

    const t0 = performance.now();
    try {
      if (e) {
        await Promise.all(
          fleet.map(async (w) => {
            try {
              const started = await e.engine.release(w, { by: "bench" });
              const done = await e.engine.wait(started.id);
              if (done.status !== "succeeded") noteFailure(`${w} ${done.status}`, new Error(done.reason ?? "no reason"));
            } catch (err) {
              noteFailure(w, err);
            }
          }),
        );
      } else {
        await Promise.all(
          fleet.flatMap((w) =>
            [...targets.values()].map((t) =>
              t.client
                .deploy(w, {
                  mainModule: "index.js",
                  modules: [{ name: "index.js", content: benchWorkerSource(tags.get(w)!) }],
                  compatibilityDate: "2025-01-01",
                })
                .catch((err: unknown) => noteFailure(`${w}@${t.name}`, err)),
            ),
          ),
        );
      }
    } finally {
      for (const r of edge.regions) await edge.setFault(r.name, null);
    }
    const totalMs = performance.now() - t0;

    // Released = every region serves the Worker's new tag.
    let released = 0;
    for (const w of fleet) {
      try {
        await untilServing(edge, w, tags.get(w)!, { timeoutMs: 5_000 });
        released++;
      } catch (err) {
        failures.push(`${w} not serving: ${(err as Error).message}`);
      }
    }
    const maxWindow = maxInWindow(starts, BUDGET.windowMs);
    const edgeReceived = Object.fromEntries(
      edge.regions.map((r) => [r.name, edge.apiRequestCount(r.accountId) - edgeCountBefore.get(r.name)!]),
    );
    const pass = released === workers && reached429 === 0 && failures.length === 0 && maxWindow <= BUDGET.limit;
    if (failures.length > 0) ctx.log(`failures:\n  ${failures.slice(0, 20).join("\n  ")}`);
    return [
      {
        name,
        value: sec(totalMs),
        unit: "s",
        goal,
        pass,
        via,
        workers,
        ...(workers < requested
          ? {
              scaled_down_from: requested,
              why: `~${requested * perWorker} requests would take ${Math.floor((requested * perWorker) / BUDGET.limit)}+ min at ${BUDGET.limit}/min`,
            }
          : {}),
        regions: edge.regions.length,
        released,
        failures: failures.length,
        requests: starts.length - startsBefore,
        requests_per_worker_estimated: perWorker,
        requests_per_worker_actual: round((starts.length - startsBefore) / workers, 1),
        edge_received: edgeReceived,
        edge_429s_sent: edge429,
        "429s_to_callers": reached429,
        max_requests_in_60s: maxWindow,
        budget: `${BUDGET.limit} per ${BUDGET.windowMs / 1000} s (one token, all targets)`,
        edge_rate_limit: `${EDGE_LIMIT.limit} per ${EDGE_LIMIT.windowSec} s per region account`,
        // The edge counts per region account while the budget counts per token (all regions), so
        // with 3 regions each account sees about a third of the fleet's requests.
        max_edge_requests_per_region: Math.max(...Object.values(edgeReceived)),
      },
    ];
  } finally {
    await e?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

// --- (e) ------------------------------------------------------------------------------------------
// In bench/daemon-rss.ts: the real `cbo daemon` process idling on the released example fleet.

export const benchmarks: Benchmark[] = [
  { name: "release.parallel_vs_wrangler_ratio", run: parallelVsWrangler },
  { name: "release.rollback_after_failed_gate_p95_s", run: rollbackAfterFailedGate },
  { name: "release.fleet_under_ratelimit", run: fleetUnderRateLimit },
  { name: "release.daemon_idle_rss_mib", run: daemonIdleRss },
];
