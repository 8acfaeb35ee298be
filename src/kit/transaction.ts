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
    db.exec("ROLLBACK");
    throw e;
  }
}
