import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { CboError } from "../kit/errors.ts";
import { openDb } from "../store/db.ts";
import { generateKeyFile, masterKeyFromFile } from "./key-file.ts";
import { loadMasterKey } from "./load-master-key.ts";
import { MasterKey, masterKeyFromEnv } from "./master-key.ts";
import { masterKeyFromPassphrase } from "./passphrase.ts";
import { createVault } from "./secret-store.ts";

const dir = () => mkdtempSync(join(tmpdir(), "cbo-vault-key-"));
const caught = (fn: () => unknown): CboError => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CboError);
    return e as CboError;
  }
  throw new Error("expected a CboError");
};

describe("master key from CBO_MASTER_KEY", () => {
  const raw = randomBytes(32);

  it("accepts 32 bytes as hex or base64 (standard or URL-safe), all naming the same key", () => {
    const ids = [raw.toString("hex"), raw.toString("base64"), raw.toString("base64url"), ` ${raw.toString("hex").toUpperCase()}\n`].map(
      (text) => masterKeyFromEnv({ CBO_MASTER_KEY: text })!.id,
    );
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toBe(new MasterKey(raw, "bytes").id);
    expect(ids[0]).toMatch(/^[0-9a-f]{16}$/);
    expect(masterKeyFromEnv({})).toBeUndefined();
  });

  it("refuses other lengths and other encodings with a clear error that does not echo the text", () => {
    for (const bytes of [16, 31, 33, 64]) {
      const text = randomBytes(bytes).toString("base64");
      const e = caught(() => masterKeyFromEnv({ CBO_MASTER_KEY: text }));
      expect(e.code).toBe("ERR_VALIDATION");
      expect(e.message).toContain(`decodes to ${bytes} bytes`);
      expect(e.message).not.toContain(text);
    }
    const hex16 = randomBytes(16).toString("hex");
    expect(caught(() => masterKeyFromEnv({ CBO_MASTER_KEY: hex16 })).message).toContain("decodes to 16 bytes");
    const junk = "not a key at all!";
    const e = caught(() => masterKeyFromEnv({ CBO_MASTER_KEY: junk }));
    expect(e.message).toMatch(/neither hex nor base64/);
    expect(e.message).not.toContain(junk);
  });

  it("never shows its bytes when printed, logged or serialised", () => {
    const k = new MasterKey(raw, "bytes");
    const shown = [inspect(k), String(k), JSON.stringify(k), inspect(k, { showHidden: true, depth: 5 })].join("\n");
    expect(shown).toContain(k.id);
    for (const form of [raw.toString("hex"), raw.toString("base64")]) expect(shown).not.toContain(form);
  });
});

