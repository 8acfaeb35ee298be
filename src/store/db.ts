// The orchestrator's SQLite file (node:sqlite, WAL). Migrations are the numbered .sql files in
// ./migrations, applied forward-only in order; each in one transaction (schema-version.ts: what a
// file written by a newer build gets).
import { DatabaseSync } from "node:sqlite";
import { chmodSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { transaction as tx } from "../kit/transaction.ts";
import { classifyStorageError, corruptError, DEFAULT_HEADROOM_BYTES } from "./storage-errors.ts";
import {
  checkMigrationNames,
  MIGRATIONS_DIR,
  migrationFiles,
  NEWER_STORE_HINT,
  refuseNewerSchema,
  STORE_SCHEMA_VERSION,
  storedSchemaVersion,
} from "./schema-version.ts";

export type Db = DatabaseSync;

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
    migrate(db, file);
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

/**
 * Applies the migrations this file lacks, each in one transaction with its schema_migrations row and
 * the user_version it reaches: a process killed part-way leaves the file at the last whole one, and
 * the next open goes on from there. A file written by a newer build is refused before any write.
 */
export function migrate(db: Db, file = ":memory:"): void {
  refuseNewerSchema(storedSchemaVersion(db), STORE_SCHEMA_VERSION, { path: file, label: file, hint: NEWER_STORE_HINT });
  refuseUnrecordedTables(db, file);
  let step = "reading schema_migrations";
  try {
    db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
    checkMigrationNames(db, file);
    applyMissing(db, (m) => {
      step = `applying ${m}`;
    });
  } catch (e) {
    // SQLITE_ERROR (a table already there, a view in the table's place): schema_migrations does not
    // say what the file holds, a damaged store rather than SQLite's bare words. Each migration is one
    // transaction, so the failing one left nothing. A full disk or I/O error keeps its own name.
    if ((e as { errcode?: number }).errcode === 1)
      throw corruptError(
        file,
        e,
        `its schema_migrations table does not match its tables: ${step} failed with "${(e as Error).message}", and was rolled back`,
      );
    throw e;
  }
}

/**
 * A file with our tables but no record of the migrations that made them (schema_migrations dropped
 * or emptied) is refused before the table is made again: migrating it would start from 001 over
 * tables that are there, and a fresh schema_migrations left behind would hide what happened.
 */
function refuseUnrecordedTables(db: Db, file: string): void {
  const names = (
    db.prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as Array<{
      name: string;
    }>
  ).map((r) => r.name);
  const others = names.filter((n) => n !== "schema_migrations");
  if (others.length === 0) return;
  const recorded =
    names.includes("schema_migrations") && Number((db.prepare("SELECT count(*) AS n FROM schema_migrations").get() as { n: number }).n) > 0;
  if (!recorded)
    throw corruptError(
      file,
      undefined,
      `it holds tables (${others.slice(0, 3).join(", ")}${others.length > 3 ? ", …" : ""}) but its schema_migrations table records no migration; it was left as it was`,
    );
}

function applyMissing(db: Db, applying: (file: string) => void): void {
  const applied = (): Set<number> =>
    new Set((db.prepare("SELECT version FROM schema_migrations").all() as Array<{ version: number }>).map((r) => r.version));
  const before = applied();
  for (const m of migrationFiles()) {
    if (before.has(m.version)) continue;
    applying(m.file);
    tx(db, () => {
      // Another process may have applied it since the read above (an offline command and a start).
      if (applied().has(m.version)) return;
      db.exec(readFileSync(join(MIGRATIONS_DIR, m.file), "utf8"));
      db.prepare("INSERT INTO schema_migrations (version, applied_at, name) VALUES (?, ?, ?)").run(
        m.version,
        new Date().toISOString(),
        m.file,
      );
      db.exec(`PRAGMA user_version = ${m.version}`);
    });
  }
  // A file every migration of which an older build applied has user_version 0: stamp it, so that
  // a later build can read the version from the header alone.
  if (storedSchemaVersion(db) > Number((db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version)) {
    tx(db, () => db.exec(`PRAGMA user_version = ${storedSchemaVersion(db)}`));
  }
}

/** One transaction: all-or-nothing. */
export { transaction as tx } from "../kit/transaction.ts";

export const nowIso = () => new Date().toISOString();
