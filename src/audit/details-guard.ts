// Secret values never enter the audit log. Convention for callers: record WHICH secret (target,
// or a `secretName`/`version` detail) and, when a value must be recognisable later, only its keyed
// hash: `{ valueHash: keyedHash(auditKey, value) }` (value-hash.ts; HMAC-SHA256, 64 hex chars).
// A keyed hash lets someone holding the key match a value against the log, while the log alone
// cannot be brute-forced for short or guessable secrets the way a plain SHA-256 could.
//
// The guard rejects (ERR_VALIDATION, naming the path, never the value):
//   - a key, at any depth, that names a secret-like thing (value, secret, token, password,
//     passphrase, credential, private/api/master/data key, authorization, cookie, plaintext),
//     unless it ends in "hash" and holds a hex digest, or ends in a metadata suffix
//     (id, ids, name, names, version, versions, count, mode, kind, role);
//   - any string that looks like one of our API tokens or a PEM private key, wherever it is;
//   - details larger than 16 KiB once canonical.
import { CboError } from "../kit/errors.ts";
import { isSecretKey, normalizeKey } from "../kit/secret-words.ts";
import { canonicalJson } from "./canonical.ts";
import type { Details } from "./schema.ts";

const KEYED_HASH = /^[0-9a-f]{32,128}$/;
const LEAKED_VALUE = /\bcbo_(admin|deployer|viewer|agent|metrics)_[A-Za-z0-9_-]{8,}|-----BEGIN [A-Z ]*PRIVATE KEY-----/;
export const MAX_DETAILS_BYTES = 16 * 1024;

const utf8 = new TextEncoder();

export function guardDetails(details: Details): string {
  walk(details, "details");
  const json = canonicalJson(details);
  // A UTF-16 code unit is at most 3 bytes of UTF-8: only text that could be too long is encoded.
  if (json.length * 3 > MAX_DETAILS_BYTES && utf8.encode(json).length > MAX_DETAILS_BYTES) {
    throw new CboError("ERR_VALIDATION", `Audit details are larger than ${MAX_DETAILS_BYTES} bytes.`);
  }
  // Their canonical JSON, as hashed and stored: the caller need not encode them again.
  return json;
}

/** Strings outside details (actor, target) are scanned for token or key material too. */
export function guardText(text: string | null | undefined, path: string): void {
  if (text != null && LEAKED_VALUE.test(text)) throw leak(path);
}

function walk(v: unknown, path: string): void {
  if (typeof v === "string") return guardText(v, path);
  if (Array.isArray(v)) return v.forEach((x, i) => walk(x, `${path}[${i}]`));
  if (v === null || typeof v !== "object") return;
  for (const [key, child] of Object.entries(v)) {
    const at = `${path}.${key}`;
    const norm = normalizeKey(key);
    if (isSecretKey(key)) {
      const isKeyedHash = norm.endsWith("hash") && typeof child === "string" && KEYED_HASH.test(child);
      if (!isKeyedHash) {
        throw new CboError(
          "ERR_VALIDATION",
          `Audit details may not hold secret values (${at}); record a keyed hash as { valueHash: "<hex>" }.`,
          {
            details: { path: at },
          },
        );
      }
    }
    walk(child, at);
  }
}

const leak = (path: string) =>
  new CboError("ERR_VALIDATION", `Audit data at ${path} looks like a token or private key; record a keyed hash instead.`, {
    details: { path },
  });
