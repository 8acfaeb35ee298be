// The daemon's API. Figure (d) of issue 3: from an event being recorded to 1,000 subscribed
// WebSocket clients receiving it (goal p95 <= 50 ms). The API runs here on a real SQLite store;
// the clients run in a child process (bench/api-ws-clients.ts) so they do not share its event loop.
// Latency per (client, event) = receive time in the child - the time just before the append here,
// both on performance.timeOrigin + performance.now() (the same system clock).
import { fork } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";
import { createApi, startApiServer } from "../src/api/index.ts";
import { openSecurity } from "../src/security/open-security.ts";
import { MasterKey } from "../src/vault/index.ts";
import type { ResolvedSpec } from "../src/config/load.ts";
import type { Engine } from "../src/deploy/types.ts";
import { createStore } from "../src/store/index.ts";
import { atLeast, atMost, info, percentile, round, type Benchmark, type BenchContext, type BenchResult } from "./types.ts";
import { createCboMetrics, createLogger, createTracer, lineLogger, silentLogger } from "../src/telemetry/index.ts";
import { measureLoad, type LoadResult } from "./load.ts";

const CLIENTS = 1_000;
const EVENTS = 50;
const WARMUP_EVENTS = 5;
const SPACING_MS = 50;
/** Rounds of the tracing ratio's rate measurements (each measures off, on and recording). */
const ROUNDS = 5;

/** The stream needs no engine; every call says so rather than pretend. */
const noEngine: Engine = new Proxy({} as Engine, {
  get: (_, method) => () => Promise.reject(new Error(`the api benchmark does not use the engine (${String(method)})`)),
});

const spec: ResolvedSpec = { tenant: "default", file: "bench/orchestrator.yaml", targets: [{ name: "eu", api: "local" }], workers: [] };

async function wsFanout(ctx: BenchContext): Promise<BenchResult[]> {
  const dir = await mkdtemp(join(tmpdir(), "cbo-bench-api-"));
  const store = createStore(join(dir, "orchestrator.sqlite"));
  const security = await openSecurity({
    db: store.db,
    masterKey: new MasterKey(randomBytes(32), "bytes"),
    log: lineLogger((l) => ctx.log(l)),
  });
  // One viewer token on one address opens all 1,000: the per-token and per-address caps (32 and
  // 128 by default) are raised for this measurement of fan-out.
  const api = createApi({
    store,
    engine: noEngine,
    security,
    spec: () => spec,
    log: lineLogger((l) => ctx.log(l)),
    stream: { maxPerPrincipal: CLIENTS, maxPerAddress: CLIENTS },
  });
  const server = await startApiServer({ api });
  const token = store.tokens.create({ name: "bench", role: "viewer" }).token;
  const after = store.events.lastId();
  const child = fork(
    fileURLToPath(new URL("./api-ws-clients.ts", import.meta.url)),
    [JSON.stringify({ url: server.url, clients: CLIENTS, after, events: EVENTS })],
    {
      env: { ...process.env, CBO_BENCH_TOKEN: token },
      // The child's stdout is not ours: result lines only go to our stdout.
      stdio: ["ignore", 2, 2, "ipc"],
    },
  );
  const exited = new Promise<never>((_, reject) =>
    child.once("exit", (code) => reject(new Error(`client process exited early (${code})`))),
  );
  const next = <T>(key: string, timeoutMs: number) =>
    Promise.race([
      exited,
      new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`client process: no ${key} within ${timeoutMs} ms`)), timeoutMs);
        const on = (m: Record<string, unknown>) => {
          if (!(key in m)) return;
          clearTimeout(timer);
          child.off("message", on);
          resolve(m as T);
        };
        child.on("message", on);
      }),
    ]);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  try {
    const started = performance.now();
    await next("ready", 60_000);
    ctx.log(`api.ws_fanout: ${CLIENTS} clients connected in ${(performance.now() - started).toFixed(0)} ms`);
    const complete = next("complete", 30_000 + EVENTS * SPACING_MS);
    // How long the append itself takes: the insert plus handing the event to every socket
    // (the fan-out is synchronous); the rest of the latency is the network and the clients.
    const appendMs: number[] = [];
    for (let seq = -WARMUP_EVENTS; seq < EVENTS; seq++) {
      const t = performance.timeOrigin + performance.now();
      store.events.append({
        type: "health.changed",
        worker: "bench",
        target: "eu",
        data: { seq, t, from: "unknown", to: "healthy", versionId: null, latencyMs: 1, detail: "HTTP 200" },
      });
      if (seq >= 0) appendMs.push(performance.timeOrigin + performance.now() - t);
      await sleep(SPACING_MS);
    }
    let missing = 0;
    await complete.catch((e: Error) => ctx.log(`api.ws_fanout: ${e.message}`));
    const report = next<{ latencies: number[]; perClient: number[] }>("latencies", 30_000);
    child.send({ report: true });
    const { latencies, perClient } = await report;
    missing = perClient.reduce((sum, n) => sum + (EVENTS - n), 0);
    const p95 = percentile(latencies, 95);
    const result = atMost("api.ws_fanout_p95_ms", p95, "ms", 50, {
      clients: CLIENTS,
      events: EVENTS,
      samples: latencies.length,
      missing,
      p50: round(percentile(latencies, 50)),
      p99: round(percentile(latencies, 99)),
      max: round(Math.max(...latencies)),
      min: round(Math.min(...latencies)),
      appendAndFanoutP50: round(percentile(appendMs, 50)),
      appendAndFanoutMax: round(Math.max(...appendMs)),
    });
    return [{ ...result, pass: result.pass && missing === 0 }];
  } finally {
    if (child.exitCode === null) child.kill();
    exited.catch(() => {});
    await server.close();
    await security.stop();
    store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The API's request rate with tracing on over off (issue 16; goal >= 0.9): GET /v1/workers with a
 * viewer token, through the whole middleware (host check, auth, the access log at info to a sink
 * that drops lines, counters), loaded by autocannon in a child process. "off": no tracer (no span,
 * no traceparent); "on": the daemon's default without an OTLP endpoint (a span's ids and context
 * per request, nothing recorded); "recording": every span recorded and handed to an exporter that
 * keeps a count (the cost of export minus the network). Five rounds measure the three one after
 * the other (the order reversed every other round); a ratio is the median of its rounds' ratios, so
 * that a burst of load from elsewhere on a shared machine, which moves neighbouring measurements
 * together, cancels out rather than picking the winner. Beside the rates, each variant's CPU time
 * per request in process (cpuPerRequest), steadier still on a loaded machine.
 */
