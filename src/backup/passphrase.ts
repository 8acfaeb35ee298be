// A passphrase-derived master key without writing to any database. The vault keeps its scrypt
// salt in vault_meta: for a backup it is read from the live database (a plain read: the vault's own
// loadMasterKey would create a salt if there were none, and a backup must not change the data
// directory); for a restore it comes from the archive's header, which carries a copy because
// vault_meta is inside the ciphertext. Either way the key is derived as the vault derives it,
// through loadMasterKey on a scratch in-memory store holding only that record.
import { existsSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { CboError } from "../kit/errors.ts";
import { nowIso, openDb } from "../store/db.ts";
import { loadMasterKey, type MasterKey } from "../vault/index.ts";
import { ensureMeta, readMeta, type Kdf } from "../vault/meta.ts";
import type { Header } from "./format.ts";

function derive(kdf: Kdf, passphrase: string): MasterKey {
  const scratch = openDb(":memory:");
  try {
    ensureMeta(scratch, "kdf", kdf, nowIso());
    return loadMasterKey({ passphrase, db: scratch });
  } finally {
    scratch.close();
  }
}

const notAPassphraseVault = (where: string) =>
  new CboError("ERR_USAGE", `${where} does not use a passphrase: give its master key instead.`, {
    hint: "set CBO_MASTER_KEY, or name the key file with --master-key-file / CBO_MASTER_KEY_FILE",
  });

/** For a restore: the key from the archive header's copy of the vault's scrypt record. */
export function passphraseKeyFor(header: Header, passphrase: string): MasterKey {
  if (header.kdf === undefined) throw notAPassphraseVault(`The vault in this archive (sealed with master key ${header.master_key_id})`);
  return derive(header.kdf, passphrase);
}

/** For a backup: the key from the live database's scrypt record, read without writing. */
export function passphraseKeyForDatabase(file: string, passphrase: string): MasterKey {
  if (!existsSync(file))
    throw new CboError("ERR_NOT_FOUND", `There is no orchestrator database at ${file}.`, {
      hint: "Pass the daemon's data directory with --data.",
    });
  const db = new DatabaseSync(file);
  let kdf: Kdf | undefined;
  try {
    db.exec("PRAGMA busy_timeout = 5000");
    const hasMeta = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'vault_meta'").get() !== undefined;
    kdf = hasMeta ? readMeta(db, "kdf") : undefined;
  } finally {
    db.close();
  }
  if (kdf === undefined) throw notAPassphraseVault(`The vault in ${file}`);
  return derive(kdf, passphrase);
}
