// The loop against real parts: two node:http servers stand in for two targets' public ports
// (Workers picked by Host, as on the local edge) and the store is a real SQLite file.
import fs from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseSpec, resolveSpec, type ResolvedSpec } from "../config/load.ts";
import { buildTarget, type TargetRuntime } from "../targets/index.ts";
import { createStore, type Store } from "../store/index.ts";
import { createMonitor } from "./monitor.ts";

type Behaviour = "ok" | "503" | "hang" | { delayMs: number };
type FakeTarget = {
  server: http.Server;
  port: number;
  behave: Map<string, Behaviour>;
  hits: string[];
  times: number[];
  inFlight: number;
  peak: number;
};

async function startTarget(): Promise<FakeTarget> {
  const t: FakeTarget = {
    server: undefined as unknown as http.Server,
    port: 0,
    behave: new Map(),
    hits: [],
    times: [],
    inFlight: 0,
    peak: 0,
  };
  t.server = http.createServer((req, res) => {
    const worker = (req.headers.host ?? "").split(".")[0]!;
    t.hits.push(`${worker} ${req.url}`);
    t.times.push(performance.now());
    t.inFlight++;
    t.peak = Math.max(t.peak, t.inFlight);
    res.on("close", () => t.inFlight--);
    const b = t.behave.get(worker) ?? "ok";
    if (b === "hang") return; // never answers
    if (b === "503") return void res.writeHead(503).end("down");
    const delay = typeof b === "object" ? b.delayMs : 0;
    setTimeout(() => res.writeHead(200).end(`${worker} ok`), delay);
  });
  await new Promise<void>((r) => t.server.listen(0, "127.0.0.1", r));
  t.port = (t.server.address() as AddressInfo).port;
  return t;
}

// Built as the daemon builds a local-edge target (its client is never called by the monitor).
const edge = (name: string, t: FakeTarget) => ({
  apiUrl: "http://127.0.0.1:9/client/v4",
  token: "unused-by-the-monitor",
  regions: [{ name, accountId: "0".repeat(32), port: t.port }],
});

function runtime(name: string, t: FakeTarget): TargetRuntime {
  return buildTarget({ name, api: "local", region: name }, { edge: edge(name, t) });
}

let dir: string;
let store: Store;
let one: FakeTarget;
let two: FakeTarget;
let spec: ResolvedSpec;
let targets: Map<string, TargetRuntime>;

function specWith(workers: string[]): ResolvedSpec {
  const file = path.join(dir, "orchestrator.yaml");
  const yaml = `targets:\n  - name: one\n  - name: two\nrollout:\n  gate:\n    probe_path: /healthz\nworkers:\n${workers.map((w) => `  - name: ${w}\n    main: ${w}.js\n`).join("")}`;
  return resolveSpec(parseSpec(yaml, file), file);
}

function know(worker: string, ...on: string[]): void {
  for (const target of on)
    store.catalog.recordVersion({
      tenant: "default",
      worker,
      target,
      version_id: `${worker}-${target}-v1`,
      release_id: null,
      bundle_hash: null,
    });
}

const changes = () => store.events.list().filter((e) => e.type === "health.changed");
const row = (worker: string, target: string) => store.health.list().find((h) => h.worker === worker && h.target === target);

beforeAll(async () => {
  one = await startTarget();
  two = await startTarget();
});
afterAll(async () => {
  for (const t of [one, two]) {
    t.server.closeAllConnections();
    await new Promise((r) => t.server.close(r));
  }
});
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "cbo-monitor-"));
  store = createStore(path.join(dir, "state.db"));
  spec = specWith(["a", "b"]);
  targets = new Map([
    ["one", runtime("one", one)],
    ["two", runtime("two", two)],
  ]);
  for (const t of [one, two]) t.behave.clear(), (t.hits.length = 0), (t.times.length = 0), (t.peak = 0);
  know("a", "one", "two");
  know("b", "one", "two");
});
/** Loops a test started: stopped after it whatever happened, so that a failed test leaves none probing the next one's targets. */
const started: Array<{ stop(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((m) => m.stop()));
  store.close();
  await fs.rm(dir, { recursive: true, force: true });
});

