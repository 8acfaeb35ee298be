import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CboError, type ErrorCode } from "../kit/errors.ts";
import { openDb, type Db } from "../store/db.ts";
import { openValue } from "./envelope.ts";
import type { VaultEvent } from "./events.ts";
import { MasterKey } from "./master-key.ts";
import { VersionRowSchema, sealedOf, type LiveVersionRow } from "./rows.ts";
import { createVault, type Vault } from "./secret-store.ts";

const newKey = () => new MasterKey(randomBytes(32), "bytes");

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

const liveRows = (db: Db) =>
  db
    .prepare("SELECT * FROM secret_versions WHERE destroyed_at IS NULL ORDER BY tenant, name, version")
    .all()
    .map((r) => VersionRowSchema.parse(r) as LiveVersionRow);
const snapshot = (db: Db) =>
  JSON.stringify(
    ["vault_meta", "secrets", "secret_versions"].map((t) => db.prepare(`SELECT * FROM ${t} ORDER BY 1, 2, 3`).all()),
    (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString("hex") : v),
  );
const fileBytes = (file: string) => Buffer.concat([file, `${file}-wal`].filter(existsSync).map((f) => readFileSync(f)));

const VALUES = { A: ["rot-a-1", "rot-a-2"], B: ["rot-b-1"], C: ["rot-c-1", "rot-c-2"] } as const;

function seeded(onEvent?: (e: VaultEvent) => void) {
  const file = join(mkdtempSync(join(tmpdir(), "cbo-vault-rot-")), "o.sqlite");
  const db = openDb(file);
  const old = newKey();
  const vault = createVault({ db, masterKey: old, ...(onEvent ? { onEvent } : {}) });
  for (const [name, values] of Object.entries(VALUES)) for (const v of values) vault.put(name, v);
  vault.put("A", "rot-acme-a-1", { tenant: "acme" });
  vault.destroy("C", { versions: [1] });
  return { file, db, old, vault };
}

const readsAll = (vault: Vault) => {
  expect(vault.getText("A").value).toBe("rot-a-2");
  expect(vault.getText("A", { version: 1 }).value).toBe("rot-a-1");
  expect(vault.getText("B").value).toBe("rot-b-1");
  expect(vault.getText("C").value).toBe("rot-c-2");
  expect(vault.getText("A", { tenant: "acme" }).value).toBe("rot-acme-a-1");
};

describe("master-key rotation", () => {
  it("re-wraps every data key in one step: values still read, the old key opens nothing, its wraps leave the file", () => {
    const { file, db, old, vault } = seeded();
    const before = liveRows(db);
    expect(before).toHaveLength(5);
    const hash = vault.keyedHash("rot-a-2");
    const next = newKey();

    expect(vault.rotateMasterKey(next, { by: "ops" })).toEqual({ from_key: old.id, to_key: next.id, rewrapped: 5 });
    expect(vault.keyId).toBe(next.id);
    readsAll(vault);
    expect(vault.keyedHash("rot-a-2")).toBe(hash); // audit hashes stay comparable across rotations

    const after = liveRows(db);
    const bytes = fileBytes(file);
    after.forEach((r, i) => {
      const id = { tenant: r.tenant, name: r.name, version: r.version };
      expect(r.key_id).toBe(next.id);
      expect(Buffer.from(r.ciphertext).equals(Buffer.from(before[i]!.ciphertext))).toBe(true); // values not re-encrypted
      expect(Buffer.from(r.wrapped_key).equals(Buffer.from(before[i]!.wrapped_key))).toBe(false);
      fails("ERR_VAULT_INTEGRITY", () => openValue(old, id, { ...sealedOf(r), keyId: old.id }));
      expect(bytes.includes(Buffer.from(before[i]!.wrapped_key)), `old wrap of ${r.name} v${r.version}`).toBe(false);
    });

    // After a restart: the new key opens the vault, the retired one is refused by name.
    const db2 = openDb(file);
    readsAll(createVault({ db: db2, masterKey: next }));
    expect(fails("ERR_VAULT_INTEGRITY", () => createVault({ db: db2, masterKey: old })).message).toMatch(/retired/);
    fails("ERR_CONFLICT", () => vault.rotateMasterKey(next));
    fails("ERR_CONFLICT", () => vault.rotateMasterKey(old));
    db2.close();
  });

  it("keeps serving reads during the rotation: other connections see the old state until it commits", () => {
    const { file, old, vault } = seeded();
    const reader = createVault({ db: openDb(file), masterKey: old }); // another connection, still on the old key
    const during: string[] = [];
    class WatchedKey extends MasterKey {
      override wrap(plain: Uint8Array, aad: Uint8Array): Buffer {
        during.push(reader.getText("A").value, reader.getText("C").value);
        return super.wrap(plain, aad);
      }
    }
    vault.rotateMasterKey(new WatchedKey(randomBytes(32), "bytes"));
    expect(during).toHaveLength(12); // 5 data keys + the hash key, two reads each
    expect(new Set(during)).toEqual(new Set(["rot-a-2", "rot-c-2"]));
    readsAll(vault);
    // Once committed, the old key is retired everywhere: that reader must reopen with the new key.
    fails("ERR_VAULT_INTEGRITY", () => reader.get("A"));
  });

  it("a crash mid-rotation leaves the old state whole: same rows, same key, reads still work", () => {
    const refuseAudit = { on: false };
    const { file, db, old, vault } = seeded((e) => {
      if (refuseAudit.on && e.type === "vault.key_rotated") throw new Error("audit unavailable");
    });
    const before = snapshot(db);

    class CrashingKey extends MasterKey {
      wraps = 0;
      override wrap(plain: Uint8Array, aad: Uint8Array): Buffer {
        if (++this.wraps === 3) throw new Error("simulated crash after two re-wraps");
        return super.wrap(plain, aad);
      }
    }
    const crashing = new CrashingKey(randomBytes(32), "bytes");
    expect(() => vault.rotateMasterKey(crashing)).toThrow("simulated crash");
    expect(crashing.wraps).toBe(3);
    expect(snapshot(db)).toBe(before);
    expect(vault.keyId).toBe(old.id);
    readsAll(vault);

    refuseAudit.on = true; // the last step (the audit entry) fails: everything before it is undone too
    expect(() => vault.rotateMasterKey(newKey())).toThrow("audit unavailable");
    expect(snapshot(db)).toBe(before);
    readsAll(vault);
    readsAll(createVault({ db: openDb(file), masterKey: old }));

    // A tampered row stops the rotation (naming it) rather than re-wrapping around it.
    db.prepare(
      "UPDATE secret_versions SET wrapped_key = (SELECT wrapped_key FROM secret_versions WHERE name = 'A' AND version = 1 AND tenant = 'default') WHERE name = 'B'",
    ).run();
    const tampered = snapshot(db);
    expect(fails("ERR_VAULT_INTEGRITY", () => vault.rotateMasterKey(newKey())).message).toContain("default/B version 1");
    expect(snapshot(db)).toBe(tampered);
    vault.destroy("B"); // what an operator does with a version that no longer authenticates
    refuseAudit.on = false;
    const next = newKey();
    expect(vault.rotateMasterKey(next).rewrapped).toBe(4);
    expect(vault.getText("A").value).toBe("rot-a-2");
    expect(vault.getText("C").value).toBe("rot-c-2");
  });
});
