// Storage failures named from the errors SQLite and the kernel really raise, without root: a page
// limit (PRAGMA max_page_count) makes SQLite answer SQLITE_FULL exactly as a full disk does (the same
// result code; only the cause differs), /dev/full answers every write with ENOSPC, and a file of
// random bytes is SQLITE_NOTADB. The full filesystem itself is exercised in test/disk-full.test.ts.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { describe, expect, it } from "vitest";
import { CboError } from "../kit/errors.ts";
import { transaction } from "../kit/transaction.ts";
import { openDb } from "./db.ts";
import { classifyStorageError, sqliteCode } from "./storage-errors.ts";

const where = { path: "/data/orchestrator.sqlite", neededBytes: 8 * 1024 * 1024 };
const thrown = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error("did not throw");
};

/** A database that cannot grow past a few pages: SQLITE_FULL on the next large write. */
function smallDb(): DatabaseSync {
  const db = openDb(join(mkdtempSync(join(tmpdir(), "cbo-storage-")), "o.sqlite"));
  db.exec("CREATE TABLE blobs (b BLOB)");
  const pages = Number((db.prepare("PRAGMA page_count").get() as { page_count: number }).page_count);
  db.exec(`PRAGMA max_page_count = ${pages + 2}`);
  return db;
}

describe("classifyStorageError", () => {
  it("SQLITE_FULL is ERR_DISK_FULL with the path, the bytes free and the bytes needed", () => {
    const db = smallDb();
    const e = thrown(() => db.prepare("INSERT INTO blobs VALUES (?)").run(Buffer.alloc(64 * 1024)));
    expect(sqliteCode(e)).toBe(13);
    const named = classifyStorageError(e, where)!;
    expect(named.code).toBe("ERR_DISK_FULL");
    expect(named.status).toBe(507);
    expect(named.message).toMatch(
      /^The disk holding \/data\/orchestrator\.sqlite is full \(.*at least 8\.0 MiB needed\); nothing was changed\.$/,
    );
    expect(named.details).toMatchObject({ path: where.path, neededBytes: where.neededBytes });
    // Wrapped by a fail-closed layer (the audit log): still named by its cause.
    expect(classifyStorageError(new CboError("ERR_AUDIT_UNAVAILABLE", "x", { cause: e }), where)?.code).toBe("ERR_DISK_FULL");
    db.close();
  });

  it("ENOSPC (a write to /dev/full) is ERR_DISK_FULL naming the file written; EFBIG and others are not", () => {
    const e = thrown(() => writeFileSync("/dev/full", "x"));
    expect((e as NodeJS.ErrnoException).code).toBe("ENOSPC");
    const named = classifyStorageError(e, { path: "/dev/full", neededBytes: 4096 });
    expect([named?.code, named?.details]).toEqual([
      "ERR_DISK_FULL",
      { path: "/dev/full", freeBytes: expect.any(Number), neededBytes: 4096 },
    ]);
    // A copy names the file it writes, not the one it reads (often on another disk). Node's shape
    // for copyFileSync's ENOSPC, built here: a real copy onto /dev/full would unlink /dev/full
    // (libuv removes a copy's destination when the copy fails).
    const copy = Object.assign(new Error("ENOSPC: no space left on device, copyfile '/roomy/a' -> '/full/b'"), {
      code: "ENOSPC",
      path: "/roomy/a",
      dest: "/full/b",
    });
    expect(classifyStorageError(copy, { path: "/elsewhere", neededBytes: 4096 })?.details).toMatchObject({ path: "/full/b" });
    const efbig = Object.assign(new Error("EFBIG: file too large, write"), { code: "EFBIG" });
    expect(classifyStorageError(efbig, where)).toBeUndefined();
    expect(classifyStorageError(new Error("boom"), where)).toBeUndefined();
    expect(classifyStorageError(new CboError("ERR_VALIDATION", "bad"), where)).toBeUndefined();
  });

  it("a file that is not a database is ERR_STORE_CORRUPT, at open, with the way back", () => {
    const file = join(mkdtempSync(join(tmpdir(), "cbo-storage-")), "o.sqlite");
    writeFileSync(file, Buffer.alloc(16 * 1024, 7));
    const e = thrown(() => openDb(file)) as CboError;
    expect([e.code, e.message]).toEqual(["ERR_STORE_CORRUPT", `The orchestrator's database ${file} is damaged (file is not a database).`]);
    expect(e.hint).toContain("cbo restore");
  });
});

describe("transaction() on a full database", () => {
  it("reports the write's own error even when SQLite has already rolled the transaction back", () => {
    const db = smallDb();
    const e = thrown(() => transaction(db, () => db.prepare("INSERT INTO blobs VALUES (?)").run(Buffer.alloc(64 * 1024))));
    expect(sqliteCode(e)).toBe(13);
    expect(db.isTransaction).toBe(false);
    // The connection is usable: a small write fits.
    transaction(db, () => db.prepare("INSERT INTO blobs VALUES (?)").run(Buffer.alloc(10)));
    db.close();
  });
});
