// The store's schema version: the number of its newest migration (./migrations/NNN_*.sql), kept
// twice: one row per applied migration in schema_migrations (what every version since the first
// wrote), and SQLite's PRAGMA user_version in the file header, readable by any later build without
// knowing our tables. A file whose version is beyond this build's was written by a newer cbo: it is
// refused before anything is written, since migrating or writing it with code that does not know
// its tables could lose what the newer one keeps there.
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { CboError } from "../kit/errors.ts";
import { transaction } from "../kit/transaction.ts";

export const MIGRATIONS_DIR = fileURLToPath(new URL("./migrations/", import.meta.url));

export type MigrationFile = { version: number; file: string };

/** The migration files, in order. */
export function migrationFiles(dir: string = MIGRATIONS_DIR): MigrationFile[] {
  return readdirSync(dir)
    .filter((f) => /^\d{3}_.+\.sql$/.test(f))
    .sort()
    .map((file) => ({ version: Number(file.slice(0, 3)), file }));
}

/** The schema version this build writes: its newest migration's number. */
export const STORE_SCHEMA_VERSION = Math.max(0, ...migrationFiles().map((m) => m.version));

type Sql = {
  prepare(sql: string): {
    get(...a: Array<string | number>): unknown;
    all(...a: Array<string | number>): unknown[];
    run(...a: Array<string | number>): unknown;
  };
  exec(sql: string): void;
};

/** What a database says its schema version is: the higher of user_version and its newest applied migration (0: none). */
export function storedSchemaVersion(db: Sql): number {
  const user = Number((db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version);
  const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get() !== undefined;
  const newest = hasTable
    ? Number((db.prepare("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations").get() as { v: number }).v)
    : 0;
  return Math.max(user, newest);
}

/**
 * Throws ERR_STORE_TOO_NEW when the database was written by a newer build. `what` names it for
 * the message (the file, or "the backup <archive>").
 */
export function refuseNewerSchema(found: number, known: number, what: { path: string; label: string; hint: string }): void {
  if (found <= known) return;
  throw new CboError(
    "ERR_STORE_TOO_NEW",
    `${what.label} was written by a newer cbo (schema version ${found}; this cbo knows up to ${known}); it was left unchanged.`,
    { details: { path: what.path, found, known }, hint: what.hint },
  );
}

export const NEWER_STORE_HINT =
  "Run the cbo that wrote it, or a newer one (git pull && npm install, or the newer kit); an older cbo cannot open a data directory once a newer one has used it. To go back to this version, restore a backup this version made into a new directory (cbo restore <archive> --data <new dir>).";

/**
 * Each applied migration's file name is kept beside its number (the `name` column, added here;
 * rows of builds before it are filled in with this build's names). A number recorded under another
 * file means the store was migrated by a build whose migrations are numbered otherwise (branches
 * that each added their own NNN, renumbered when merged): going on would skip this build's
 * migration of that number, so it is refused before any change.
 */
export function checkMigrationNames(db: Sql, file: string, files: MigrationFile[] = migrationFiles()): void {
  const columns = db.prepare("PRAGMA table_info(schema_migrations)").all() as Array<{ name: string }>;
  const byVersion = new Map(files.map((m) => [m.version, m.file]));
  if (columns.some((c) => c.name === "name")) {
    const rows = db.prepare("SELECT version, name FROM schema_migrations WHERE name IS NOT NULL").all() as Array<{
      version: number;
      name: string;
    }>;
    const other = rows.find((r) => byVersion.has(r.version) && byVersion.get(r.version) !== r.name);
    if (other) {
      throw new CboError(
        "ERR_STORE_CORRUPT",
        `${file}: its migration ${other.version} was applied from ${other.name}, but this cbo's migration ${other.version} is ${byVersion.get(other.version)}: a build whose migrations are numbered otherwise migrated it, and opening it here would skip one; it was left unchanged.`,
        {
          details: { path: file, version: other.version, applied: other.name, expected: byVersion.get(other.version) },
          hint: "Open it with the build that migrated it, or restore a backup made before that build into a new directory (cbo restore <archive> --data <new dir>).",
        },
      );
    }
  }
  transaction(db, () => {
    // Read again inside the transaction: another process may have added it since.
    const now = db.prepare("PRAGMA table_info(schema_migrations)").all() as Array<{ name: string }>;
    if (!now.some((c) => c.name === "name")) db.exec("ALTER TABLE schema_migrations ADD COLUMN name TEXT");
    const fill = db.prepare("UPDATE schema_migrations SET name = ? WHERE version = ? AND name IS NULL");
    for (const [version, name] of byVersion) fill.run(name, version);
  });
}
