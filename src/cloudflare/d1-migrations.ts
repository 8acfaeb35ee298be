// D1 migrations over `/query`, with the SQL `wrangler d1 migrations apply --remote` sends
// (wrangler/src/d1/migrations/helpers.ts, 4.1xx; FLEET §1.9), so that a database migrated by the
// orchestrator and one migrated by wrangler keep the same table and can be handed between them:
//   table    CREATE TABLE IF NOT EXISTS "<table>"(id …, name TEXT UNIQUE, applied_at …)
//   applied  SELECT * FROM "<table>" ORDER BY id  -> the `name` column
//   apply    one /query per file: its SQL, then INSERT INTO "<table>" (name) values ('<name>'),
//            in one transaction (a failing migration leaves nothing behind, the earlier ones stay)
// Which files are pending is the build layer's (src/build/d1-migration-files.ts).
import { CboError } from "../kit/errors.ts";
import type { ApiContext } from "./context.ts";
import { createD1Api } from "./d1.ts";
import type { D1QueryResult } from "./schemas-data.ts";

/** wrangler's default `migrations_table`. */
export const DEFAULT_D1_MIGRATIONS_TABLE = "d1_migrations";

/** A quoted SQLite identifier (wrangler's escapeIdentifier). */
export function escapeIdentifier(id: string): string {
  return `"${id.replace(/"/g, '""')}"`;
}

export function createMigrationsTableSql(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${escapeIdentifier(table)}(
		id         INTEGER PRIMARY KEY AUTOINCREMENT,
		name       TEXT UNIQUE,
		applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL
);`;
}

export function listAppliedMigrationsSql(table: string): string {
  return `SELECT *
		FROM ${escapeIdentifier(table)}
		ORDER BY id`;
}

/** One migration file's body as wrangler sends it: the file, then the row recording it. */
export function migrationSql(table: string, name: string, sql: string): string {
  return `${sql}
INSERT INTO ${escapeIdentifier(table)} (name)
values ('${name.replace(/'/g, "''")}');`;
}

export function createD1MigrationsApi(ctx: ApiContext) {
  const d1 = createD1Api(ctx);

  return {
    /** Creates the migrations table if it is missing (wrangler's first request of `apply`). */
    async ensureD1MigrationsTable(databaseId: string, table: string = DEFAULT_D1_MIGRATIONS_TABLE): Promise<void> {
      await d1.queryD1(databaseId, createMigrationsTableSql(table));
    },

    /**
     * The names recorded in the migrations table, in the order applied; [] when the table does not
     * exist. Unlike wrangler this reads without creating the table (a plan must not write): it
     * looks the table up in sqlite_master first, then reads it as wrangler does.
     */
    async listAppliedD1Migrations(databaseId: string, table: string = DEFAULT_D1_MIGRATIONS_TABLE): Promise<string[]> {
      const [probe] = await d1.queryD1(databaseId, {
        sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?",
        params: [table],
      });
      if (!probe || probe.results.length === 0) return [];
      const [rows] = await d1.queryD1(databaseId, listAppliedMigrationsSql(table));
      return (rows?.results ?? []).map((r) => {
        if (typeof r.name !== "string") {
          throw new CboError("ERR_CF_RESPONSE", `D1 migrations table ${table} of database ${databaseId} holds a row without a name`, {
            details: { row: r },
          });
        }
        return r.name;
      });
    },

    /**
     * Applies one migration (its SQL and the row recording it, in one request and one
     * transaction). Call ensureD1MigrationsTable first, as wrangler does.
     */
    async applyD1Migration(databaseId: string, migration: { name: string; sql: string; table?: string }): Promise<D1QueryResult[]> {
      const table = migration.table ?? DEFAULT_D1_MIGRATIONS_TABLE;
      const results = await d1.queryD1(databaseId, migrationSql(table, migration.name, migration.sql));
      if (results.some((r) => r.success !== true)) {
        throw new CboError("ERR_CF_REQUEST", `D1 migration ${migration.name} did not succeed on database ${databaseId}`, {
          details: { migration: migration.name, databaseId },
        });
      }
      return results;
    },
  };
}
