// Heartbeat ingest: what the agents report, stored in batches. A heartbeat is a report, not a
// mutation, so it need not be durable on its own: buffering them and committing one transaction
// every 100 ms (or 1,000 heartbeats) keeps ingest at the speed of signature checks instead of
// one fsync per heartbeat. Transitions are derived at flush time: the first report of a
// published config version on a target (config.applied), and each bundle an agent refused
// (config.rejected, which is also a security event on the audit record). While the disk is full,
// batches are dropped (counted) rather than written: the agents report again every interval.
import type { Heartbeat } from "../kit/protocol/heartbeat.ts";
import { transaction } from "../kit/transaction.ts";
import type { AgentIsolateRow, Store } from "../store/index.ts";
import type { Logger } from "../telemetry/index.ts";

type Received = { tenant: string; hb: Heartbeat; at: string };

export function createHeartbeatSink(deps: { store: Store; flushMs?: number; maxBatch?: number; log?: Logger }) {
  const { store } = deps;
  const flushMs = deps.flushMs ?? 100;
  const maxBatch = deps.maxBatch ?? 1_000;
  let queue: Received[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  // Heartbeats dropped while the disk is full; each isolate reports again within its interval.
  let dropped = 0;

  function flush(): void {
    if (timer) clearTimeout(timer), (timer = undefined);
    if (queue.length === 0) return;
    const batch = queue;
    queue = [];
    // Backs off while the disk is full (store/storage.ts): a report is not worth a write that fails.
    if (store.storage.paused()) {
      dropped += batch.length;
      return;
    }
    const events: Array<Parameters<Store["events"]["append"]>[0]> = [];
    // A batch holds many heartbeats of the same isolates and versions: fold them first, so that a
    // flush writes one row per isolate, one per (version, second) and checks each applied
    // version once, whatever the rate.
    const isolates = new Map<string, AgentIsolateRow>();
    const traffic = new Map<
      string,
      { tenant: string; worker: string; target: string; version_id: string; second: number; requests: number; errors: number }
    >();
    const appliedSeen = new Map<string, { tenant: string; hb: Heartbeat; at: string }>();
    for (const { tenant, hb, at } of batch) {
      isolates.set(`${tenant}/${hb.worker}/${hb.target}/${hb.isolate}`, {
        tenant,
        worker: hb.worker,
        target: hb.target,
        isolate: hb.isolate,
        version_id: hb.versionId,
        config_version: hb.configVersion,
        uptime_ms: hb.uptimeMs,
        requests: hb.totals.requests,
        errors: hb.totals.errors,
        received_at: at,
      });
      if (hb.versionId !== null && hb.window.requests + hb.window.errors > 0) {
        const second = Math.floor(Date.parse(at) / 1000);
        const k = `${tenant}/${hb.worker}/${hb.target}/${hb.versionId}/${second}`;
        const t = traffic.get(k) ?? {
          tenant,
          worker: hb.worker,
          target: hb.target,
          version_id: hb.versionId,
          second,
          requests: 0,
          errors: 0,
        };
        t.requests += hb.window.requests;
        t.errors += hb.window.errors;
        traffic.set(k, t);
      }
      if (hb.configVersion !== null) {
        const k = `${tenant}/${hb.worker}/${hb.target}/${hb.configVersion}`;
        if (!appliedSeen.has(k)) appliedSeen.set(k, { tenant, hb, at });
      }
      for (const r of hb.rejections) {
        events.push({
          tenant,
          type: "config.rejected",
          worker: hb.worker,
          target: hb.target,
          data: {
            reason: r.reason,
            ...(r.version ? { version: r.version } : {}),
            at: r.at,
            isolate: hb.isolate,
            applied: hb.configVersion,
          },
        });
      }
    }
    try {
      transaction(store.db, () => {
        for (const row of isolates.values()) store.agents.upsertIsolate(row);
        for (const t of traffic.values()) store.agents.addTraffic(t);
        for (const { tenant, hb, at } of appliedSeen.values()) {
          if (store.configs.markApplied(tenant, hb.worker, hb.target, hb.configVersion!, at)) {
            events.unshift({
              tenant,
              type: "config.applied",
              worker: hb.worker,
              target: hb.target,
              data: { version: hb.configVersion!, isolate: hb.isolate, versionId: hb.versionId },
            });
          }
        }
      });
    } catch (e) {
      const err = store.storage.classify(e);
      deps.log?.error(`heartbeats: could not store ${batch.length}: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    if (dropped > 0) deps.log?.warn(`heartbeats: ${dropped} dropped while the disk was full; stored again from now on`);
    dropped = 0;
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
