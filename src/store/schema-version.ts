// The store's schema version: the number of its newest migration (./migrations/NNN_*.sql), kept
// twice: one row per applied migration in schema_migrations (what every version since the first
// wrote), and SQLite's PRAGMA user_version in the file header, readable by any later build without
// knowing our tables. A file whose version is beyond this build's was written by a newer cbo: it is
// refused before anything is written, since migrating or writing it with code that does not know
// its tables could lose what the newer one keeps there.
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { CboError } from "../kit/errors.ts";

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

type Sql = { prepare(sql: string): { get(): unknown; all(): unknown[] } };

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