describe("monitor passes", () => {
  it("probes every worker in every target at its gate's probe path, and reports each first verdict once", async () => {
    const monitor = createMonitor({ store, spec: () => spec, targets: () => targets, timeoutMs: 500 });
    await monitor.checkNow();
    expect(one.hits.sort()).toEqual(["a /healthz", "b /healthz"]);
    expect(two.hits.sort()).toEqual(["a /healthz", "b /healthz"]);
    expect(store.health.list().map((h) => `${h.worker}@${h.target}=${h.status}`)).toEqual([
      "a@one=healthy",
      "a@two=healthy",
      "b@one=healthy",
      "b@two=healthy",
    ]);
    expect(changes().map((e) => [e.worker, e.target, e.data.from, e.data.to])).toEqual(
      expect.arrayContaining([
        ["a", "one", "unknown", "healthy"],
        ["a", "two", "unknown", "healthy"],
        ["b", "one", "unknown", "healthy"],
        ["b", "two", "unknown", "healthy"],
      ]),
    );
    expect(changes()).toHaveLength(4);

    // Nothing changed: more passes, no more events, but fresh observations.
    const checked = row("a", "one")!.checked_at;
    await new Promise((r) => setTimeout(r, 5));
    await monitor.checkNow();
    await monitor.checkNow();
    expect(changes()).toHaveLength(4);
    expect(row("a", "one")!.checked_at > checked).toBe(true);
  });

  it("emits one event per transition, for the affected worker and target only", async () => {
    const monitor = createMonitor({ store, spec: () => spec, targets: () => targets, timeoutMs: 200 });
    await monitor.checkNow();
    const before = store.events.lastId();

    two.behave.set("a", "503");
    await monitor.checkNow();
    await monitor.checkNow();
    let fresh = store.events.list({ after: before });
    expect(fresh).toHaveLength(1);
    expect(fresh[0]).toMatchObject({
      type: "health.changed",
      worker: "a",
      target: "two",
      data: { from: "healthy", to: "unhealthy", versionId: null, detail: "HTTP 503" },
    });
    expect(row("a", "two")).toMatchObject({ status: "unhealthy", detail: "HTTP 503" });
    expect(row("a", "one")!.status).toBe("healthy");

    // Still unhealthy, for another reason: the row says so, the stream stays quiet.
    two.behave.set("a", "hang");
    await monitor.checkNow();
    expect(row("a", "two")).toMatchObject({ status: "unhealthy", detail: "timeout after 200 ms", latency_ms: null });
    expect(store.events.list({ after: before })).toHaveLength(1);

    two.behave.set("a", "ok");
    await monitor.checkNow();
    fresh = store.events.list({ after: before });
    expect(fresh).toHaveLength(2);
    expect(fresh[1]).toMatchObject({ worker: "a", target: "two", data: { from: "unhealthy", to: "healthy", detail: "HTTP 200" } });
    expect(typeof fresh[1]!.data.latencyMs).toBe("number");
  });

  it("says unknown (no event) for a failing Worker the orchestrator never put on a target", async () => {
    spec = specWith(["a", "b", "fresh"]);
    one.behave.set("fresh", "503");
    const monitor = createMonitor({ store, spec: () => spec, targets: () => targets, timeoutMs: 200 });
    await monitor.checkNow();
    expect(row("fresh", "one")).toMatchObject({ status: "unknown", detail: "HTTP 503 (no version recorded for this target)" });
    expect(
      changes()
        .filter((e) => e.worker === "fresh")
        .map((e) => e.target),
    ).toEqual(["two"]); // healthy there
  });

  it("re-reads spec and targets every pass, skipping targets it has no runtime for", async () => {
    const monitor = createMonitor({ store, spec: () => spec, targets: () => targets, timeoutMs: 200 });
    targets = new Map([["one", runtime("one", one)]]);
    await monitor.checkNow();
    expect(two.hits).toEqual([]);
    expect(store.health.list().map((h) => `${h.worker}@${h.target}`)).toEqual(["a@one", "b@one"]);
    spec = specWith(["b"]);
    one.hits.length = 0;
    await monitor.checkNow();
    expect(one.hits).toEqual(["b /healthz"]);
  });

  it("keeps at most `concurrency` probes in flight", async () => {
    spec = specWith(["w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8"]);
    for (let i = 1; i <= 8; i++) one.behave.set(`w${i}`, { delayMs: 40 }), two.behave.set(`w${i}`, { delayMs: 40 });
    const monitor = createMonitor({ store, spec: () => spec, targets: () => targets, timeoutMs: 1_000, concurrency: 3 });
    await monitor.checkNow();
    expect(one.hits.length + two.hits.length).toBe(16);
    expect(Math.max(one.peak, two.peak)).toBeLessThanOrEqual(3);
    expect(one.peak + two.peak).toBeGreaterThanOrEqual(3);
  });
});

describe("monitor loop", () => {
  it("repeats on its interval until stopped, and stop() waits for the pass in flight", async () => {
    const monitor = createMonitor({ store, spec: () => spec, targets: () => targets, intervalMs: 20, jitter: 0, timeoutMs: 1_000 });
    started.push(monitor);
    monitor.start();
    monitor.start(); // a second start is a no-op, not a second loop
    // Three passes, however long a loaded machine takes for them (how fast is the benchmarks' business).
    const probesPerPass = 4;
    const deadline = Date.now() + 10_000;
    while (one.hits.length + two.hits.length < 3 * probesPerPass && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(one.hits.length + two.hits.length).toBeGreaterThanOrEqual(3 * probesPerPass);

    // Make the next pass slow, stop in the middle of it: the slow answer is still recorded.
    two.behave.set("b", { delayMs: 300 });
    two.behave.set("a", "503");
    const hitsBefore = two.hits.length;
    // Wait until a pass is waiting on the slow answer.
    while (!(two.hits.length > hitsBefore && two.inFlight > 0)) await new Promise((r) => setTimeout(r, 5));
    const t0 = performance.now();
    await monitor.stop();
    expect(performance.now() - t0).toBeGreaterThan(100);
    expect(row("a", "two")!.status).toBe("unhealthy");
    const checked = row("b", "two")!.checked_at;

    // Stopped means stopped: no probes, no writes.
    const hits = one.hits.length + two.hits.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(one.hits.length + two.hits.length).toBe(hits);
    expect(row("b", "two")!.checked_at).toBe(checked);
  });

  it("waits a jittered interval between passes", async () => {
    // random() = 0 with jitter 0.5 on 300 ms: every pause is 150 ms, never the plain 300 ms.
    let draws = 0;
    const random = () => (draws++, 0);
    spec = specWith(["a"]);
    targets = new Map([["one", runtime("one", one)]]);
    const monitor = createMonitor({ store, spec: () => spec, targets: () => targets, intervalMs: 300, jitter: 0.5, random });
    started.push(monitor);
    monitor.start();
    while (one.times.length < 4) await new Promise((r) => setTimeout(r, 10));
    await monitor.stop();
    const gaps = one.times.slice(1).map((t, i) => t - one.times[i]!);
    for (const gap of gaps.slice(0, 3)) {
      expect(gap).toBeGreaterThanOrEqual(145);
      expect(gap).toBeLessThan(280);
    }
    expect(draws).toBeGreaterThanOrEqual(3);
  });
});
