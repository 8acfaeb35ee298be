// Which names speak of a secret (a value, a token, a password, a key…): the audit log refuses such
// keys in its details (audit/details-guard.ts), and config values under such keys are masked where
// they are shown or recorded (sync/config-changes.ts). One list, so the two agree.
const SECRET_WORDS =
  /value|secret|token|password|passwd|passphrase|credential|privatekey|apikey|masterkey|datakey|authorization|cookie|plaintext/;
/** A name that is about a secret, not the secret itself: `tokenId`, `secretName`, `keyVersion`… */
const METADATA_SUFFIX = /(id|ids|name|names|version|versions|count|mode|kind|role)$/;

/** The key, lower-cased with anything but letters and digits dropped (`api_key` -> `apikey`). */
export const normalizeKey = (key: string) => key.toLowerCase().replace(/[^a-z0-9]/g, "");

/** Does this key name a secret value (and not something about one)? */
export function isSecretKey(key: string): boolean {
  const norm = normalizeKey(key);
  return SECRET_WORDS.test(norm) && !METADATA_SUFFIX.test(norm);
}
