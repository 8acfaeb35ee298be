// All-or-nothing work on a SQLite-like handle (node:sqlite's DatabaseSync, or anything with
// exec). Shared by the orchestrator's store and the local edge's state.

export type SqlExec = { exec(sql: string): void; readonly isTransaction?: boolean };

export function transaction<T>(db: SqlExec, fn: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const out = fn();
    db.exec("COMMIT");
    return out;
  } catch (e) {
    rollback(db);
    throw e;
  }
}

/**
 * Rolls back what is still open. SQLite ends the transaction itself on some errors (SQLITE_FULL,
 * SQLITE_IOERR, SQLITE_NOMEM …): a ROLLBACK then fails with "no transaction is active", which must
 * not hide the error that caused it (a full disk reported as an internal error).
 */
export function rollback(db: SqlExec): void {
  if (db.isTransaction === false) return;
  try {
    db.exec("ROLLBACK");
  } catch {
    // already rolled back by SQLite; the caller rethrows the first error
  }
}
