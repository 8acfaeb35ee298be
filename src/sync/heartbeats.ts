// Heartbeat ingest: what the agents report, stored in batches. A heartbeat is a report, not a
// mutation, so it need not be durable on its own: buffering them and committing one transaction
// every 100 ms (or 1,000 heartbeats) keeps ingest at the speed of signature checks instead of
// one fsync per heartbeat. Transitions are derived at flush time: the first report of a
// published config version on a target (config.applied), and each bundle an agent refused
// (config.rejected, which is also a security event on the audit record).
import type { Heartbeat } from "../kit/protocol/heartbeat.ts";
import { transaction } from "../kit/transaction.ts";
import type { Store } from "../store/index.ts";

type Received = { tenant: string; hb: Heartbeat; at: string };

export function createHeartbeatSink(deps: { store: Store; flushMs?: number; maxBatch?: number; log?: (line: string) => void }) {
  const { store } = deps;
  const flushMs = deps.flushMs ?? 100;
  const maxBatch = deps.maxBatch ?? 1_000;
  let queue: Received[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;

  function flush(): void {
    if (timer) clearTimeout(timer), (timer = undefined);
    if (queue.length === 0) return;
    const batch = queue;
    queue = [];
    const events: Array<Parameters<Store["events"]["append"]>[0]> = [];
    try {
      transaction(store.db, () => {
        for (const { tenant, hb, at } of batch) {
          store.agents.record({
            tenant, worker: hb.worker, target: hb.target, isolate: hb.isolate, version_id: hb.versionId, config_version: hb.configVersion,
            uptime_ms: hb.uptimeMs, requests: hb.totals.requests, errors: hb.totals.errors, received_at: at, window: hb.window,
          });
          if (hb.configVersion !== null && store.configs.markApplied(tenant, hb.worker, hb.target, hb.configVersion, at)) {
            events.push({ tenant, type: "config.applied", worker: hb.worker, target: hb.target, data: { version: hb.configVersion, isolate: hb.isolate, versionId: hb.versionId } });
          }
          for (const r of hb.rejections) {
            events.push({ tenant, type: "config.rejected", worker: hb.worker, target: hb.target, data: { reason: r.reason, ...(r.version ? { version: r.version } : {}), at: r.at, isolate: hb.isolate, applied: hb.configVersion } });
          }
        }
      });
    } catch (e) {
      deps.log?.(`heartbeats: could not store ${batch.length}: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    // After the commit, so subscribers (the event stream, the audit trail) see stored facts only.
    for (const e of events) store.events.append(e);
  }

  return {
    add(tenant: string, hb: Heartbeat): void {
      queue.push({ tenant, hb, at: new Date().toISOString() });
      if (queue.length >= maxBatch) flush();
      else timer ??= setTimeout(flush, flushMs);
    },
    flush,
    close(): void {
      flush();
    },
  };
}
export type HeartbeatSink = ReturnType<typeof createHeartbeatSink>;
