import { cpSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { D1SqlError, openD1Engine, type D1Engine } from "./engine.ts";
import { splitSql } from "../../kit/split-sql.ts";
import { dumpSql } from "./dump.ts";
import { MAX_QUERIES_PER_HOUR, MAX_QUERY_CHARS } from "./usage.ts";

const dirs: string[] = [];
const engines: D1Engine[] = [];
function open(dir = mkdtempSync(join(tmpdir(), "cbo-d1-")), now?: () => number): D1Engine {
  dirs.push(dir);
  const e = openD1Engine({ id: "db-1", dir, region: "WEUR", ...(now ? { now } : {}) });
  engines.push(e);
  return e;
}
afterEach(() => {
  for (const e of engines.splice(0)) {
    try {
      e.close();
    } catch {
      /* closed by the test */
    }
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const rows = (e: D1Engine, sql: string) => e.runAtomic([{ sql }]).results[0]!.at(-1)!.rows;

describe("splitSql", () => {
  it("splits on the semicolons SQLite would, not inside strings, comments or trigger bodies", () => {
    const s = splitSql("select 'a;b'; -- x;\n/* ; */ CREATE TRIGGER t AFTER INSERT ON x BEGIN UPDATE y SET z = 1; END; ;; select [c;d]");
    expect(s.map((x) => x.keyword)).toEqual(["select", "create", "select"]);
    expect(s[1]!.sql).toContain("END");
    expect(splitSql("  -- only a comment\n ; ")).toEqual([]);
  });
});

describe("D1 engine", () => {
  it("answers per statement with D1's meta, binds whole numbers as INTEGER and blobs as byte arrays", () => {
    const e = open();
    const r = e.runAtomic([
      {
        sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, b BLOB); INSERT INTO t (v) VALUES ('a'), ('b'); SELECT count(*) AS n FROM t",
      },
    ]);
    expect(r.results[0]).toHaveLength(3);
    expect(r.results[0]![1]!.meta).toMatchObject({ changes: 2, last_row_id: 2, changed_db: true, rows_written: 2 });
    expect(r.results[0]![2]!.rows).toEqual([[2]]);
    expect(r.results[0]![2]!.meta.size_after).toBeGreaterThan(0);
    const typed = e.runAtomic([{ sql: "SELECT typeof(?) AS a, typeof(?) AS b, ? AS c", params: [3, 1.5, [1, 2, 255]] }]).results[0]![0]!;
    expect(typed.columns).toEqual(["a", "b", "c"]);
    expect(typed.rows).toEqual([["integer", "real", [1, 2, 255]]]);
  });

  it("applies a body atomically: a failing statement leaves nothing behind, with SQLite's code in the message", () => {
    const e = open();
    e.runAtomic([{ sql: "CREATE TABLE t (id INTEGER PRIMARY KEY)" }]);
    let err: unknown;
    try {
      e.runAtomic([{ sql: "INSERT INTO t VALUES (1)" }, { sql: "INSERT INTO t VALUES (2); INSERT INTO t VALUES (2)" }]);
    } catch (x) {
      err = x;
    }
    expect(err).toBeInstanceOf(D1SqlError);
    expect((err as D1SqlError).message).toBe("UNIQUE constraint failed: t.id: SQLITE_CONSTRAINT");
    expect((err as D1SqlError).index).toBe(1);
    expect(rows(e, "SELECT count(*) FROM t")).toEqual([[0]]);
  });

  it("refuses what D1 refuses: ATTACH, transactions, VACUUM and undocumented PRAGMAs", () => {
    const e = open();
    const fails = (sql: string) => {
      try {
        e.runAtomic([{ sql }]);
      } catch (x) {
        return (x as Error).message;
      }
      return "ok";
    };
    expect(fails("ATTACH '/tmp/x.db' AS x")).toMatch(/ATTACH and DETACH are not allowed.*SQLITE_AUTH/);
    expect(fails("BEGIN")).toMatch(/BEGIN, COMMIT.*not allowed/);
    expect(fails("PRAGMA journal_mode = DELETE")).toMatch(/PRAGMA journal_mode is not allowed/);
    expect(fails("VACUUM INTO '/tmp/cbo-vacuum.db'")).toMatch(/VACUUM is not allowed/);
    expect(fails("PRAGMA table_list")).toBe("ok");
  });

  it("keeps D1's limits on queries (statement, parameters, columns, function arguments, LIKE pattern, value size), not on imports", () => {
    const e = open();
    const refusal = (sql: string, params: unknown[] = [], each = false) => {
      try {
        if (each) e.runEach([{ sql, params }]);
        else e.runAtomic([{ sql, params }]);
        return "ran";
      } catch (err) {
        return (err as Error).message;
      }
    };
    const vars = (n: number) => Array.from({ length: n }, () => "?").join(",");
    const cols = (n: number) => Array.from({ length: n }, (_, i) => `c${i}`).join(",");
    /** A statement of exactly `n` bytes. */
    const stmt = (n: number) => `SELECT '${"x".repeat(n - 9)}'`;
    expect(refusal(`SELECT ${vars(100)}`, Array(100).fill(1))).toBe("ran");
    // workerd's words, offset and all.
    expect(refusal(`SELECT ${vars(101)}`, Array(101).fill(1))).toBe("too many SQL variables at offset 207: SQLITE_ERROR");
    expect(refusal(stmt(100_000))).toBe("ran");
    expect(refusal(stmt(100_001))).toBe("statement too long: SQLITE_TOOBIG");
    expect(refusal(`CREATE TABLE c100 (${cols(100)})`)).toBe("ran");
    expect(refusal(`CREATE TABLE c101 (${cols(101)})`)).toBe("too many columns on c101: SQLITE_ERROR");
    expect(refusal(`SELECT max(${Array(32).fill(1).join(",")})`)).toBe("ran");
    expect(refusal(`SELECT max(${Array(33).fill(1).join(",")})`)).toBe("too many arguments on function max: SQLITE_ERROR");
    expect(refusal("SELECT 'a' LIKE ?", ["a".repeat(50)])).toBe("ran");
    expect(refusal("SELECT 'a' LIKE ?", ["a".repeat(51)])).toBe("LIKE or GLOB pattern too complex: SQLITE_ERROR");
    expect(refusal("SELECT length(?)", ["x".repeat(2_000_000)])).toBe("ran");
    expect(refusal("SELECT length(?)", ["x".repeat(2_000_001)])).toBe("string or blob too big: SQLITE_TOOBIG");
    expect(refusal("SELECT length(zeroblob(2000001))")).toBe("string or blob too big: SQLITE_TOOBIG");
    // exec() (runEach) keeps them too.
    expect(refusal(stmt(100_001), [], true)).toBe("statement too long: SQLITE_TOOBIG");
    // An import is one file: a long statement (a dump's INSERT of a big row) and 101 columns go in.
    const long = `CREATE TABLE big (${cols(101)}); INSERT INTO big (c0) VALUES ('${"y".repeat(150_000)}')`;
    expect(e.runAtomic([{ sql: long }], { import: true }).results[0]).toHaveLength(2);
    // The same text as a query afterwards is refused again (not reused from the import's cache).
    e.runAtomic([{ sql: stmt(100_001) }], { import: true });
    expect(refusal(stmt(100_001))).toBe("statement too long: SQLITE_TOOBIG");
    expect(rows(e, "SELECT length(c0) FROM big")).toEqual([[150_000]]);
  });

  it("Time Travel: a bookmark at any moment restores exactly, including random() and CURRENT_TIMESTAMP values", () => {
    let clock = 1_000_000;
    const e = open(undefined, () => clock);
    const created = e.bookmark();
    clock += 1000;
    e.runAtomic([{ sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, r INTEGER, at TEXT DEFAULT CURRENT_TIMESTAMP)" }]);
    clock += 1000;
    e.runAtomic([{ sql: "INSERT INTO t (r) VALUES (random()), (random())" }]);
    const atTwo = e.bookmark();
    const two = rows(e, "SELECT * FROM t ORDER BY id");
    clock += 1000;
    e.runAtomic([{ sql: "INSERT INTO t (r) VALUES (random()); DELETE FROM t WHERE id = 1" }]);
    const later = rows(e, "SELECT * FROM t ORDER BY id");
    expect(later).not.toEqual(two);
    // The moment between the two writes maps to the first one's bookmark.
    expect(e.bookmarkAt(1_002_500)).toBe(atTwo);
    expect(e.bookmarkAt(0)).toBe(created);

    const r = e.restore(atTwo);
    expect(rows(e, "SELECT * FROM t ORDER BY id")).toEqual(two);
    expect(r.previous_bookmark > atTwo).toBe(true);
    expect(r.bookmark > r.previous_bookmark).toBe(true);
    // Undoing the restore brings the later state back, exactly.
    e.restore(r.previous_bookmark);
    expect(rows(e, "SELECT * FROM t ORDER BY id")).toEqual(later);
    // Back to creation: no tables at all.
    e.restore(created);
    expect(e.numTables()).toBe(0);
    expect(e.knows("00000000-00000001-00000000-" + "0".repeat(32))).toBe(false);
  });

  it("a call that takes the history past 8 MiB since its last snapshot snapshots and answers as usual, and so do the next", () => {
    const e = open();
    e.runAtomic([{ sql: "CREATE TABLE t (v BLOB)" }]);
    const before = e.bookmark();
    // 10 MB of pages in one import-sized call: the snapshot (a serialize) comes right after it.
    const big = e.runAtomic(
      [{ sql: "WITH n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10) INSERT INTO t SELECT randomblob(1000000) FROM n" }],
      {
        import: true,
      },
    );
    expect(big.results[0]![0]!.meta.changes).toBe(10);
    const small = e.runAtomic([{ sql: "INSERT INTO t VALUES (x'00')" }]);
    expect(small.results[0]![0]!.meta.changes).toBe(1);
    expect(rows(e, "SELECT count(*) FROM t")).toEqual([[11]]);
    e.restore(before);
    expect(rows(e, "SELECT count(*) FROM t")).toEqual([[0]]);
  });

  it("survives a stop between a commit and its capture: the frames left in the wal become history", () => {
    const e = open();
    e.runAtomic([{ sql: "CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('kept')" }]);
    // A copy taken while the edge runs still holds the wal, as after a SIGKILL.
    const copy = mkdtempSync(join(tmpdir(), "cbo-d1-copy-"));
    cpSync(dirs[0]!, copy, { recursive: true });
    expect(statSync(join(copy, "db.sqlite-wal")).size).toBeGreaterThan(0);
    const again = open(copy);
    expect(rows(again, "SELECT v FROM t")).toEqual([["kept"]]);
    const b = again.bookmark();
    again.runAtomic([{ sql: "DELETE FROM t" }]);
    again.restore(b);
    expect(rows(again, "SELECT v FROM t")).toEqual([["kept"]]);
  });

  it("dumps SQL that rebuilds the same database", () => {
    const e = open();
    e.runAtomic([
      {
        sql: "CREATE TABLE a (id INTEGER PRIMARY KEY AUTOINCREMENT, s TEXT, b BLOB); CREATE INDEX a_s ON a (s); INSERT INTO a (s, b) VALUES ('it''s', x'00ff'), (NULL, NULL)",
      },
    ]);
    const sql = e.read((db) => dumpSql(db, {}));
    expect(sql).toContain(`INSERT INTO "a" ("id","s","b") VALUES(1,'it''s',X'00ff');`);
    const other = open();
    other.runAtomic([{ sql }]);
    expect(rows(other, "SELECT id, s, b FROM a ORDER BY id")).toEqual(rows(e, "SELECT id, s, b FROM a ORDER BY id"));
    expect(e.read((db) => dumpSql(db, { no_data: true }))).not.toContain("INSERT");
  });
});

describe("D1 per-query usage (d1 insights)", () => {
  it("counts each statement text per hour with its rows and time; a failed call counts nothing", () => {
    let t = Date.parse("2026-03-02T10:15:00Z");
    const e = open(undefined, () => t);
    e.runAtomic([{ sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)" }]);
    for (const v of ["a", "b", "c"]) e.runAtomic([{ sql: "INSERT INTO t (v) VALUES (?)", params: [v] }]);
    e.runEach([{ sql: "SELECT v FROM t" }, { sql: "  SELECT v FROM t  " }]);
    expect(() => e.runAtomic([{ sql: "SELECT v FROM t" }, { sql: "INSERT INTO nope VALUES (1)" }])).toThrow(D1SqlError);
    t += 3600_000;
    e.runAtomic([{ sql: "SELECT v FROM t" }]);
    const all = e.queries(0, t);
    const by = (q: string) => all.find((x) => x.query === q);
    expect(by("INSERT INTO t (v) VALUES (?)")).toMatchObject({ count: 3, rowsWritten: 3, rowsReturned: 0 });
    // Two runs in the first hour (whitespace trimmed, same text), none from the failed call, one in the next hour.
    expect(by("SELECT v FROM t")).toMatchObject({ count: 3, rowsRead: 9, rowsReturned: 9, rowsWritten: 0 });
    expect(by("SELECT v FROM t")!.durationMs).toBeGreaterThan(0);
    expect(by("INSERT INTO nope VALUES (1)")).toBeUndefined();
    expect(e.queries(0, Date.parse("2026-03-02T10:59:59Z")).find((x) => x.query === "SELECT v FROM t")!.count).toBe(2);
  });

  it("keeps at most MAX_QUERIES_PER_HOUR texts an hour and cuts long texts", () => {
    const t = Date.parse("2026-03-02T10:15:00Z");
    const e = open(undefined, () => t);
    e.runAtomic([{ sql: "CREATE TABLE t (id INTEGER PRIMARY KEY)" }]);
    for (let i = 0; i < MAX_QUERIES_PER_HOUR + 20; i++) e.runAtomic([{ sql: `SELECT ${i} AS n FROM t` }]);
    // Texts seen before the cap keep counting.
    e.runAtomic([{ sql: "SELECT 5 AS n FROM t" }]);
    const all = e.queries(0, t);
    expect(all).toHaveLength(MAX_QUERIES_PER_HOUR);
    expect(all.find((x) => x.query === "SELECT 5 AS n FROM t")!.count).toBe(2);
    expect(all.find((x) => x.query === `SELECT ${MAX_QUERIES_PER_HOUR + 5} AS n FROM t`)).toBeUndefined();

    const e2 = open(undefined, () => t);
    const long = `SELECT '${"x".repeat(MAX_QUERY_CHARS * 2)}' AS v`;
    e2.runAtomic([{ sql: long }]);
    expect(e2.queries(0, t).map((x) => x.query)).toEqual([long.slice(0, MAX_QUERY_CHARS)]);
  });
});
