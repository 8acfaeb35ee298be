// All-or-nothing work on a SQLite-like handle (node:sqlite's DatabaseSync, or anything with
// exec). Shared by the orchestrator's store and the local edge's state.

export type SqlExec = { exec(sql: string): void };

export function transaction<T>(db: SqlExec, fn: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const out = fn();
    db.exec("COMMIT");
    return out;
  } catch (e) {
    try {
      db.exec("ROLLBACK");
    } catch {
      // SQLite has rolled it back itself (SQLITE_FULL, SQLITE_IOERR…): "no transaction is active"
      // would hide the error that says what happened, e.g. "database or disk is full".
    }
    throw e;
  }
}
