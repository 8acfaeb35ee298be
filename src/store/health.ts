// Current health per worker and target; a write reports whether the status changed, so the
// monitor emits `health.changed` only on transitions.
import type { HealthRow, HealthStatus } from "../contract/index.ts";
import { nowIso, type Db } from "./db.ts";

// A row is what GET /v1/health/workers sends (src/contract/fleet.ts).
export type { HealthStatus, HealthRow };

export function createHealthStore(db: Db) {
  return {
    /** Records an observation; returns the previous status when it changed, else undefined. */
    observe(o: {
      tenant: string;
      worker: string;
      target: string;
      status: HealthStatus;
      versionId: string | null;
      latencyMs: number | null;
      detail: string | null;
    }): HealthStatus | "new" | undefined {
      const prev = db
        .prepare("SELECT status FROM health WHERE tenant = ? AND worker = ? AND target = ?")
        .get(o.tenant, o.worker, o.target) as { status: HealthStatus } | undefined;
      const at = nowIso();
      const changed = !prev || prev.status !== o.status;
      db.prepare(
        `INSERT INTO health (tenant, worker, target, status, version_id, latency_ms, detail, checked_at, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (tenant, worker, target) DO UPDATE SET status = excluded.status, version_id = excluded.version_id, latency_ms = excluded.latency_ms,
           detail = excluded.detail, checked_at = excluded.checked_at, changed_at = CASE WHEN health.status = excluded.status THEN health.changed_at ELSE excluded.changed_at END`,
      ).run(o.tenant, o.worker, o.target, o.status, o.versionId, o.latencyMs, o.detail, at, at);
      return changed ? (prev?.status ?? "new") : undefined;
    },
    list(tenant = "default"): HealthRow[] {
      return db.prepare("SELECT * FROM health WHERE tenant = ? ORDER BY worker, target").all(tenant) as HealthRow[];
    },
  };
}
export type HealthStore = ReturnType<typeof createHealthStore>;