async function tracingRatio(ctx: BenchContext): Promise<BenchResult[]> {
  const dir = await mkdtemp(join(tmpdir(), "cbo-bench-api-rps-"));
  const store = createStore(join(dir, "orchestrator.sqlite"));
  const security = await openSecurity({ db: store.db, masterKey: new MasterKey(randomBytes(32), "bytes"), log: silentLogger });
  const token = store.tokens.create({ name: "bench", role: "viewer" }).token;
  let exported = 0;
  const counting = { export: () => void exported++, flush: async () => {}, close: async () => {} };
  const log = createLogger({ sink: () => {}, format: "json", level: "info" });
  const variants = {
    off: undefined,
    on: createTracer(),
    recording: createTracer({ exporter: counting }),
  } as const;
  const servers: Record<string, { url: string; close(): Promise<void> }> = {};
  const apps: Record<string, ReturnType<typeof createApi>["app"]> = {};
  try {
    for (const [name, tracer] of Object.entries(variants)) {
      const api = createApi({
        store,
        engine: noEngine,
        security,
        spec: () => spec,
        log,
        metrics: createCboMetrics(),
        ...(tracer ? { tracer } : {}),
      });
      servers[name] = await startApiServer({ api });
      apps[name] = api.app;
    }
    const runs: Record<string, LoadResult[]> = { off: [], on: [], recording: [] };
    for (let round_ = 0; round_ < ROUNDS; round_++) {
      const order = round_ % 2 === 0 ? Object.keys(variants) : Object.keys(variants).reverse();
      for (const name of order) {
        runs[name]!.push(
          await measureLoad({
            url: `${servers[name]!.url}/v1/workers`,
            headers: { authorization: `Bearer ${token}` },
            durationSec: 3,
            warmupSec: 1,
          }),
        );
      }
      ctx.log(
        `api rps round ${round_ + 1}: ${Object.entries(runs)
          .map(([n, r]) => `${n} ${r.at(-1)!.rps.toFixed(0)}`)
          .join(", ")} req/s`,
      );
    }
    const rps = (name: string) => runs[name]!.map((x) => x.rps);
    const ratio = (name: string) => median(rps(name).map((v, i) => v / rps("off")[i]!));
    const [off, on, recording] = [median(rps("off")), median(rps("on")), median(rps("recording"))];
    const cpu = await cpuPerRequest(apps, token);
    return [
      atLeast("api.rps_tracing_ratio", ratio("on"), "ratio", 0.9, {
        on_rps: round(on, 0),
        off_rps: round(off, 0),
        rounds: ROUNDS,
        connections: 32,
      }),
      info("api.rps_recording_ratio", ratio("recording"), "ratio", { recording_rps: round(recording, 0), spans_exported: exported }),
      info("api.rps", off, "req/s", { route: "GET /v1/workers", tracing: "off" }),
      info("api.cpu_us_per_request_tracing_ratio", cpu.off! / cpu.on!, "ratio", {
        off_cpu_us: round(cpu.off!, 1),
        on_cpu_us: round(cpu.on!, 1),
        recording_cpu_us: round(cpu.recording!, 1),
        measured: "in process (app.request, no socket): CPU time per request, median of 7 interleaved rounds of 2,000",
      }),
    ];
  } finally {
    for (const s of Object.values(servers)) await s.close();
    await security.stop();
    store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * CPU time per request of each variant, in process (no socket, no load generator): what tracing
 * costs the daemon itself, which a shared machine's load does not blur the way it blurs a rate.
 */
async function cpuPerRequest(apps: Record<string, ReturnType<typeof createApi>["app"]>, token: string): Promise<Record<string, number>> {
  const per: Record<string, number[]> = {};
  const init = { headers: { authorization: `Bearer ${token}`, host: "127.0.0.1" } };
  for (let r = 0; r < 7; r++) {
    for (const [name, app] of Object.entries(apps)) {
      const c0 = process.cpuUsage();
      for (let i = 0; i < 2_000; i++) {
        const res = await app.request("http://127.0.0.1/v1/workers", init);
        if (res.status !== 200) throw new Error(`GET /v1/workers answered ${res.status}`);
        await res.arrayBuffer();
      }
      const c = process.cpuUsage(c0);
      (per[name] ??= []).push((c.user + c.system) / 2_000);
    }
  }
  return Object.fromEntries(Object.entries(per).map(([n, xs]) => [n, median(xs)]));
}

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
}

export const benchmarks: Benchmark[] = [
  { name: "api.ws_fanout_p95_ms", run: wsFanout },
  { name: "api.rps_tracing_ratio", run: tracingRatio },
];
