import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CboError, type ErrorCode } from "../kit/errors.ts";
import { openDb, tx, type Db } from "../store/db.ts";
import { createStore } from "../store/index.ts";
import type { VaultEvent } from "./events.ts";
import { MasterKey } from "./master-key.ts";
import { createVault } from "./secret-store.ts";

const newKey = () => new MasterKey(randomBytes(32), "bytes");
const tmpFile = () => join(mkdtempSync(join(tmpdir(), "cbo-vault-")), "o.sqlite");
function fresh(opts: { keepVersions?: number; onEvent?: (e: VaultEvent) => void } = {}) {
  const file = tmpFile();
  const db = openDb(file);
  const masterKey = newKey();
  return { file, db, masterKey, vault: createVault({ db, masterKey, ...opts }) };
}

function fails(code: ErrorCode, fn: () => unknown): CboError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CboError);
    expect((e as CboError).code, (e as Error).message).toBe(code);
    return e as CboError;
  }
  throw new Error(`expected ${code}`);
}

/** Every vault row, blobs as hex: equal snapshots mean nothing was written. */
const snapshot = (db: Db) =>
  JSON.stringify(
    ["vault_meta", "secrets", "secret_versions"].map((t) => db.prepare(`SELECT * FROM ${t} ORDER BY 1, 2, 3`).all()),
    (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString("hex") : v),
  );
const fileBytes = (file: string) => Buffer.concat([file, `${file}-wal`].filter(existsSync).map((f) => readFileSync(f)));

