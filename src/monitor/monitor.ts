// The monitor: probes every Worker of the spec in every one of its targets on an interval, keeps
// the current health per worker/target in the store, and appends `health.changed` on transitions.
//
// The loop, one per monitor:
//   idle ── start() ──> probing
//   probing ── pass settled ──> sleeping (interval ± jitter)
//   sleeping ── timer ──> probing
//   probing | sleeping ── stop() ──> stopping ── the pass in flight settles ──> idle
// checkNow() runs one extra pass in any state. While the disk is full (store.storage.paused())
// passes are skipped: the first failed write pauses them, the storage watch resumes them. Passes never overlap (they are chained), so two
// observations of one worker/target are never written out of order (the loop: kit/pass-loop.ts,
// shared with the drift checker in src/deploy/drift). Each pass re-reads spec()
// and targets(): a changed orchestrator.yaml is picked up without a restart.
import type { ResolvedSpec, ResolvedWorker } from "../config/load.ts";
import type { TargetRuntime } from "../targets/types.ts";
import { workerEndpoint } from "../targets/worker-endpoint.ts";
import type { Store } from "../store/index.ts";
import { createPassLoop } from "../kit/pass-loop.ts";
import { forEachBounded } from "../kit/bounded-concurrency.ts";
import { probe } from "./health-probe.ts";
import { decideHealth } from "./health-verdict.ts";
import { type CboMetrics, type Logger, silentLogger } from "../telemetry/index.ts";

export type MonitorOptions = {
  store: Store;
  spec: () => ResolvedSpec;
  targets: () => Map<string, TargetRuntime>;
  /** Pause between passes, before jitter. */
  intervalMs?: number;
  /** Per probe, for the whole exchange. */
  timeoutMs?: number;
  /** Share of the interval by which each pause may move either way (0..1). */
  jitter?: number;
  /** Probes in flight at once. */
  concurrency?: number;
  log?: Logger;
  /** Each probe's latency by worker, target and verdict (cbo_worker_probe_duration_seconds). */
  metrics?: Pick<CboMetrics, "probeDuration">;
  /** For tests: the jitter source. */
  random?: () => number;
};

export type Monitor = {
  start(): void;
  /** Ends the loop and resolves once the pass in flight (if any) has been recorded. */
  stop(): Promise<void>;
  /** Runs one pass now (after the one in flight) and resolves when it is recorded. */
  checkNow(): Promise<void>;
};

type Job = { worker: ResolvedWorker; target: TargetRuntime };

export function createMonitor(opts: MonitorOptions): Monitor {
  const { store, intervalMs = 1000, timeoutMs = 2000, jitter = 0.2, concurrency = 16, log = silentLogger } = opts;

  function jobs(): Job[] {
    const targets = opts.targets();
    const out: Job[] = [];
    for (const worker of opts.spec().workers) {
      for (const name of worker.targets) {
        const target = targets.get(name);
        if (target) out.push({ worker, target });
      }
    }
    return out;
  }

  async function check({ worker, target }: Job): Promise<void> {
    const result = await probe(workerEndpoint(target, worker), worker.gate.probe_path, timeoutMs);
    const known = store.catalog.versions(worker.tenant, worker.name, target.name, 1).length > 0;
    const verdict = decideHealth(result, { known });
    if (verdict.latencyMs !== null)
      opts.metrics?.probeDuration.observe({ worker: worker.name, target: target.name, result: verdict.status }, verdict.latencyMs / 1000);
    // The live version is not visible to a plain probe (Cloudflare adds no version header and a
    // split deployment answers from either version), so health is per worker/target here.
    const versionId = null;
    const previous = store.health.observe({
      tenant: worker.tenant,
      worker: worker.name,
      target: target.name,
      status: verdict.status,
      versionId,
      latencyMs: verdict.latencyMs,
      detail: verdict.detail,
    });
    if (previous === undefined) return;
    const from = previous === "new" ? "unknown" : previous;
    if (from === verdict.status) return;
    store.events.append({
      tenant: worker.tenant,
      type: "health.changed",
      worker: worker.name,
      target: target.name,
      data: { from, to: verdict.status, versionId, latencyMs: verdict.latencyMs, detail: verdict.detail },
    });
    log.info(`health ${worker.name}@${target.name}: ${from} -> ${verdict.status} (${verdict.detail})`);
  }

  async function pass(): Promise<void> {
    // Backs off while the disk is full: nothing it observes could be recorded (store/storage.ts).
    if (store.storage.paused()) return;
    try {
      await forEachBounded(jobs(), concurrency, check);
    } catch (e) {
      // A broken spec() or store write must not end the loop: the next pass tries again.
      const err = store.storage.classify(e);
      log.error(`monitor pass failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  return createPassLoop(pass, { intervalMs, jitter, ...(opts.random ? { random: opts.random } : {}) });
}
