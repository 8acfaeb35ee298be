// What edge agents report in heartbeats (006_config_sync.sql): the newest state of each isolate,
// and traffic per code version in one-second buckets for gates.
import type { Db } from "./db.ts";

export type AgentIsolateRow = {
  tenant: string;
  worker: string;
  target: string;
  isolate: string;
  version_id: string | null;
  config_version: number | null;
  uptime_ms: number;
  requests: number;
  errors: number;
  received_at: string;
};

export function createAgentStore(db: Db) {
  const upsertIsolate = db.prepare(
    `INSERT INTO agent_isolates (tenant, worker, target, isolate, version_id, config_version, uptime_ms, requests, errors, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (tenant, worker, target, isolate) DO UPDATE SET version_id = excluded.version_id, config_version = excluded.config_version,
       uptime_ms = excluded.uptime_ms, requests = excluded.requests, errors = excluded.errors, received_at = excluded.received_at`,
  );
  const addTraffic = db.prepare(
    `INSERT INTO agent_traffic (tenant, worker, target, version_id, second, requests, errors) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (tenant, worker, target, version_id, second) DO UPDATE SET requests = requests + excluded.requests, errors = errors + excluded.errors`,
  );
  const upsert = (h: AgentIsolateRow): void => {
    upsertIsolate.run(
      h.tenant,
      h.worker,
      h.target,
      h.isolate,
      h.version_id,
      h.config_version,
      h.uptime_ms,
      h.requests,
      h.errors,
      h.received_at,
    );
  };
  return {
    /** The newest state of one isolate. */
    upsertIsolate: upsert,
    /** Requests and errors added to one version's bucket (`second`: epoch seconds of arrival). */
    addTraffic(t: {
      tenant: string;
      worker: string;
      target: string;
      version_id: string;
      second: number;
      requests: number;
      errors: number;
    }): void {
      addTraffic.run(t.tenant, t.worker, t.target, t.version_id, t.second, t.requests, t.errors);
    },
    /** One heartbeat: the isolate's state, and its window's traffic added to its version's bucket. */
    record(h: AgentIsolateRow & { window: { requests: number; errors: number } }): void {
      upsert(h);
      if (h.version_id !== null && h.window.requests + h.window.errors > 0) {
        addTraffic.run(
          h.tenant,
          h.worker,
          h.target,
          h.version_id,
          Math.floor(Date.parse(h.received_at) / 1000),
          h.window.requests,
          h.window.errors,
        );
      }
    },
    /** Isolates heard from since `since` (ISO), newest first. */
    isolates(tenant: string, worker: string, target?: string, since?: string): AgentIsolateRow[] {
      const rows = db
        .prepare("SELECT * FROM agent_isolates WHERE tenant = ? AND worker = ? AND received_at >= ? ORDER BY received_at DESC")
        .all(tenant, worker, since ?? "") as AgentIsolateRow[];
      return target ? rows.filter((r) => r.target === target) : rows;
    },
    /** A version's requests and errors reported since `sinceMs` (epoch ms), all targets or one. */
    traffic(tenant: string, worker: string, versionId: string, sinceMs: number, target?: string): { requests: number; errors: number } {
      const sql = `SELECT COALESCE(SUM(requests), 0) AS requests, COALESCE(SUM(errors), 0) AS errors FROM agent_traffic
                   WHERE tenant = ? AND worker = ? AND version_id = ? AND second >= ?${target ? " AND target = ?" : ""}`;
      const args = [tenant, worker, versionId, Math.floor(sinceMs / 1000), ...(target ? [target] : [])];
      return db.prepare(sql).get(...args) as { requests: number; errors: number };
    },
    /** Requests and errors per worker, target and minute (epoch seconds of its start) since `sinceSec`, every version together. */
    minutes(tenant: string, sinceSec: number): Array<{ worker: string; target: string; minute: number; requests: number; errors: number }> {
      return db
        .prepare(
          `SELECT worker, target, (second / 60) * 60 AS minute, SUM(requests) AS requests, SUM(errors) AS errors FROM agent_traffic
           WHERE tenant = ? AND second >= ? GROUP BY worker, target, minute ORDER BY minute`,
        )
        .all(tenant, sinceSec) as Array<{ worker: string; target: string; minute: number; requests: number; errors: number }>;
    },
    /** Drops isolates not heard from since `before` and traffic older than it (housekeeping). */
    prune(before: string): void {
      db.prepare("DELETE FROM agent_isolates WHERE received_at < ?").run(before);
      db.prepare("DELETE FROM agent_traffic WHERE second < ?").run(Math.floor(Date.parse(before) / 1000));
    },
  };
}
export type AgentStore = ReturnType<typeof createAgentStore>;
