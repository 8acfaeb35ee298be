// The archive's keys. MasterKey keeps its bytes private and offers no derivation, only wrap/unwrap
// (AES-256-GCM under its own HKDF-derived wrap key), so the archive is sealed by envelope, as the
// vault seals secrets: a random archive key, stored wrapped by the master key, and the content key
// derived from it with HKDF-SHA256 under the archive's random salt. The master key's bytes never
// leave the vault's MasterKey object.
import { hkdfSync, randomBytes } from "node:crypto";
import type { MasterKey } from "../vault/index.ts";
import { integrity } from "./errors.ts";
import { SALT_BYTES } from "./format.ts";

const KEY_BYTES = 32;
/** Associated data of the wrapped archive key: a backup key can never pass for a vault data key. */
const WRAP_AAD = Buffer.from("cbo.backup.v1 archive key", "utf8");
const CONTENT_INFO = "cbo-backup/v1/content";

export type SealKeys = { wrappedKey: string; salt: Buffer; contentKey: Buffer };

export function newArchiveKeys(master: MasterKey): SealKeys {
  const archiveKey = randomBytes(KEY_BYTES);
  try {
    const salt = randomBytes(SALT_BYTES);
    return { wrappedKey: master.wrap(archiveKey, WRAP_AAD).toString("base64"), salt, contentKey: contentKey(archiveKey, salt) };
  } finally {
    archiveKey.fill(0);
  }
}

/** The content key of an archive, or ERR_VAULT_INTEGRITY when `master` did not seal it. */
export function openArchiveKeys(master: MasterKey, header: { master_key_id: string; wrapped_key: string; salt: string }): Buffer {
  if (header.master_key_id !== master.id) {
    throw integrity(
      `was sealed with master key ${header.master_key_id}, not with this one (${master.id})`,
      { key_id: master.id, archive_key_id: header.master_key_id },
      "give the master key this archive was made with (CBO_MASTER_KEY, a key file, or the passphrase); nothing was restored",
    );
  }
  const archiveKey = master.unwrap(Buffer.from(header.wrapped_key, "base64"), WRAP_AAD);
  if (archiveKey === undefined)
    throw integrity(`has an archive key that does not authenticate under master key ${master.id}`, { key_id: master.id });
  try {
    return contentKey(archiveKey, Buffer.from(header.salt, "base64"));
  } finally {
    archiveKey.fill(0);
  }
}

function contentKey(archiveKey: Uint8Array, salt: Uint8Array): Buffer {
  return Buffer.from(hkdfSync("sha256", archiveKey, salt, CONTENT_INFO, KEY_BYTES));
}
