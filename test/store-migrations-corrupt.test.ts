// A store whose schema_migrations table no longer says what the file holds (rows deleted, the
// table dropped, a view in its place): opening it is ERR_STORE_CORRUPT naming the migration that
// could not be applied and SQLite's reason, with the file left byte for byte as it was; the
// offline CLI says so with its hint, exit 2, no stack. (Was: SQLite's bare "table … already exists".)
import { createHash } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DB_FILE } from "../src/backup/format.ts";
import { isCboError } from "../src/kit/errors.ts";
import { createStore } from "../src/store/index.ts";
import { generateKeyFile } from "../src/vault/index.ts";
import { makeTempDir } from "./support/edge.ts";
import { runCbo } from "./support/run-cbo.ts";

const sha = (f: string) => createHash("sha256").update(readFileSync(f)).digest("hex");

describe("a store whose schema_migrations is corrupted", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir("migcorrupt");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A store this build made, then `sql` run on it behind its back. */
  const damaged = (name: string, sql: string): string => {
    const file = join(dir, name, DB_FILE);
    createStore(file).close();
    const db = new DatabaseSync(file);
    db.exec(sql);
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    db.close();
    return file;
  };

  const cases: Array<[string, string, RegExp]> = [
    ["row-deleted", "DELETE FROM schema_migrations WHERE version = 3", /applying 003_\w+\.sql failed with "table \w+ already exists"/],
    [
      "table-dropped",
      "DROP TABLE schema_migrations; PRAGMA user_version = 0",
      /holds tables \(.+\) but its schema_migrations table records no migration/,
    ],
    [
      "rows-deleted",
      "DELETE FROM schema_migrations; PRAGMA user_version = 0",
      /holds tables \(.+\) but its schema_migrations table records no migration/,
    ],
    [
      "a-view",
      "ALTER TABLE schema_migrations RENAME TO kept; CREATE VIEW schema_migrations AS SELECT * FROM kept",
      /reading schema_migrations failed with "cannot modify schema_migrations because it is a view"/,
    ],
  ];

  for (const [name, sql, why] of cases) {
    it(`${name}: ERR_STORE_CORRUPT naming the step and SQLite's reason; the file unchanged`, () => {
      const file = damaged(name, sql);
      const before = sha(file);
      let caught: unknown;
      try {
        createStore(file).close();
      } catch (e) {
        caught = e;
      }
      expect(isCboError(caught) && caught.code).toBe("ERR_STORE_CORRUPT");
      expect((caught as Error).message).toMatch(why);
      expect(sha(file)).toBe(before);
    });
  }

  it("the offline CLI says it with its hint, exit 2, no stack", async () => {
    const file = damaged("cli", "DELETE FROM schema_migrations WHERE version = 3");
    const data = join(dir, "cli");
    generateKeyFile(join(data, "master.key"));
    const r = await runCbo(["tokens", "create", "--offline", "--data", data, "--name", "x", "--role", "admin"], {
      env: { CBO_MASTER_KEY_FILE: join(data, "master.key") },
    });
    // 2: a damaged store is not the user's input (ERR_STORE_CORRUPT's exit code everywhere).
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error ERR_STORE_CORRUPT: The orchestrator's database ${file} is damaged (its schema_migrations table`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).not.toMatch(/cbo_admin_/);
  });
});
