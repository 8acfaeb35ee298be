// A transaction that SQLite rolls back by itself (a full disk) reports why, not "cannot rollback".
import { DatabaseSync } from "node:sqlite";
import { describe, expect, it } from "vitest";
import { transaction } from "../kit/transaction.ts";

describe("transaction", () => {
  it("commits, rolls back on a throw, and keeps the first error when SQLite already rolled back", () => {
    const db = new DatabaseSync(":memory:");
    db.exec("CREATE TABLE t (b BLOB)");
    transaction(db, () => db.prepare("INSERT INTO t VALUES (zeroblob(10))").run());
    expect(() =>
      transaction(db, () => {
        db.prepare("INSERT INTO t VALUES (zeroblob(10))").run();
        throw new Error("stop");
      }),
    ).toThrow("stop");
    expect((db.prepare("SELECT COUNT(*) AS n FROM t").get() as { n: number }).n).toBe(1);
    // The file may not grow: a write that needs a page fails with SQLITE_FULL, and SQLite ends
    // the transaction itself.
    db.exec("PRAGMA max_page_count = 1");
    expect(() => transaction(db, () => db.prepare("INSERT INTO t VALUES (zeroblob(100000))").run())).toThrow(/database or disk is full/);
    expect(() => transaction(db, () => db.prepare("INSERT INTO t VALUES (zeroblob(10))").run())).not.toThrow();
  });
});
