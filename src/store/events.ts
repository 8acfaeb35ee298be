// The event log and the typed map of every lifecycle event: the single list the engine emits,
// the API streams over WebSocket (resumable by id) and the CLI follows.
import * as z from "zod";
import { nowIso, type Db } from "./db.ts";

export const EVENT_TYPES = [
  "release.created",
  "release.target.uploaded",
  "release.step.started",
  "release.step.passed",
  "release.step.failed",
  "release.rolling_back",
  "release.succeeded",
  "release.rolled_back",
  "release.failed",
  "release.aborted",
  "release.recovered",
  // A touched target the rollback could not put back yet (its region out, a full disk): retried
  // until it lands, the release still rolling_back; then it landed (src/deploy/owed.ts).
  "release.restore.pending",
  "release.restore.completed",
  "rollback.started",
  "rollback.completed",
  "rollback.failed",
  "health.changed",
  "config.published",
  "config.applied",
  "config.rejected",
  "config.write_failed",
  // Drift (src/monitor/drift-checker.ts), on transitions only: a drift begins or changes, it is
  // gone, a revert put the desired versions back, a revert could not be made.
  "drift.detected",
  "drift.resolved",
  "drift.reverted",
  "drift.revert.failed",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const EventSchema = z.object({
  id: z.number().int(),
  tenant: z.string(),
  type: z.enum(EVENT_TYPES),
  release_id: z.string().nullable(),
  worker: z.string().nullable(),
  target: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
  at: z.string(),
});
export type StoredEvent = z.infer<typeof EventSchema>;
export type NewEvent = { tenant?: string; type: EventType; release_id?: string; worker?: string; target?: string; data?: Record<string, unknown> };

type Row = { id: number; tenant: string; type: string; release_id: string | null; worker: string | null; target: string | null; data: string; at: string };
const toEvent = (r: Row): StoredEvent => EventSchema.parse({ ...r, data: JSON.parse(r.data) });

export function createEventStore(db: Db) {
  const listeners = new Set<(e: StoredEvent) => void>();
  return {
    /** Appends and notifies subscribers synchronously after the row is committed. */
    append(e: NewEvent): StoredEvent {
      const at = nowIso();
      const res = db
        .prepare("INSERT INTO events (tenant, type, release_id, worker, target, data, at) VALUES (?, ?, ?, ?, ?, ?, ?)")
        .run(e.tenant ?? "default", e.type, e.release_id ?? null, e.worker ?? null, e.target ?? null, JSON.stringify(e.data ?? {}), at);
      const stored: StoredEvent = {
        id: Number(res.lastInsertRowid), tenant: e.tenant ?? "default", type: e.type, release_id: e.release_id ?? null,
        worker: e.worker ?? null, target: e.target ?? null, data: e.data ?? {}, at,
      };
      for (const l of listeners) l(stored);
      return stored;
    },
    /** Events with id > after, oldest first. */
    list(opts: { after?: number; limit?: number; releaseId?: string; tenant?: string } = {}): StoredEvent[] {
      const where = ["id > ?"];
      const args: Array<string | number> = [opts.after ?? 0];
      if (opts.releaseId) (where.push("release_id = ?"), args.push(opts.releaseId));
      if (opts.tenant) (where.push("tenant = ?"), args.push(opts.tenant));
      args.push(Math.min(opts.limit ?? 1000, 10_000));
      return (db.prepare(`SELECT * FROM events WHERE ${where.join(" AND ")} ORDER BY id LIMIT ?`).all(...args) as Row[]).map(toEvent);
    },
    lastId(): number {
      return Number((db.prepare("SELECT COALESCE(MAX(id), 0) AS n FROM events").get() as { n: number }).n);
    },
    subscribe(fn: (e: StoredEvent) => void): () => void {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
}
export type EventStore = ReturnType<typeof createEventStore>;
