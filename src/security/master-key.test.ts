// The one decision of which master key opens the vault, on real key files and a real SQLite store.
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createStore } from "../store/index.ts";
import { createVault, generateKeyFile, MasterKey } from "../vault/index.ts";
import { configuredDaemonMasterKey, configuredMasterKey, masterKeyFile, openDaemonMasterKey, openMasterKey } from "./master-key.ts";
import { silentLogger, lineLogger } from "../telemetry/index.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "cbo-master-key-"));
  dirs.push(d);
  return d;
};
const envKey = () => randomBytes(32).toString("base64");
const never = () => {
  throw new Error("no passphrase expected");
};

describe("configuredMasterKey", () => {
  it("takes exactly one source: the env key, a key file (flag before CBO_MASTER_KEY_FILE), a passphrase, else the fallback", () => {
    expect(configuredMasterKey({ env: { CBO_MASTER_KEY: envKey() } })).toEqual({ kind: "env" });
    expect(configuredMasterKey({ env: { CBO_MASTER_KEY_FILE: "/etc/cbo/a.key" }, keyFile: "/etc/cbo/b.key" })).toEqual({
      kind: "file",
      file: "/etc/cbo/b.key",
      fallback: false,
    });
    expect(configuredMasterKey({ env: { CBO_MASTER_KEY_FILE: "/etc/cbo/a.key" } })).toEqual({
      kind: "file",
      file: "/etc/cbo/a.key",
      fallback: false,
    });
    expect(configuredMasterKey({ env: { CBO_MASTER_PASSPHRASE: "env phrase" } })).toEqual({ kind: "passphrase", passphrase: "env phrase" });
    expect(configuredMasterKey({ env: { CBO_MASTER_PASSPHRASE: "env phrase" }, passphrase: "given phrase" })).toEqual({
      kind: "passphrase",
      passphrase: "given phrase",
    });
    expect(configuredMasterKey({ env: { CBO_MASTER_KEY: "", CBO_MASTER_KEY_FILE: "" }, fallbackKeyFile: "/data/master.key" })).toEqual({
      kind: "file",
      file: "/data/master.key",
      fallback: true,
    });
    expect(configuredMasterKey({ env: {} })).toEqual({ kind: "none" });
    const key = new MasterKey(randomBytes(32), "bytes");
    expect(configuredMasterKey({ env: { CBO_MASTER_KEY: envKey() }, key })).toEqual({ kind: "given", key });
  });

  it("refuses two sources, naming them; the daemon says it needs the key", () => {
    expect(() => configuredMasterKey({ env: { CBO_MASTER_KEY: envKey() }, keyFile: "/k" })).toThrow(
      "the master key is configured twice (CBO_MASTER_KEY and a key file); use exactly one source",
    );
    expect(() => configuredMasterKey({ env: { CBO_MASTER_KEY_FILE: "/k", CBO_MASTER_PASSPHRASE: "p" } })).toThrow(
      /configured twice \(a key file and a passphrase\)/,
    );
    expect(() => configuredDaemonMasterKey({ env: { CBO_MASTER_KEY: envKey() }, passphrase: "p" })).toThrow(
      expect.objectContaining({
        code: "ERR_VALIDATION",
        message: expect.stringMatching(/^The daemon needs the vault's master key, and the master key is configured twice/),
      }),
    );
  });

  it("names the key file a rotation rewrites only when the key comes from one", () => {
    expect(masterKeyFile({ env: { CBO_MASTER_KEY_FILE: "/etc/cbo/master.key" } })).toBe("/etc/cbo/master.key");
    expect(masterKeyFile({ env: { CBO_MASTER_KEY: envKey() }, fallbackKeyFile: "/data/master.key" })).toBeUndefined();
    expect(masterKeyFile({ env: {}, fallbackKeyFile: "/data/master.key" })).toBe("/data/master.key");
  });
});

describe("openMasterKey (offline tools)", () => {
  it("reads the fallback file only when it exists, and never creates one", () => {
    const dir = tempDir();
    const fallback = join(dir, "master.key");
    expect(() => openMasterKey({ env: {}, fallbackKeyFile: fallback }, { fromPassphrase: never })).toThrow(
      expect.objectContaining({ code: "ERR_USAGE", message: expect.stringContaining("no master key") }),
    );
    expect(existsSync(fallback)).toBe(false);
    const made = generateKeyFile(fallback);
    expect(openMasterKey({ env: {}, fallbackKeyFile: fallback }, { fromPassphrase: never }).id).toBe(made.id);
    const derived = new MasterKey(randomBytes(32), "passphrase");
    expect(
      openMasterKey(
        { env: { CBO_MASTER_PASSPHRASE: "long enough phrase" } },
        { fromPassphrase: (p) => (p === "long enough phrase" ? derived : never()) },
      ),
    ).toBe(derived);
  });
});

describe("openDaemonMasterKey", () => {
  it("creates the fallback key file (0600) for a new vault, and refuses to for a vault that exists", () => {
    const dir = tempDir();
    const store = createStore(join(dir, "orchestrator.sqlite"));
    try {
      const fallback = join(dir, "master.key");
      const logged: string[] = [];
      const key = openDaemonMasterKey(
        { env: {}, fallbackKeyFile: fallback },
        store.db,
        lineLogger((l) => logged.push(l)),
      );
      expect(statSync(fallback).mode & 0o777).toBe(0o600);
      expect(logged.join("\n")).toContain(`created master key file ${fallback}`);
      expect(() => openDaemonMasterKey({ env: {} }, store.db, silentLogger)).toThrow(
        expect.objectContaining({
          code: "ERR_VALIDATION",
          message: expect.stringMatching(/^The daemon needs the vault's master key, and no master key/),
        }),
      );
      createVault({ db: store.db, masterKey: key, log: silentLogger });
      rmSync(fallback);
      // A vault that exists names the key that seals it: the one to give.
      expect(() => openDaemonMasterKey({ env: {}, fallbackKeyFile: fallback }, store.db, silentLogger)).toThrow(
        expect.objectContaining({
          code: "ERR_VALIDATION",
          message: expect.stringContaining(`holds a vault sealed with master key ${key.id}, but its master key is not configured`),
        }),
      );
      expect(existsSync(fallback)).toBe(false);
      expect(() => openDaemonMasterKey({ env: {} }, store.db, silentLogger)).toThrow(
        expect.objectContaining({
          code: "ERR_VALIDATION",
          message: `This data directory holds a vault sealed with master key ${key.id}, and no master key is given.`,
        }),
      );
      // Another key: which one seals it, and how to give that one.
      const other = new MasterKey(randomBytes(32), "env");
      expect(() => createVault({ db: store.db, masterKey: other, log: silentLogger })).toThrow(
        expect.objectContaining({
          code: "ERR_VAULT_INTEGRITY",
          hint: expect.stringContaining(`give the key ${key.id} that seals it: --master-key-file FILE`),
        }),
      );
    } finally {
      store.close();
    }
  });
});
