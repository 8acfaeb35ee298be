// Picks the master key's one source. Exactly one may be configured: with two, a typo in one would
// silently decide which key opens the vault.
import { CboError } from "../kit/errors.ts";
import type { Db } from "../store/db.ts";
import { masterKeyFromFile } from "./key-file.ts";
import { masterKeyFromEnv, type MasterKey } from "./master-key.ts";
import { masterKeyFromPassphrase } from "./passphrase.ts";

export type MasterKeyOptions = {
  /** Where CBO_MASTER_KEY is read from (pass process.env from the composition root). */
  env?: Record<string, string | undefined>;
  /** Path of a key file (mode 0600). */
  keyFile?: string;
  /** A passphrase; needs `db`, whose vault_meta holds the scrypt salt. */
  passphrase?: string;
  db?: Db;
};

export function loadMasterKey(opts: MasterKeyOptions): MasterKey {
  const fromEnv = opts.env?.CBO_MASTER_KEY !== undefined && opts.env.CBO_MASTER_KEY !== "";
  const given = [
    fromEnv && "CBO_MASTER_KEY",
    opts.keyFile !== undefined && "a key file",
    opts.passphrase !== undefined && "a passphrase",
  ].filter((s): s is string => typeof s === "string");
  if (given.length > 1) {
    throw new CboError("ERR_USAGE", `the master key is configured twice (${given.join(" and ")}); use exactly one source`);
  }
  if (fromEnv) return masterKeyFromEnv(opts.env!)!;
  if (opts.keyFile !== undefined) return masterKeyFromFile(opts.keyFile);
  if (opts.passphrase !== undefined) {
    if (opts.db === undefined) throw new CboError("ERR_INTERNAL", "a passphrase needs the store, which holds the vault's salt");
    return masterKeyFromPassphrase(opts.db, opts.passphrase);
  }
  throw new CboError("ERR_USAGE", "no master key: set CBO_MASTER_KEY, or configure a key file or a passphrase", {
    hint: "export CBO_MASTER_KEY=$(openssl rand -base64 32), or keep that value in a key file with mode 0600",
  });
}