describe("vault secrets", () => {
  it("round-trips strings and bytes through a store opened with createStore (migration 002 applied)", () => {
    const store = createStore(tmpFile());
    const vault = createVault({ db: store.db, masterKey: newKey() });
    const bytes = randomBytes(100);
    expect(vault.put("API_TOKEN", "tok-1", { by: "alice" })).toEqual({ version: 1 });
    expect(vault.put("BLOB", bytes, { mode: "binding", jurisdictions: ["us", "eu", "eu"] })).toEqual({ version: 1 });
    expect(vault.put("API_TOKEN", "tok-2", { cas: 1 })).toEqual({ version: 2 });
    expect(vault.getText("API_TOKEN")).toEqual({ version: 2, value: "tok-2" });
    expect(vault.getText("API_TOKEN", { version: 1 })).toEqual({ version: 1, value: "tok-1" });
    expect(Buffer.from(vault.get("BLOB").value).equals(bytes)).toBe(true);
    expect(vault.list().map((s) => [s.name, s.version, s.mode, s.jurisdictions, s.deleted])).toEqual([
      ["API_TOKEN", 2, "relay", [], false],
      ["BLOB", 1, "binding", ["eu", "us"], false],
    ]);
    expect(vault.versions("API_TOKEN").map((v) => [v.version, v.current, v.created_by, v.key_id])).toEqual([
      [1, false, "alice", vault.keyId],
      [2, true, null, vault.keyId],
    ]);
    expect(JSON.stringify([vault.list(), vault.versions("API_TOKEN"), vault.info("API_TOKEN")])).not.toMatch(/tok-/);
    // Tenants are separate namespaces.
    vault.put("API_TOKEN", "acme-tok", { tenant: "acme" });
    expect(vault.getText("API_TOKEN", { tenant: "acme" }).value).toBe("acme-tok");
    expect(vault.list({ tenant: "acme" })).toHaveLength(1);
    fails("ERR_NOT_FOUND", () => vault.get("MISSING"));
    store.close();
  });

  it("validates names, options and values before touching anything", () => {
    const { vault, db } = fresh();
    const before = snapshot(db);
    fails("ERR_VALIDATION", () => vault.put("bad name", "v"));
    fails("ERR_VALIDATION", () => vault.put("OK", ""));
    fails("ERR_VALIDATION", () => vault.put("OK", "v", { tenant: "Not A Tenant" }));
    fails("ERR_VALIDATION", () => vault.put("OK", "v", { cass: 0 } as never)); // a misspelt cas must not mean "no check"
    fails("ERR_VALIDATION", () => vault.put("dotted.name", "v", { mode: "binding" }));
    fails("ERR_VALIDATION", () => vault.put("OK", "v", { jurisdictions: ["EU"] }));
    fails("ERR_VALIDATION", () => vault.put("OK", Buffer.alloc(64 * 1024 + 1, 1)));
    // A binding secret becomes a Workers secret, which Cloudflare caps at 5 KiB (UTF-8 bytes).
    const big = "\u00e9".repeat(2561); // 5,122 bytes
    const e = fails("ERR_VALIDATION", () => vault.put("BIG", big, { mode: "binding" }));
    expect([e.message, e.hint]).toEqual([
      "secret BIG is 5122 bytes; with mode binding it becomes a Workers secret, which Cloudflare caps at 5120 bytes (5 KiB)",
      "deliver it with mode relay (fetched at run time, up to 65536 bytes), or make it smaller",
    ]);
    expect(snapshot(db)).toBe(before);
    expect(vault.put("dotted.name", "v").version).toBe(1); // relay mode allows any vault name
    expect(vault.put("BIG", big).version).toBe(1); // relay: up to 64 KiB
    expect(vault.put("EXACT", "x".repeat(5120), { mode: "binding" }).version).toBe(1);
  });

  it("binds each ciphertext to its secret and version: rows copied in SQLite fail to decrypt", () => {
    const { vault, db } = fresh();
    vault.put("A", "value-of-a-1");
    vault.put("A", "value-of-a-2");
    vault.put("B", "value-of-b-1");
    vault.put("A", "value-of-a-other-tenant", { tenant: "acme" });
    const copy = (from: [string, string, number], to: [string, string, number]) =>
      db
        .prepare(`UPDATE secret_versions SET (ciphertext, iv, tag, wrapped_key, key_id) =
        (SELECT ciphertext, iv, tag, wrapped_key, key_id FROM secret_versions WHERE tenant = ? AND name = ? AND version = ?)
        WHERE tenant = ? AND name = ? AND version = ?`)
        .run(...from, ...to);
    copy(["default", "A", 1], ["default", "B", 1]); // to another secret
    fails("ERR_VAULT_INTEGRITY", () => vault.get("B"));
    copy(["default", "A", 1], ["default", "A", 2]); // to another version of the same secret
    fails("ERR_VAULT_INTEGRITY", () => vault.get("A"));
    expect(vault.getText("A", { version: 1 }).value).toBe("value-of-a-1");
    copy(["default", "A", 1], ["acme", "A", 1]); // to another tenant
    fails("ERR_VAULT_INTEGRITY", () => vault.get("A", { tenant: "acme" }));
    // Only the value's ciphertext moved, with the target's own data key: still refused.
    vault.put("C", "value-of-c-1");
    vault.put("C", "value-of-c-2");
    db.prepare(`UPDATE secret_versions SET (ciphertext, iv, tag) = (SELECT ciphertext, iv, tag FROM secret_versions WHERE name = 'C' AND version = 1)
      WHERE name = 'C' AND version = 2`).run();
    fails("ERR_VAULT_INTEGRITY", () => vault.get("C"));
  });

  it("reports rows that do not match their schema as integrity failures", () => {
    const { vault, db } = fresh();
    vault.put("A", "v");
    db.prepare("UPDATE secrets SET jurisdictions = 'not json'").run();
    const e = fails("ERR_VAULT_INTEGRITY", () => vault.list());
    expect(e.message).toContain("jurisdictions");
    db.prepare(`UPDATE secrets SET jurisdictions = '["EU!"]'`).run();
    fails("ERR_VAULT_INTEGRITY", () => vault.info("A"));
  });

  it("refuses to open a vault whose key record was altered or wiped, rather than adopting the key", () => {
    const { db, masterKey } = fresh();
    createVault({ db, masterKey }).put("A", "v");
    db.prepare(`UPDATE vault_meta SET value = json_set(value, '$.current', 'ffffffffffffffff') WHERE key = 'keys'`).run();
    expect(fails("ERR_VAULT_INTEGRITY", () => createVault({ db, masterKey })).message).toMatch(/does not open this vault/);
    db.prepare("UPDATE vault_meta SET value = 'garbage' WHERE key = 'keys'").run();
    fails("ERR_VAULT_INTEGRITY", () => createVault({ db, masterKey }));
    db.prepare("DELETE FROM vault_meta WHERE key = 'keys'").run();
    expect(fails("ERR_VAULT_INTEGRITY", () => createVault({ db, masterKey })).message).toMatch(/key record/);
  });

  it("check-and-set: a stale cas is ERR_CONFLICT with the current version, and nothing is written", () => {
    const { vault, db, file, masterKey } = fresh();
    vault.put("K", "k-1", { cas: 0 });
    let before = snapshot(db);
    expect(fails("ERR_CONFLICT", () => vault.put("K", "k-x", { cas: 0 })).details).toMatchObject({
      current_version: 1,
      expected_version: 0,
    });
    expect(fails("ERR_CONFLICT", () => vault.put("K", "k-x", { cas: 2 })).details).toMatchObject({ current_version: 1 });
    expect(snapshot(db)).toBe(before);

    // Two processes' worth of connections, both having read version 1: one wins.
    const db2 = openDb(file);
    const other = createVault({ db: db2, masterKey });
    const seen = [vault.info("K").version, other.info("K").version];
    expect(seen).toEqual([1, 1]);
    expect(vault.put("K", "k-2", { cas: seen[0] })).toEqual({ version: 2 });
    expect(fails("ERR_CONFLICT", () => other.put("K", "k-lost", { cas: seen[1] })).details).toMatchObject({ current_version: 2 });
    expect(other.getText("K").value).toBe("k-2");

    before = snapshot(db);
    fails("ERR_CONFLICT", () => vault.rollback("K", 1, { cas: 1 }));
    fails("ERR_CONFLICT", () => vault.softDelete("K", { cas: 1 }));
    fails("ERR_CONFLICT", () => vault.destroy("K", { cas: 1 }));
    fails("ERR_CONFLICT", () => vault.setPolicy("K", { cas: 1, mode: "binding" }));
    expect(snapshot(db)).toBe(before);
    db2.close();
  });

  it("rolls back by writing the old value as a new version", () => {
    const { vault } = fresh();
    vault.put("K", "first");
    vault.put("K", "second");
    expect(vault.rollback("K", 1, { cas: 2, by: "bob" })).toEqual({ version: 3 });
    expect(vault.getText("K")).toEqual({ version: 3, value: "first" });
    expect(vault.versions("K").map((v) => v.version)).toEqual([1, 2, 3]);
    fails("ERR_NOT_FOUND", () => vault.rollback("K", 9, { cas: 3 }));
  });

  it("keeps the last keepVersions versions; older ones are destroyed and their bytes leave the file", () => {
    const { vault, db, file } = fresh();
    const ciphertexts: Buffer[] = [];
    for (let i = 1; i <= 15; i++) {
      vault.put("ROTATING", `rotating-value-${i}`);
      const r = db.prepare("SELECT ciphertext, wrapped_key FROM secret_versions WHERE name = 'ROTATING' AND version = ?").get(i) as Record<
        string,
        Uint8Array
      >;
      ciphertexts.push(Buffer.from(r.ciphertext!), Buffer.from(r.wrapped_key!));
    }
    expect(vault.versions("ROTATING").map((v) => v.version)).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    fails("ERR_NOT_FOUND", () => vault.get("ROTATING", { version: 5 }));
    expect(vault.getText("ROTATING", { version: 6 }).value).toBe("rotating-value-6");
    const bytes = fileBytes(file);
    ciphertexts.forEach((c, i) => expect(bytes.includes(c), `version ${Math.floor(i / 2) + 1}`).toBe(i >= 10));

    const events: VaultEvent[] = [];
    const three = fresh({ keepVersions: 3, onEvent: (e) => events.push(e) }).vault;
    for (let i = 0; i < 5; i++) three.put("K", `v${i}`);
    expect(three.versions("K").map((v) => v.version)).toEqual([3, 4, 5]);
    expect(events.map((e) => `${e.type} ${"version" in e ? e.version : ""}${"versions" in e ? `${e.versions} ${e.reason}` : ""}`)).toEqual([
      "secret.written 1",
      "secret.written 2",
      "secret.written 3",
      "secret.written 4",
      "secret.destroyed 1 pruned",
      "secret.written 5",
      "secret.destroyed 2 pruned",
    ]);
  });

  it("soft delete hides a secret until undelete; destroy removes versions for good", () => {
    const { vault, db, file } = fresh();
    vault.put("K", "kept-1");
    vault.put("K", "kept-2");
    expect(vault.softDelete("K", { cas: 2 })).toMatchObject({ version: 2 });
    fails("ERR_NOT_FOUND", () => vault.get("K"));
    fails("ERR_CONFLICT", () => vault.put("K", "while-deleted"));
    fails("ERR_CONFLICT", () => vault.rollback("K", 1, { cas: 2 }));
    expect(vault.list()[0]).toMatchObject({ name: "K", deleted: true, version: 2 });
    expect(vault.versions("K")).toHaveLength(2); // metadata stays visible
    expect(vault.undelete("K")).toEqual({ version: 2 });
    expect(vault.getText("K").value).toBe("kept-2");

    const v1 = db.prepare("SELECT ciphertext, wrapped_key FROM secret_versions WHERE version = 1").get() as Record<string, Uint8Array>;
    expect(vault.destroy("K", { versions: [1] })).toEqual({ destroyed: [1] });
    expect(vault.destroy("K", { versions: [1] })).toEqual({ destroyed: [] }); // idempotent
    fails("ERR_NOT_FOUND", () => vault.get("K", { version: 1 }));
    fails("ERR_NOT_FOUND", () => vault.rollback("K", 1, { cas: 2 }));
    fails("ERR_NOT_FOUND", () => vault.destroy("K", { versions: [7] }));
    expect(vault.versions("K").map((v) => [v.version, v.destroyed, v.key_id])).toEqual([
      [1, true, null],
      [2, false, vault.keyId],
    ]);
    expect(vault.undelete("K").version).toBe(2); // undelete cannot bring a destroyed version back
    fails("ERR_NOT_FOUND", () => vault.get("K", { version: 1 }));
    const bytes = fileBytes(file);
    expect(bytes.includes(Buffer.from(v1.ciphertext!))).toBe(false);
    expect(bytes.includes(Buffer.from(v1.wrapped_key!))).toBe(false);

    expect(vault.destroy("K")).toEqual({ destroyed: [2] });
    expect(vault.info("K")).toMatchObject({ destroyed: true, version: 2 });
    fails("ERR_NOT_FOUND", () => vault.get("K"));
    expect(vault.put("K", "reborn", { cas: 2 })).toEqual({ version: 3 }); // versions are never reused
    expect(vault.info("K")).toMatchObject({ destroyed: false });
    expect(vault.getText("K").value).toBe("reborn");
  });

  it("reports every read and change to onEvent, inside the write: a throwing hook refuses the operation", () => {
    const events: VaultEvent[] = [];
    let refuse: string | undefined;
    const { vault, db } = fresh({
      onEvent: (e) => {
        if (e.type === refuse) throw new Error("audit unavailable");
        events.push(e);
      },
    });
    vault.put("K", "evented-1", { by: "alice" });
    vault.getText("K", { by: "bob" });
    expect(events).toEqual([
      {
        type: "secret.written",
        tenant: "default",
        name: "K",
        version: 1,
        value_hash: vault.keyedHash("evented-1"),
        mode: "relay",
        jurisdictions: [],
        by: "alice",
      },
      { type: "secret.read", tenant: "default", name: "K", version: 1, purpose: "get", by: "bob" },
    ]);
    expect(vault.keyedHash("evented-1")).toMatch(/^[0-9a-f]{64}$/);
    expect(vault.keyedHash("evented-1")).not.toBe(vault.keyedHash("evented-2"));

    const before = snapshot(db);
    refuse = "secret.written";
    expect(() => vault.put("K", "evented-2")).toThrow("audit unavailable");
    expect(snapshot(db)).toBe(before);
    refuse = "secret.read";
    expect(() => vault.get("K")).toThrow("audit unavailable");
    refuse = "secret.deleted";
    expect(() => vault.softDelete("K", { cas: 1 })).toThrow("audit unavailable");
    expect(snapshot(db)).toBe(before);
  });

  it("joins a caller's transaction: rolled back with it", () => {
    const { vault, db } = fresh();
    vault.put("K", "outer-1");
    const before = snapshot(db);
    expect(() =>
      tx(db, () => {
        vault.put("K", "outer-2");
        vault.put("J", "outer-3");
        throw new Error("caller fails after the vault wrote");
      }),
    ).toThrow("caller fails");
    expect(snapshot(db)).toBe(before);
    tx(db, () => vault.put("K", "outer-2"));
    expect(vault.getText("K").value).toBe("outer-2");
  });
});
