// The orchestrator's SQLite file (node:sqlite, WAL). Migrations are the numbered .sql files in
// ./migrations, applied forward-only in order; each in one transaction.
import { DatabaseSync } from "node:sqlite";
import { chmodSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { transaction as tx } from "../kit/transaction.ts";
import { classifyStorageError, corruptError, DEFAULT_HEADROOM_BYTES } from "./storage-errors.ts";

export type Db = DatabaseSync;

const MIGRATIONS_DIR = fileURLToPath(new URL("./migrations/", import.meta.url));

export type OpenDbOptions = {
  /** Run SQLite's quick_check first (b-tree structure of every page; ~0.1 s per 100 MB): what the daemon does at start. */
  check?: boolean;
};

/**
 * Opens (creating if needed) and migrates. A damaged file is ERR_STORE_CORRUPT and a full disk
 * ERR_DISK_FULL, named here rather than by whichever write meets them first.
 */
export function openDb(file: string, opts: OpenDbOptions = {}): Db {
  const memory = file === ":memory:";
  if (!memory) mkdirSync(dirname(file), { recursive: true });
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(file);
    // The file holds the vault, token hashes and the audit log: owner only. SQLite gives its -wal
    // and -shm files the database file's permissions.
    if (!memory) chmodSync(file, 0o600);
    // synchronous=FULL: in WAL mode a commit is on disk when it returns, which the audit log
    // promises (bench: 54k durable appends/s in 1,000-entry transactions, so it is affordable).
    // journal_size_limit: after a checkpoint the WAL file is cut back to 4 MiB, so a burst does
    // not keep its disk space for good.
    db.exec(
      "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA journal_size_limit = 4194304;",
    );
    if (opts.check && !memory) quickCheck(db, file);
    migrate(db);
    return db;
  } catch (e) {
    try {
      db?.close();
    } catch {
      // already failing: the first error is the one to report
    }
    throw (memory ? undefined : classifyStorageError(e, { path: file, neededBytes: DEFAULT_HEADROOM_BYTES })) ?? e;
  }
}

function quickCheck(db: Db, file: string): void {
  const rows = db.prepare("PRAGMA quick_check(3)").all() as Array<Record<string, unknown>>;
  const found = rows.map((r) => String(Object.values(r)[0]));
  if (found.length === 1 && found[0] === "ok") return;
  throw corruptError(file, undefined, `SQLite's quick_check: ${found.join("; ").slice(0, 300)}`);
}

export function migrate(db: Db): void {
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
  const applied = new Set((db.prepare("SELECT version FROM schema_migrations").all() as Array<{ version: number }>).map((r) => r.version));
  const files = readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d{3}_.+\.sql$/.test(f))
    .sort();
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
