// The loop every thread of the parallel verifier runs (the main thread and the workers alike), each
// on its own read-only connection: take the next batch number from a counter the threads share,
// read that seq range, check it (verify-batch.ts), until none are left or one has failed. Taking
// batches one at a time keeps the threads busy to the end, whatever their speed.
// No zod and no schema import here: worker threads load this.
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { checkRows, type BatchResult } from "./verify-batch.ts";

export type BatchPlan = {
  /** Entries 1..count, in batches of `batch` (a power of two): batch k holds seq k·batch+1 … */
  count: number;
  batch: number;
  /** Tree sizes in 1..count whose root and head hash are wanted, ascending, without repeats. */
  marks: readonly number[];
};

/** Int32 slots of the SharedArrayBuffer the threads share. */
export const NEXT_BATCH = 0;
export const FAILED = 1;
export const SHARED_BYTES = 8;

/** The same rows, columns and order as entries-table.ts's rangeArrays, which the sequential verifier reads. */
export function rangeStatement(db: DatabaseSync): StatementSync {
  const stmt = db.prepare(
    "SELECT seq, at, actor, action, target, tenant, outcome, details, prev_hash, hash FROM audit_entries WHERE seq > ? AND seq <= ? ORDER BY seq",
  );
  stmt.setReturnArrays(true);
  return stmt;
}

/** The highest entry, which the threads compare to make sure they read the same log. */
export function headRow(db: DatabaseSync): { seq: unknown; hash: unknown } | null {
  const row = db.prepare("SELECT seq, hash FROM audit_entries ORDER BY seq DESC LIMIT 1").get();
  return row ? { seq: row.seq, hash: row.hash } : null;
}

/** Checks batches (at most `limit`) until none are left or any thread has failed; this thread's results. */
export function runBatches(rows: StatementSync, shared: Int32Array, plan: BatchPlan, limit = Infinity): BatchResult[] {
  const results: BatchResult[] = [];
  const batches = Math.ceil(plan.count / plan.batch);
  while (results.length < limit && Atomics.load(shared, FAILED) === 0) {
    const id = Atomics.add(shared, NEXT_BATCH, 1);
    if (id >= batches) break;
    const base = id * plan.batch;
    const upTo = Math.min(base + plan.batch, plan.count);
    const batch = rows.all(base, upTo) as unknown as unknown[][];
    const marks = plan.marks.filter((m) => m > base && m <= upTo);
    const result: BatchResult = batch.length === upTo - base ? checkRows(id, base, batch, marks) : { id, ok: false };
    results.push(result);
    if (!result.ok) Atomics.store(shared, FAILED, 1);
  }
  return results;
}
