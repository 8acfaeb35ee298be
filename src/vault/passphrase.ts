// The master key from a passphrase, through scrypt with a random per-vault salt kept in vault_meta.
//
// Parameters: N = 2^17, r = 8, p = 1, 32-byte output, 16-byte salt: OWASP's recommendation for
// scrypt (128 MiB of memory, ~0.3 s here, once at start-up), four times the cost of the common
// N = 2^15 floor. They are stored beside the salt, so a vault keeps opening with the parameters
// it was created with if the defaults rise; a stored N below 2^15 is refused as tampering.
import { randomBytes, scryptSync } from "node:crypto";
import { CboError } from "../kit/errors.ts";
import { nowIso, type Db } from "../store/db.ts";
import { KEY_BYTES } from "./gcm.ts";
import { MasterKey } from "./master-key.ts";
import { ensureMeta, type Kdf } from "./meta.ts";

export const SCRYPT_DEFAULTS = { N: 2 ** 17, r: 8, p: 1 } as const;
const SALT_BYTES = 16;
const MIN_PASSPHRASE_CHARS = 12;

/**
 * Derives the master key from `passphrase` with this vault's salt, creating the salt (and storing
 * the parameters) on first use. The same passphrase on the same vault gives the same key.
 */
export function masterKeyFromPassphrase(
  db: Db,
  passphrase: string,
  params: { N: number; r: number; p: number } = SCRYPT_DEFAULTS,
): MasterKey {
  // NFC: the same passphrase typed on different systems must give the same bytes.
  const normalized = passphrase.normalize("NFC");
  if ([...normalized].length < MIN_PASSPHRASE_CHARS) {
    throw new CboError("ERR_VALIDATION", `the vault passphrase must have at least ${MIN_PASSPHRASE_CHARS} characters`);
  }
  const kdf: Kdf = ensureMeta(db, "kdf", { alg: "scrypt", ...params, salt: randomBytes(SALT_BYTES).toString("base64") }, nowIso());
  const pw = Buffer.from(normalized, "utf8");
  let bytes: Buffer | undefined;
  try {
    bytes = scryptSync(pw, Buffer.from(kdf.salt, "base64"), KEY_BYTES, {
      N: kdf.N,
      r: kdf.r,
      p: kdf.p,
      maxmem: 256 * kdf.N * kdf.r + 16 * 1024 * 1024, // node's default (32 MiB) is below N = 2^17
    });
    return new MasterKey(bytes, "passphrase");
  } finally {
    pw.fill(0);
    bytes?.fill(0);
  }
}
