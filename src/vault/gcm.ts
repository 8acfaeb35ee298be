// AES-256-GCM, the one cipher of the vault. A failed open returns undefined rather than throwing
// node's error, so that callers raise ERR_VAULT_INTEGRITY with the identity they were opening.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

const IV_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_BYTES = 32;

export type Box = { iv: Uint8Array; ciphertext: Uint8Array; tag: Uint8Array };

/** Encrypts under a fresh random IV; `aad` is authenticated, not encrypted. */
export function gcmSeal(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Box {
  const iv = randomBytes(IV_BYTES);
  const c = createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
  c.setAAD(aad);
  const ciphertext = Buffer.concat([c.update(plaintext), c.final()]);
  return { iv, ciphertext, tag: c.getAuthTag() };
}

/** The plaintext, or undefined when key, IV, ciphertext, tag or AAD do not authenticate. */
export function gcmOpen(key: Uint8Array, box: Box, aad: Uint8Array): Buffer | undefined {
  if (key.length !== KEY_BYTES || box.iv.length !== IV_BYTES || box.tag.length !== TAG_BYTES) return undefined;
  let head: Buffer | undefined;
  try {
    const d = createDecipheriv("aes-256-gcm", key, box.iv, { authTagLength: TAG_BYTES });
    d.setAAD(aad);
    d.setAuthTag(box.tag);
    head = d.update(box.ciphertext);
    return Buffer.concat([head, d.final()]);
  } catch {
    // update() hands out plaintext before the tag is checked: wipe it when the tag fails.
    head?.fill(0);
    return undefined;
  }
}

/** iv ‖ ciphertext ‖ tag, the stored form of a wrapped key. */
export function packBox(box: Box): Buffer {
  return Buffer.concat([box.iv, box.ciphertext, box.tag]);
}

export function unpackBox(packed: Uint8Array): Box | undefined {
  if (packed.length < IV_BYTES + TAG_BYTES) return undefined;
  return {
    iv: packed.subarray(0, IV_BYTES),
    ciphertext: packed.subarray(IV_BYTES, packed.length - TAG_BYTES),
    tag: packed.subarray(packed.length - TAG_BYTES),
  };
}
