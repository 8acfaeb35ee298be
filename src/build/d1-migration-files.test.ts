// D1 migration files on real directories, named and ordered as wrangler names and orders them
// (the same list `wrangler d1 migrations apply` applies is checked against real wrangler in
// test/wrangler-client-conformance.test.ts), and the pending ones from an applied list.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CboError } from "../kit/errors.ts";
import { compareMigrationPaths, listD1MigrationFiles, pendingD1Migrations, readD1Migration } from "./d1-migration-files.ts";

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function project(files: string[]): { root: string; dir: string } {
  const root = mkdtempSync(join(tmpdir(), "cbo-d1m-"));
  made.push(root);
  const dir = join(root, "migrations");
  mkdirSync(dir);
  for (const rel of files) {
    mkdirSync(join(dir, rel, ".."), { recursive: true });
    writeFileSync(join(dir, rel), `-- ${rel}\nCREATE TABLE t_${rel.replace(/\W/g, "_")}(x);\n`);
  }
  return { root, dir };
}

describe("D1 migration files", () => {
  it("lists *.sql of the directory, leading numbers first and by value, then the rest by text", async () => {
    const { root, dir } = project([
      "10_later.sql",
      "2_second.sql",
      "0001_first.sql",
      "abc.sql",
      "1_also_first.sql",
      "notes.txt",
      ".hidden.sql",
      "sub/3_nested.sql",
      "Zed.sql",
    ]);
    const files = await listD1MigrationFiles({ dir, root });
    expect(files.map((f) => f.name)).toEqual(["0001_first.sql", "1_also_first.sql", "2_second.sql", "10_later.sql", "Zed.sql", "abc.sql"]);
    expect(files[0]!.file).toBe(join(dir, "0001_first.sql"));
    expect(await readD1Migration(files[0]!, { root })).toContain("CREATE TABLE t_0001_first_sql");
  });

  it("follows migrations_pattern below the directory (drizzle's <dir>/*/migration.sql), relative to the wrangler file", async () => {
    const { root, dir } = project([
      "20250102_b/migration.sql",
      "20250101_a/migration.sql",
      "20250101_a/snapshot.json",
      "loose.sql",
      "x/y/migration.sql",
    ]);
    const names = async (pattern: string) => (await listD1MigrationFiles({ dir, root, pattern, patternBase: root })).map((f) => f.name);
    expect(await names("migrations/*/migration.sql")).toEqual(["20250101_a/migration.sql", "20250102_b/migration.sql"]);
    expect(await names("./migrations/**/migration.sql")).toEqual([
      "20250101_a/migration.sql",
      "20250102_b/migration.sql",
      "x/y/migration.sql",
    ]);
    expect(await names("migrations/{loose,x/y/migration}.sql")).toEqual(["loose.sql", "x/y/migration.sql"]);
    const e = await listD1MigrationFiles({ dir, root, pattern: "db/*.sql", patternBase: root }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CboError);
    expect((e as CboError).message).toContain('must start with "migrations/"');
    const unsupported = await listD1MigrationFiles({ dir, root, pattern: "migrations/!(x)/*.sql", patternBase: root }).catch(
      (x: unknown) => x,
    );
    expect((unsupported as CboError).message).toMatch(/glob syntax/);
  });

  it("skips symlinks as wrangler's walk does, finds nothing in a missing directory, and refuses one outside the project", async () => {
    const { root, dir } = project(["1_a.sql"]);
    writeFileSync(join(root, "elsewhere.sql"), "SELECT 1;");
    symlinkSync(join(root, "elsewhere.sql"), join(dir, "2_link.sql"));
    expect((await listD1MigrationFiles({ dir, root })).map((f) => f.name)).toEqual(["1_a.sql"]);
    expect(await listD1MigrationFiles({ dir: join(root, "none"), root })).toEqual([]);
    const other = project(["1_x.sql"]);
    const e = await listD1MigrationFiles({ dir: other.dir, root }).catch((x: unknown) => x);
    expect((e as CboError).code).toBe("ERR_BUNDLE_CONFINED");
  });

  it("pending: the files the table does not hold, in file order (a set difference)", () => {
    const files = ["1_a.sql", "2_b.sql", "3_c.sql", "4_d.sql"];
    expect(pendingD1Migrations(files, ["1_a.sql", "3_c.sql"])).toEqual(["2_b.sql", "4_d.sql"]);
    expect(
      pendingD1Migrations(
        files.map((name) => ({ name })),
        ["4_d.sql", "old_gone.sql"],
      ).map((f) => f.name),
    ).toEqual(["1_a.sql", "2_b.sql", "3_c.sql"]);
    expect(pendingD1Migrations(files, files)).toEqual([]);
  });

  it("orders paths segment by segment, a shorter path first", () => {
    const sorted = ["2/b.sql", "10/a.sql", "2/a.sql", "2", "x/1.sql", "1_x/9.sql"].sort(compareMigrationPaths);
    expect(sorted).toEqual(["1_x/9.sql", "2", "2/a.sql", "2/b.sql", "10/a.sql", "x/1.sql"]);
  });
});
