// Idempotency keys of mutating API requests (007_idempotency.sql): the first request under a key
// is held in flight, then its answer is kept for replay; src/api/idempotency.ts decides what a
// retry gets. One small function per statement; every read is checked against its schema.
import * as z from "zod";
import type { Db } from "./db.ts";

const RowSchema = z.object({
  id: z.string(),
  principal: z.string(),
  method: z.string(),
  path: z.string(),
  request_hash: z.string(),
  state: z.enum(["in_flight", "done"]),
  owner: z.string(),
  status: z.number().int().nullable(),
  content_type: z.string().nullable(),
  body: z.string().nullable(),
  withheld: z.number().int(),
  created_at: z.number().int(),
});
export type IdempotencyRow = z.output<typeof RowSchema>;

export function createIdempotencyStore(db: Db) {
  return {
    get(id: string): IdempotencyRow | undefined {
      const r = db.prepare("SELECT * FROM idempotency_keys WHERE id = ?").get(id);
      return r === undefined ? undefined : RowSchema.parse(r);
    },
    /** Holds the key for a request now running; false when a row with this id exists. */
    begin(r: Pick<IdempotencyRow, "id" | "principal" | "method" | "path" | "request_hash" | "owner" | "created_at">): boolean {
      const res = db
        .prepare(
          `INSERT INTO idempotency_keys (id, principal, method, path, request_hash, state, owner, created_at)
           VALUES (?, ?, ?, ?, ?, 'in_flight', ?, ?) ON CONFLICT (id) DO NOTHING`,
        )
        .run(r.id, r.principal, r.method, r.path, r.request_hash, r.owner, r.created_at);
      return Number(res.changes) === 1;
    },
    /** The request succeeded: what it answered (body null when it is withheld). */
    complete(id: string, a: { status: number; contentType: string | null; body: string | null; withheld: boolean }): void {
      db.prepare("UPDATE idempotency_keys SET state = 'done', status = ?, content_type = ?, body = ?, withheld = ? WHERE id = ?").run(
        a.status,
        a.contentType,
        a.body,
        a.withheld ? 1 : 0,
        id,
      );
    },
    /** Frees the key (the request failed and changed nothing). */
    remove(id: string): void {
      db.prepare("DELETE FROM idempotency_keys WHERE id = ?").run(id);
    },
    /** Drops rows created before `before` (ms since the epoch); returns how many. */
    prune(before: number): number {
      return Number(db.prepare("DELETE FROM idempotency_keys WHERE created_at < ?").run(before).changes);
    },
    count(): number {
      return Number((db.prepare("SELECT COUNT(*) AS n FROM idempotency_keys").get() as { n: number }).n);
    },
  };
}
export type IdempotencyStore = ReturnType<typeof createIdempotencyStore>;
