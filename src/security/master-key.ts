// Which master key opens the vault: the one place that decides it, for the daemon, the offline
// tools (backup, restore, vault rotation) and the setup wizard. Exactly one source may be
// configured: with two, a typo in one would silently decide which key opens the vault.
//
//   given in-process (tests, embedders)              ──> that key
//   CBO_MASTER_KEY | a key file (flag, else CBO_MASTER_KEY_FILE) | a passphrase (given, else
//   CBO_MASTER_PASSPHRASE): exactly one              ──> that source; two ──> ERR_USAGE
//   none, and a fallback key file (<data>/master.key) ──> that file: read when it exists; the
//                                                        daemon creates it for a new vault only
//   none at all                                      ──> ERR_USAGE naming what to set
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { CboError, isCboError } from "../kit/errors.ts";
import type { Db } from "../store/db.ts";
import { generateKeyFile, loadMasterKey, sealingKeyId, type MasterKey } from "../vault/index.ts";
import type { Logger } from "../telemetry/index.ts";

export type MasterKeyConfig = {
  /** Where CBO_MASTER_KEY, CBO_MASTER_KEY_FILE and CBO_MASTER_PASSPHRASE are read. */
  env: Record<string, string | undefined>;
  /** A key object handed in: used as it is. */
  key?: MasterKey | undefined;
  /** A key file named by a flag or option (wins over CBO_MASTER_KEY_FILE). */
  keyFile?: string | undefined;
  /** A passphrase handed in (wins over CBO_MASTER_PASSPHRASE). */
  passphrase?: string | undefined;
  /** The key file used when no source is configured (`cbo up`'s <data>/master.key). */
  fallbackKeyFile?: string | undefined;
};

/** Where the master key comes from: the decision, before anything is read. */
export type ConfiguredMasterKey =
  | { kind: "given"; key: MasterKey }
  | { kind: "env" }
  | { kind: "passphrase"; passphrase: string }
  /** `fallback`: no source was configured and this is the fallback file (it may not exist yet). */
  | { kind: "file"; file: string; fallback: boolean }
  | { kind: "none" };

const nonEmpty = (s: string | undefined) => (s === undefined || s === "" ? undefined : s);

/** The one decision: which source the master key comes from. Two configured sources are refused. */
export function configuredMasterKey(c: MasterKeyConfig): ConfiguredMasterKey {
  if (c.key) return { kind: "given", key: c.key };
  const envKey = nonEmpty(c.env.CBO_MASTER_KEY);
  const keyFile = c.keyFile ?? nonEmpty(c.env.CBO_MASTER_KEY_FILE);
  const passphrase = c.passphrase ?? nonEmpty(c.env.CBO_MASTER_PASSPHRASE);
  const given = [
    envKey !== undefined && "CBO_MASTER_KEY",
    keyFile !== undefined && "a key file",
    passphrase !== undefined && "a passphrase",
  ].filter((s): s is string => typeof s === "string");
  if (given.length > 1)
    throw new CboError("ERR_USAGE", `the master key is configured twice (${given.join(" and ")}); use exactly one source`);
  if (envKey !== undefined) return { kind: "env" };
  if (keyFile !== undefined) return { kind: "file", file: resolve(keyFile), fallback: false };
  if (passphrase !== undefined) return { kind: "passphrase", passphrase };
  if (c.fallbackKeyFile !== undefined) return { kind: "file", file: resolve(c.fallbackKeyFile), fallback: true };
  return { kind: "none" };
}

/** The key file the master key is read from, when it comes from one (what a rotation rewrites). */
export function masterKeyFile(c: MasterKeyConfig): string | undefined {
  const k = configuredMasterKey(c);
  return k.kind === "file" ? k.file : undefined;
}

/**
 * The master key for a tool working on the data directory (backup, restore, offline rotation):
 * the fallback file only when it exists; a passphrase through `fromPassphrase`, which knows where
 * the vault's salt is. Nothing is ever created.
 */
export function openMasterKey(c: MasterKeyConfig, o: { fromPassphrase(passphrase: string): MasterKey }): MasterKey {
  const k = configuredMasterKey(c);
  switch (k.kind) {
    case "given":
      return k.key;
    case "env":
      return loadMasterKey({ env: { CBO_MASTER_KEY: c.env.CBO_MASTER_KEY } });
    case "passphrase":
      return o.fromPassphrase(k.passphrase);
    case "file":
      if (!k.fallback || existsSync(k.file)) return loadMasterKey({ keyFile: k.file });
      return loadMasterKey({});
    case "none":
      // Explains what to set.
      return loadMasterKey({});
  }
}

/**
 * The daemon's master key. Without a configured source the fallback file is used, and created
 * (0600) for a new vault only: a vault that exists (restored from a backup, say) was sealed with
 * another key, and a fresh one would only leave a useless file behind.
 */
export function openDaemonMasterKey(c: MasterKeyConfig, db: Db, log: Logger): MasterKey {
  const k = configuredMasterKey(c);
  if (k.kind === "given") return k.key;
  if (k.kind === "file" && k.fallback) {
    if (existsSync(k.file)) return loadMasterKey({ keyFile: k.file });
    if (vaultExists(db)) {
      throw new CboError(
        "ERR_VALIDATION",
        `This data directory holds a vault${sealedBy(db)}, but its master key is not configured (no ${k.file}).`,
        {
          hint: "Give the key it was created with: CBO_MASTER_KEY, CBO_MASTER_KEY_FILE, or copy the key file to that path (mode 0600).",
        },
      );
    }
    const key = generateKeyFile(k.file);
    log.info(`cbo: created master key file ${k.file} (mode 0600). Keep it apart from backups: without it the vault cannot be opened.`);
    return key;
  }
  try {
    if (k.kind === "env") return loadMasterKey({ env: { CBO_MASTER_KEY: c.env.CBO_MASTER_KEY } });
    if (k.kind === "file") return loadMasterKey({ keyFile: k.file });
    if (k.kind === "passphrase") return loadMasterKey({ passphrase: k.passphrase, db });
    return loadMasterKey({});
  } catch (e) {
    if (isCboError(e) && e.code === "ERR_USAGE") throw daemonNeedsKey(e, vaultExists(db) ? sealedBy(db) : "");
    throw e;
  }
}

/** " sealed with master key <id>" for a vault that exists, naming the key to give. */
function sealedBy(db: Db): string {
  const id = sealingKeyId(db);
  return id ? ` sealed with master key ${id}` : "";
}

/** configuredMasterKey for the daemon: a refusal (two sources) reads as the daemon's. */
export function configuredDaemonMasterKey(c: MasterKeyConfig): ConfiguredMasterKey {
  try {
    return configuredMasterKey(c);
  } catch (e) {
    if (isCboError(e) && e.code === "ERR_USAGE") throw daemonNeedsKey(e);
    throw e;
  }
}

/** `sealed`: " sealed with master key <id>" when the data directory holds a vault already. */
function daemonNeedsKey(e: CboError, sealed = ""): CboError {
  const message = sealed
    ? `This data directory holds a vault${sealed}, and no master key is given.`
    : `The daemon needs the vault's master key, and ${e.message}.`;
  return new CboError("ERR_VALIDATION", message, {
    hint: "Set CBO_MASTER_KEY (openssl rand -base64 32), or CBO_MASTER_KEY_FILE naming a 0600 file that holds it; `cbo up` creates <data>/master.key for local use.",
  });
}

function vaultExists(db: Db): boolean {
  const row = db.prepare("SELECT COUNT(*) AS n FROM vault_meta").get() as { n: number };
  return Number(row.n) > 0;
}
