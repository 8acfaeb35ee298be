// Workers invocation counts, as the routers drained them (workers/invocation-counter.ts): one row
// per account, minute, script, version and invocation status. Batches merge into the rows they
// share (sums add, histograms merge), so a minute may arrive in several drains.
import * as z from "zod";
import type { EdgeDb } from "./db.ts";
import { transaction } from "./db.ts";
import { merge, type Histogram } from "../workers/latency-histogram.ts";

const STATUSES = ["success", "clientDisconnected", "scriptThrewException", "exceededResources", "internalError"] as const;

/** One cell of a router's drain (JSON from workerd, so checked). */
export const CellSchema = z.object({
  script: z.string().min(1),
  version: z.string().min(1),
  minute: z.number().int().nonnegative(),
  status: z.enum(STATUSES),
  requests: z.number().int().nonnegative(),
  subrequests: z.number().int().nonnegative(),
  wallMs: z.number().nonnegative(),
  wall: z.record(z.string().regex(/^\d+$/), z.number().int().nonnegative()),
});
export type Cell = z.infer<typeof CellSchema>;

export type InvocationRow = {
  accountId: string;
  /** Start of the minute, epoch ms. */
  minute: number;
  script: string;
  versionId: string;
  status: (typeof STATUSES)[number];
  requests: number;
  subrequests: number;
  wallMs: number;
  wall: Histogram;
};

/** What a query needs from the store: the account's rows within whole minutes, optionally one script. */
export type RowQuery = { accountId: string; fromMinute?: number; toMinute?: number; scripts?: string[] };

type Raw = {
  account_id: string;
  minute: number;
  script: string;
  version_id: string;
  status: string;
  requests: number;
  subrequests: number;
  wall_ms: number;
  wall_hist: string;
};

const toRow = (r: Raw): InvocationRow => ({
  accountId: r.account_id,
  minute: r.minute,
  script: r.script,
  versionId: r.version_id,
  status: r.status as InvocationRow["status"],
  requests: r.requests,
  subrequests: r.subrequests,
  wallMs: r.wall_ms,
  wall: JSON.parse(r.wall_hist) as Histogram,
});

export function createInvocationStore(db: EdgeDb) {
  const get = db.prepare(
    "SELECT * FROM invocation_minutes WHERE account_id = ? AND minute = ? AND script = ? AND version_id = ? AND status = ?",
  );
  const upsert = db.prepare(
    `INSERT INTO invocation_minutes (account_id, minute, script, version_id, status, requests, subrequests, wall_ms, wall_hist)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (account_id, minute, script, version_id, status) DO UPDATE SET
       requests = excluded.requests, subrequests = excluded.subrequests, wall_ms = excluded.wall_ms, wall_hist = excluded.wall_hist`,
  );
  return {
    /** Adds a drained batch to the account's rows, all or nothing. */
    add(accountId: string, cells: Cell[]): void {
      if (cells.length === 0) return;
      transaction(db, () => {
        for (const c of cells) {
          const old = get.get(accountId, c.minute, c.script, c.version, c.status) as Raw | undefined;
          const prev = old ? toRow(old) : undefined;
          const wall = merge(prev ? prev.wall : {}, c.wall as unknown as Histogram);
          upsert.run(
            accountId,
            c.minute,
            c.script,
            c.version,
            c.status,
            (prev?.requests ?? 0) + c.requests,
            (prev?.subrequests ?? 0) + c.subrequests,
            (prev?.wallMs ?? 0) + c.wallMs,
            JSON.stringify(wall),
          );
        }
      });
    },
    rows(q: RowQuery): InvocationRow[] {
      const where = ["account_id = ?"];
      const args: Array<string | number> = [q.accountId];
      if (q.fromMinute !== undefined) where.push("minute >= ?"), args.push(q.fromMinute);
      if (q.toMinute !== undefined) where.push("minute <= ?"), args.push(q.toMinute);
      if (q.scripts !== undefined) where.push(`script IN (${q.scripts.map(() => "?").join(", ") || "NULL"})`), args.push(...q.scripts);
      return (db.prepare(`SELECT * FROM invocation_minutes WHERE ${where.join(" AND ")} ORDER BY minute`).all(...args) as Raw[]).map(toRow);
    },
    /** Forgets minutes before `minute` (retention); returns how many rows went. */
    pruneBefore(minute: number): number {
      return Number(db.prepare("DELETE FROM invocation_minutes WHERE minute < ?").run(minute).changes);
    },
  };
}
export type InvocationStore = ReturnType<typeof createInvocationStore>;
