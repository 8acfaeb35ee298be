// The event log: every lifecycle event the engine, the monitor, the drift checker and config sync
// emit, streamed by the API over WebSocket (resumable by id) and followed by the clients. The
// events and their payloads are the contract's typed event map (src/contract/events.ts): append()
// takes a payload typed by its event's type, and rows read back are checked against it.
import { EventSchema, type EventType, type NewEvent, type StoredEvent } from "../contract/index.ts";
import { nowIso, type Db } from "./db.ts";

export type { EventType, NewEvent, StoredEvent };

type Row = {
  id: number;
  tenant: string;
  type: string;
  release_id: string | null;
  worker: string | null;
  target: string | null;
  data: string;
  at: string;
};
const toEvent = (r: Row): StoredEvent => EventSchema.parse({ ...r, data: JSON.parse(r.data) });

export function createEventStore(db: Db) {
  const listeners = new Set<(e: StoredEvent) => void>();
  return {
    /** Appends and notifies subscribers synchronously after the row is committed. */
    append(e: NewEvent): StoredEvent {
      const at = nowIso();
      const res = db
        .prepare("INSERT INTO events (tenant, type, release_id, worker, target, data, at) VALUES (?, ?, ?, ?, ?, ?, ?)")
        .run(e.tenant ?? "default", e.type, e.release_id ?? null, e.worker ?? null, e.target ?? null, JSON.stringify(e.data), at);
      // The type and its payload go together (NewEvent is the same union): TypeScript cannot follow
      // the pairing through the spread, hence the assertion.
      const stored = {
        id: Number(res.lastInsertRowid),
        tenant: e.tenant ?? "default",
        type: e.type,
        release_id: e.release_id ?? null,
        worker: e.worker ?? null,
        target: e.target ?? null,
        data: e.data,
        at,
      } as StoredEvent;
      for (const l of listeners) l(stored);
      return stored;
    },
    /** Events with after < id < before, oldest first (`order: "desc"`: newest first). */
    list(
      opts: { after?: number; before?: number; limit?: number; releaseId?: string; tenant?: string; order?: "asc" | "desc" } = {},
    ): StoredEvent[] {
      const where = ["id > ?"];
      const args: Array<string | number> = [opts.after ?? 0];
      if (opts.before !== undefined) where.push("id < ?"), args.push(opts.before);
      if (opts.releaseId) where.push("release_id = ?"), args.push(opts.releaseId);
      if (opts.tenant) where.push("tenant = ?"), args.push(opts.tenant);
      args.push(Math.min(opts.limit ?? 1000, 10_001));
      const order = opts.order === "desc" ? "DESC" : "ASC";
      return (db.prepare(`SELECT * FROM events WHERE ${where.join(" AND ")} ORDER BY id ${order} LIMIT ?`).all(...args) as Row[]).map(
        toEvent,
      );
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
