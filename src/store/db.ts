// The orchestrator's SQLite file (node:sqlite, WAL). Migrations are the numbered .sql files in
// ./migrations, applied forward-only in order; each in one transaction.
import { DatabaseSync } from "node:sqlite";
import { chmodSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { transaction as tx } from "../kit/transaction.ts";

export type Db = DatabaseSync;

const MIGRATIONS_DIR = fileURLToPath(new URL("./migrations/", import.meta.url));

export function openDb(file: string): Db {
  if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
  const db = new DatabaseSync(file);
  // The file holds the vault, token hashes and the audit log: owner only. SQLite gives its -wal
  // and -shm files the database file's permissions.
  if (file !== ":memory:") chmodSync(file, 0o600);
  // synchronous=FULL: in WAL mode a commit is on disk when it returns, which the audit log
  // promises (bench: 54k durable appends/s in 1,000-entry transactions, so it is affordable).
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;");
  migrate(db);
  return db;
}

export function migrate(db: Db): void {
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
  const applied = new Set((db.prepare("SELECT version FROM schema_migrations").all() as Array<{ version: number }>).map((r) => r.version));
  const files = readdirSync(MIGRATIONS_DIR).filter((f) => /^\d{3}_.+\.sql$/.test(f)).sort();
  for (const f of files) {
    const version = Number(f.slice(0, 3));
    if (applied.has(version)) continue;
    tx(db, () => {
      db.exec(readFileSync(join(MIGRATIONS_DIR, f), "utf8"));
      db.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)").run(version, new Date().toISOString());
    });
  }
}

/** One transaction: all-or-nothing. */
export { transaction as tx } from "../kit/transaction.ts";

export const nowIso = () => new Date().toISOString();
