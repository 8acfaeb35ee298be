import { describe, expect, it } from "vitest";
import { failingStatement } from "./d1-phase.ts";

describe("failingStatement", () => {
  const sql =
    "CREATE TABLE labels (id INTEGER PRIMARY KEY);\n-- the second one\nCREAT TABLE oops (id INTEGER);\nINSERT INTO labels VALUES (1);\n";
  it("finds the statement a syntax error points at, as a whole token", () => {
    expect(failingStatement(sql, 'near "CREAT": syntax error: SQLITE_ERROR')).toEqual({ index: 2, text: "CREAT TABLE oops (id INTEGER)" });
  });
  it("finds the statement naming a missing table or column", () => {
    expect(failingStatement("CREATE TABLE a (x);\nINSERT INTO missing VALUES (1);", "no such table: missing: SQLITE_ERROR")).toEqual({
      index: 2,
      text: "INSERT INTO missing VALUES (1)",
    });
    expect(
      failingStatement("ALTER TABLE a ADD COLUMN x;\nALTER TABLE a ADD COLUMN x;", "duplicate column name: x: SQLITE_ERROR")?.index,
    ).toBe(1);
  });
  it("says nothing when the message names nothing in the file (a single statement is that one)", () => {
    expect(failingStatement(sql, "database is locked")).toBeUndefined();
    expect(failingStatement("DROP TABLE t;", "database is locked")).toEqual({ index: 1, text: "DROP TABLE t" });
  });
  it("shortens a long statement to one line", () => {
    const long = `INSERT INTO t VALUES ${Array.from({ length: 80 }, (_, i) => `(${i})`).join(",\n")};`;
    const found = failingStatement(long, "no such table: t: SQLITE_ERROR")!;
    expect(found.text.length).toBe(160);
    expect(found.text).not.toContain("\n");
  });
});
