// A store as an older build left it, made from SQL rather than by building that revision: the
// migrations it had (the numbered files never change once on main, so 001..N of today's tree are
// exactly its schema), applied the way its openDb applied them (schema_migrations rows, no
// user_version), then the rows it wrote. test/fixtures/store-v6-rows.sql holds the rows a build
// from before migration 007 (main at c0fb07f, 2026-11-22) wrote for `cbo up` on the example fleet,
// two secrets set, a config rollback and a backup (dumped with sqlite3 `.mode insert`; vault, audit
// and token rows left out: the tests that need them make their own).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { fileURLToPath } from "node:url";
import { MIGRATIONS_DIR, migrationFiles } from "../../src/store/schema-version.ts";

export const V6_ROWS = fileURLToPath(new URL("../fixtures/store-v6-rows.sql", import.meta.url));

/** Writes `file` with migrations 1..upTo applied as an older build did, then `rowsSql`. */
export function writeOldStore(file: string, upTo: number, rowsSql = ""): void {
  const db = new DatabaseSync(file);
  try {
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
    for (const m of migrationFiles().filter((f) => f.version <= upTo)) {
      db.exec("BEGIN");
      db.exec(readFileSync(join(MIGRATIONS_DIR, m.file), "utf8"));
      db.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)").run(m.version, "2026-11-22T15:52:28.000Z");
      db.exec("COMMIT");
    }
    if (rowsSql) db.exec(`BEGIN; ${rowsSql}; COMMIT;`);
  } finally {
    db.close();
  }
}

/** What the file says without migrating it: user_version and its schema_migrations rows. */
export function peekSchema(file: string): { userVersion: number; applied: number[] } {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    const userVersion = Number((db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version);
    const applied = (db.prepare("SELECT version FROM schema_migrations ORDER BY version").all() as Array<{ version: number }>).map(
      (r) => r.version,
    );
    return { userVersion, applied };
  } finally {
    db.close();
  }
}
