// The master key: the one key that wraps every data key. It comes from outside the database, from
// CBO_MASTER_KEY, a key file only its owner can read, or a passphrase through scrypt, and it never
// goes into the database, a log or an error: the bytes live in a private field, only subkeys
// derived with HKDF are kept, and the object prints as `MasterKey(<id>)`.
import { hkdfSync } from "node:crypto";
import { CboError } from "../kit/errors.ts";
import { gcmOpen, gcmSeal, KEY_BYTES, packBox, unpackBox } from "./gcm.ts";

export type MasterKeySource = "env" | "file" | "passphrase" | "bytes";

const subkey = (ikm: Uint8Array, info: string, bytes: number) =>
  Buffer.from(hkdfSync("sha256", ikm, new Uint8Array(0), `cbo-vault/v1/${info}`, bytes));

export class MasterKey {
  /**
   * A public fingerprint (16 hex chars from HKDF): it names the key that wrapped a data key, so
   * rotation can tell old wraps from new ones and a wrong key is recognised at once. It is one-way:
   * it says no more about the key than any ciphertext's tag already does.
   */
  readonly id: string;
  readonly source: MasterKeySource;
  readonly #wrapKey: Buffer;

  constructor(bytes: Uint8Array, source: MasterKeySource) {
    if (bytes.length !== KEY_BYTES) {
      throw new CboError("ERR_VALIDATION", `a master key must be ${KEY_BYTES} bytes, not ${bytes.length}`);
    }
    this.source = source;
    this.id = subkey(bytes, "key-id", 8).toString("hex");
    this.#wrapKey = subkey(bytes, "wrap", KEY_BYTES);
  }

  /** Encrypts a (data) key under this master key; iv ‖ ciphertext ‖ tag. */
  wrap(plain: Uint8Array, aad: Uint8Array): Buffer {
    return packBox(gcmSeal(this.#wrapKey, plain, aad));
  }

  /** The wrapped key, or undefined if it does not authenticate under this key and `aad`. */
  unwrap(wrapped: Uint8Array, aad: Uint8Array): Buffer | undefined {
    const box = unpackBox(wrapped);
    return box && gcmOpen(this.#wrapKey, box, aad);
  }

  toString(): string {
    return `MasterKey(${this.id})`;
  }

  toJSON(): { id: string; source: MasterKeySource } {
    return { id: this.id, source: this.source };
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

const HEX = /^[0-9a-fA-F]+$/;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/**
 * 32 bytes written as 64 hex characters or as base64 (standard or URL-safe, padded or not).
 * Errors say what is wrong with the shape, never echo the text.
 */
export function parseKeyText(text: string, what: string): Buffer {
  const t = text.trim();
  let bytes: Buffer;
  if (HEX.test(t) && t.length % 2 === 0) bytes = Buffer.from(t, "hex");
  else if (BASE64.test(t)) bytes = Buffer.from(t.replace(/-/g, "+").replace(/_/g, "/"), "base64");
  else {
    throw new CboError("ERR_VALIDATION", `${what} is neither hex nor base64`, {
      hint: "generate one with: openssl rand -base64 32",
    });
  }
  if (bytes.length !== KEY_BYTES) {
    bytes.fill(0);
    throw new CboError(
      "ERR_VALIDATION",
      `${what} must be ${KEY_BYTES} bytes (64 hex or 44 base64 characters); it decodes to ${bytes.length} bytes`,
      {
        hint: "generate one with: openssl rand -base64 32",
      },
    );
  }
  return bytes;
}

/** From CBO_MASTER_KEY; undefined when it is not set. */
export function masterKeyFromEnv(env: Record<string, string | undefined>): MasterKey | undefined {
  const text = env.CBO_MASTER_KEY;
  if (text === undefined || text === "") return undefined;
  const bytes = parseKeyText(text, "CBO_MASTER_KEY");
  try {
    return new MasterKey(bytes, "env");
  } finally {
    bytes.fill(0);
  }
}
