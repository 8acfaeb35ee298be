// Which master key seals the vault (vault_meta.keys), and the audit hash key it wraps. Opening the
// keyring is where a wrong master key is caught: before any secret is touched.
import { randomBytes } from "node:crypto";
import type { Db } from "../store/db.ts";
import { atomic } from "./atomic.ts";
import { hashKeyAad } from "./envelope.ts";
import { KEY_BYTES } from "./gcm.ts";
import { integrityError } from "./integrity.ts";
import type { MasterKey } from "./master-key.ts";
import { ensureMeta, readMeta, writeMeta, type Keys } from "./meta.ts";
import type { Logger } from "../telemetry/index.ts";

const wrapHashKey = (master: MasterKey, hashKey: Uint8Array) => ({
  key_id: master.id,
  wrapped: master.wrap(hashKey, hashKeyAad(master.id)).toString("base64"),
});

function wrongKey(keys: Keys, master: MasterKey) {
  const retired = keys.retired.find((r) => r.id === master.id);
  // Another key than the one that sealed it (a restored archive, a key file from elsewhere) is far
  // likelier than tampering: say which key to give, and where a rotation left the older one.
  return integrityError(
    retired
      ? `master key ${master.id} was retired on ${retired.retired_at}; this vault is sealed with key ${keys.current}`
      : `master key ${master.id} does not open this vault, which is sealed with key ${keys.current}`,
    { key_id: master.id, vault_key_id: keys.current },
    `give the key ${keys.current} that seals it: --master-key-file FILE, CBO_MASTER_KEY_FILE=FILE or CBO_MASTER_KEY ` +
      "(a rotation keeps the older key beside the key file, as <file>.retired-<id>)",
  );
}

/** Checks that `master` seals this vault (sealing a new vault with it) and returns the hash key. */
export function openKeyring(db: Db, master: MasterKey, at: string, log: Logger): Buffer {
  return atomic(db, () => {
    let keys = readMeta(db, "keys");
    if (keys === undefined) {
      // Secrets without a keyring: the metadata was lost or wiped. Adopting this key would hide that.
      if (db.prepare("SELECT 1 FROM secret_versions LIMIT 1").get() !== undefined)
        throw integrityError("the vault holds secrets but its key record (vault_meta.keys) is missing");
      const hashKey = randomBytes(KEY_BYTES);
      writeMeta(db, "hash_key", wrapHashKey(master, hashKey), at);
      hashKey.fill(0);
      keys = ensureMeta(db, "keys", { current: master.id, retired: [] }, at);
      log.info(`vault: new vault sealed with master key ${master.id} (from ${master.source})`);
    }
    if (keys.current !== master.id) throw wrongKey(keys, master);
    const stored = readMeta(db, "hash_key");
    if (stored === undefined) throw integrityError("the vault's hash key is missing");
    const hashKey = stored.key_id === master.id ? master.unwrap(Buffer.from(stored.wrapped, "base64"), hashKeyAad(master.id)) : undefined;
    if (hashKey === undefined)
      throw integrityError(`the vault's hash key does not authenticate under master key ${master.id}`, { key_id: master.id });
    return hashKey;
  });
}

/** Inside the rotation's transaction: seals the keyring with `next` and retires `prev`. */
export function rotateKeyring(db: Db, prev: MasterKey, next: MasterKey, hashKey: Uint8Array, at: string): void {
  const keys = readMeta(db, "keys");
  if (keys === undefined || keys.current !== prev.id)
    throw integrityError("the vault's current master key changed underneath this process");
  writeMeta(db, "hash_key", wrapHashKey(next, hashKey), at);
  writeMeta(db, "keys", { current: next.id, retired: [...keys.retired, { id: prev.id, retired_at: at }] }, at);
}

export function isRetired(db: Db, id: string): boolean {
  return readMeta(db, "keys")?.retired.some((r) => r.id === id) ?? false;
}
