// Envelope encryption of one secret version. A fresh 256-bit data key encrypts the value
// (AES-256-GCM, associated data = the version's identity); the master key wraps the data key
// (AES-256-GCM, associated data = master key id + identity). So a ciphertext or wrapped key
// copied to another tenant, name or version, or relabelled with another key id, fails to open,
// and master-key rotation only re-wraps 60-byte keys, never re-encrypts values.
import { randomBytes } from "node:crypto";
import { gcmOpen, gcmSeal, KEY_BYTES } from "./gcm.ts";
import { integrityError } from "./integrity.ts";
import type { MasterKey } from "./master-key.ts";

/** Which secret version a ciphertext belongs to. */
export type Identity = { tenant: string; name: string; version: number };

export type Sealed = {
  ciphertext: Uint8Array;
  iv: Uint8Array;
  tag: Uint8Array;
  /** The data key under the master key: iv ‖ ciphertext ‖ tag. */
  wrappedKey: Uint8Array;
  /** Id of the master key that wrapped it. */
  keyId: string;
};

// A JSON array is an unambiguous encoding: no choice of names makes two identities collide.
const aad = (...parts: Array<string | number>) => Buffer.from(JSON.stringify(["cbo-vault/v1", ...parts]), "utf8");
const valueAad = (id: Identity) => aad("value", id.tenant, id.name, id.version);
const dataKeyAad = (keyId: string, id: Identity) => aad("data-key", keyId, id.tenant, id.name, id.version);
const label = (id: Identity) => `${id.tenant}/${id.name} version ${id.version}`;

export function sealValue(master: MasterKey, id: Identity, plaintext: Uint8Array): Sealed {
  const dataKey = randomBytes(KEY_BYTES);
  try {
    const box = gcmSeal(dataKey, plaintext, valueAad(id));
    return { ...box, wrappedKey: master.wrap(dataKey, dataKeyAad(master.id, id)), keyId: master.id };
  } finally {
    dataKey.fill(0);
  }
}

function unwrapDataKey(master: MasterKey, id: Identity, wrappedKey: Uint8Array, keyId: string): Buffer {
  if (keyId !== master.id) {
    throw integrityError(`secret ${label(id)} is sealed with master key ${keyId}, not with the vault's key ${master.id}`, {
      ...id,
      key_id: keyId,
    });
  }
  const dataKey = master.unwrap(wrappedKey, dataKeyAad(keyId, id));
  if (dataKey === undefined) {
    throw integrityError(`the data key of secret ${label(id)} does not authenticate under master key ${master.id}`, {
      ...id,
      key_id: keyId,
    });
  }
  return dataKey;
}

/** The plaintext; ERR_VAULT_INTEGRITY if anything was altered, moved or sealed with another key. */
export function openValue(master: MasterKey, id: Identity, sealed: Sealed): Buffer {
  const dataKey = unwrapDataKey(master, id, sealed.wrappedKey, sealed.keyId);
  try {
    const plain = gcmOpen(dataKey, sealed, valueAad(id));
    if (plain === undefined) throw integrityError(`the ciphertext of secret ${label(id)} does not authenticate`, { ...id });
    return plain;
  } finally {
    dataKey.fill(0);
  }
}

/** The same data key wrapped by `to` instead of `from` (master-key rotation). */
export function rewrapDataKey(from: MasterKey, to: MasterKey, id: Identity, wrappedKey: Uint8Array, keyId: string): Buffer {
  const dataKey = unwrapDataKey(from, id, wrappedKey, keyId);
  try {
    return to.wrap(dataKey, dataKeyAad(to.id, id));
  } finally {
    dataKey.fill(0);
  }
}

// The audit hash key is wrapped the same way, bound to its own purpose and the master key id.
export const hashKeyAad = (keyId: string) => aad("hash-key", keyId);
