// How the vault writes: all-or-nothing, and without leaving removed key material in the file.
import { tx, type Db } from "../store/db.ts";

/**
 * One all-or-nothing unit: a transaction, or a savepoint inside the caller's transaction, so that
 * a caller can combine a vault write with its own (a route recording an audit entry, a release
 * pinning versions) and have both or neither.
 */
export function atomic<T>(db: Db, fn: () => T): T {
  if (!db.isTransaction) return tx(db, fn);
  db.exec("SAVEPOINT cbo_vault");
  try {
    const out = fn();
    db.exec("RELEASE cbo_vault");
    return out;
  } catch (e) {
    // SQLite may have ended the whole transaction itself (SQLITE_FULL …): nothing is left to undo,
    // and the error that did it is the one to report.
    if (db.isTransaction) {
      db.exec("ROLLBACK TO cbo_vault");
      db.exec("RELEASE cbo_vault");
    }
    throw e;
  }
}

const SECURE_DELETE = ["OFF", "ON", "FAST"] as const;

/**
 * Runs `fn` with SQLite's secure_delete on, so that cells removed or rewritten (destroyed
 * ciphertext, data keys wrapped by a retired master key) are zeroed in place rather than left in
 * free space. Scoped, because the connection belongs to the whole store.
 */
export function scrubbing<T>(db: Db, fn: () => T): T {
  const prev = Number((db.prepare("PRAGMA secure_delete").get() as { secure_delete: number }).secure_delete);
  db.exec("PRAGMA secure_delete = ON");
  try {
    return fn();
  } finally {
    db.exec(`PRAGMA secure_delete = ${SECURE_DELETE[prev] ?? "OFF"}`);
  }
}

/**
 * Copies the WAL into the database file and truncates it, so the old page images go from the -wal
 * file too. Best effort: a reader holding an old snapshot keeps its frames until the next
 * checkpoint, and inside a caller's transaction this waits for that caller (returns false).
 */
export function flushWal(db: Db): boolean {
  if (db.isTransaction) return false;
  const r = db.prepare("PRAGMA wal_checkpoint(TRUNCATE)").get() as { busy: number } | undefined;
  return r !== undefined && Number(r.busy) === 0;
}