describe("master key from a key file", () => {
  it("refuses a file readable by group or others, with the chmod hint, and accepts it once 0600", () => {
    const file = join(dir(), "master.key");
    const key = randomBytes(32);
    writeFileSync(file, key.toString("base64") + "\n", { mode: 0o644 });
    chmodSync(file, 0o644);
    const e = caught(() => masterKeyFromFile(file));
    expect(e.code).toBe("ERR_VALIDATION");
    expect(e.message).toContain("0644");
    expect(e.hint).toBe(`chmod 600 ${file}`);
    for (const mode of [0o640, 0o604, 0o660, 0o602]) {
      chmodSync(file, mode);
      expect(caught(() => masterKeyFromFile(file)).code).toBe("ERR_VALIDATION");
    }
    chmodSync(file, 0o600);
    expect(masterKeyFromFile(file).id).toBe(new MasterKey(key, "bytes").id);
    chmodSync(file, 0o400);
    expect(masterKeyFromFile(file).source).toBe("file");
  });

  it("accepts raw 32-byte files; refuses missing files and wrong lengths", () => {
    const d = dir();
    const key = randomBytes(32);
    writeFileSync(join(d, "raw.key"), key, { mode: 0o600 });
    expect(masterKeyFromFile(join(d, "raw.key")).id).toBe(new MasterKey(key, "bytes").id);
    expect(caught(() => masterKeyFromFile(join(d, "absent.key"))).code).toBe("ERR_NOT_FOUND");
    writeFileSync(join(d, "short.key"), randomBytes(16).toString("hex"), { mode: 0o600 });
    expect(caught(() => masterKeyFromFile(join(d, "short.key"))).message).toContain("decodes to 16 bytes");
  });

  // A key file cut off as it was written (a kill -9 on the first start), emptied or overwritten:
  // named, with a hint that does not invite replacing a key that sealed a vault.
  it("a key file that is empty or holds no key: named, and the way back is the kept copy", () => {
    const d = dir();
    const empty = join(d, "empty.key");
    writeFileSync(empty, "\n", { mode: 0o600 });
    expect(caught(() => masterKeyFromFile(empty))).toMatchObject({
      code: "ERR_VALIDATION",
      message: `master key file ${empty} is empty (a write of it was cut off, or it was emptied)`,
      hint: expect.stringMatching(
        /^put back the copy of this key you keep apart from the machine .*only a key file that never sealed a vault/,
      ),
    });
    const garbage = join(d, "garbage.key");
    writeFileSync(garbage, "not a key at all!", { mode: 0o600 });
    expect(caught(() => masterKeyFromFile(garbage))).toMatchObject({
      message: `master key file ${garbage} is neither hex nor base64`,
      hint: expect.stringContaining(`openssl rand -base64 32 > ${garbage}`),
    });
    expect(caught(() => masterKeyFromFile(garbage)).hint).toMatch(/^put back the copy/);
  });

  it("refuses a FIFO at once (opening one blocked until a writer came) and a file far bigger than a key", () => {
    const d = dir();
    const fifo = join(d, "fifo.key");
    execFileSync("mkfifo", ["-m", "600", fifo]);
    expect(caught(() => masterKeyFromFile(fifo))).toMatchObject({
      code: "ERR_VALIDATION",
      message: `master key file ${fifo} is not a regular file`,
    });
    writeFileSync(join(d, "big.key"), randomBytes(1 << 20), { mode: 0o600 });
    expect(caught(() => masterKeyFromFile(join(d, "big.key"))).message).toContain("a key file holds one 32-byte key");
  });

  it("generateKeyFile writes a new 0600 file that loads back to the same key, and never overwrites", () => {
    const file = join(dir(), "nested", "master.key");
    const made = generateKeyFile(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(masterKeyFromFile(file).id).toBe(made.id);
    const e = caught(() => generateKeyFile(file));
    expect(e.code).toBe("ERR_CONFLICT");
    expect(masterKeyFromFile(file).id).toBe(made.id);
    expect(generateKeyFile(join(dir(), "other.key")).id).not.toBe(made.id);
  });
});

describe("master key from a passphrase", () => {
  it("derives the same key across reopen from the stored salt; a wrong passphrase does not open the vault", () => {
    const file = join(dir(), "o.sqlite");
    const pass = "correct horse battery staple";
    const db1 = openDb(file);
    const k1 = masterKeyFromPassphrase(db1, pass);
    createVault({ db: db1, masterKey: k1 }).put("DB_PASSWORD", "s3cr3t-value-1");
    const salt = (db1.prepare("SELECT value FROM vault_meta WHERE key = 'kdf'").get() as { value: string }).value;
    expect(JSON.parse(salt)).toMatchObject({ alg: "scrypt", N: 2 ** 17, r: 8, p: 1 });
    db1.close();

    const db2 = openDb(file);
    const k2 = masterKeyFromPassphrase(db2, pass);
    expect(k2.id).toBe(k1.id);
    expect(createVault({ db: db2, masterKey: k2 }).getText("DB_PASSWORD").value).toBe("s3cr3t-value-1");

    const wrong = masterKeyFromPassphrase(db2, "incorrect horse battery staple");
    expect(wrong.id).not.toBe(k1.id);
    const e = caught(() => createVault({ db: db2, masterKey: wrong }));
    expect(e.code).toBe("ERR_VAULT_INTEGRITY");
    expect(e.retryable).toBe(false);
    expect(e.isUserError).toBe(false);
    db2.close();

    // Another vault (another salt) gives another key for the same passphrase.
    const db3 = openDb(join(dir(), "o.sqlite"));
    expect(masterKeyFromPassphrase(db3, pass).id).not.toBe(k1.id);
    db3.close();
  });

  it("refuses short passphrases", () => {
    const db = openDb(join(dir(), "o.sqlite"));
    expect(caught(() => masterKeyFromPassphrase(db, "short")).code).toBe("ERR_VALIDATION");
    db.close();
  });
});

describe("loadMasterKey", () => {
  it("uses the one configured source and refuses none or two", () => {
    const raw = randomBytes(32);
    const file = join(dir(), "k");
    writeFileSync(file, raw.toString("hex"), { mode: 0o600 });
    expect(loadMasterKey({ env: { CBO_MASTER_KEY: raw.toString("base64") } }).source).toBe("env");
    expect(loadMasterKey({ env: {}, keyFile: file }).id).toBe(new MasterKey(raw, "bytes").id);
    expect(caught(() => loadMasterKey({ env: {} })).code).toBe("ERR_USAGE");
    expect(caught(() => loadMasterKey({ env: { CBO_MASTER_KEY: raw.toString("base64") }, keyFile: file })).code).toBe("ERR_USAGE");
  });
});
