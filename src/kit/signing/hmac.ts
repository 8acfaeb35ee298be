// HMAC-SHA256 message signatures in Stripe's shape: `t=<unix>,v1=<hex>` over the bytes
// "<t>.<body>". WebCrypto only, so the orchestrator and its Workers run this same file.
// Signatures are checked with crypto.subtle.verify (constant-time inside the runtime) rather
// than by comparing hex strings, which would leak through timing how much of a guess was right.
import { CboError } from "../errors.ts";
import { bytesToHex, concatBytes, hexToBytes, toBytes } from "./encoding.ts";
import type { NonceCache } from "./nonce-cache.ts";
import type { CryptoKey } from "./webcrypto-types.ts";
import { MAX_SIGNATURES, formatSignatureHeader, parseSignatureHeader } from "./signature-header.ts";

export const DEFAULT_TOLERANCE_SEC = 300;
/** Key length we generate and the least we accept: the output size of SHA-256. */
export const HMAC_KEY_BYTES = 32;

export type HmacKeyMaterial = Uint8Array | CryptoKey;
/** Raw bytes, a CryptoKey (from importHmacKey), or either with an id reported back on success. */
export type HmacKey = HmacKeyMaterial | { id?: string; key: HmacKeyMaterial };

export type SignatureFailureReason =
  | "malformed_header"
  | "timestamp_out_of_tolerance"
  | "no_matching_signature"
  | "replayed"
  | "replay_cache_full";

export type SignatureCheck =
  | { ok: true; timestamp: number; keyIndex: number; keyId: string | undefined }
  | { ok: false; reason: SignatureFailureReason };

export type VerifyOptions = {
  /** Largest allowed |now − t| in seconds, past or future; default 300. */
  toleranceSec?: number;
  /** Milliseconds since the epoch; defaults to Date.now. */
  now?: () => number;
  /** Without one, replays inside the window are NOT detected. */
  nonceCache?: NonceCache;
  /** Prefix for replay keys when one cache serves several senders (e.g. a Worker's id). */
  replayScope?: string;
  /**
   * The message's replay identity, when the caller has one inside the signed content (e.g. a
   * heartbeat's isolate and send time): it must be unique per genuine message and read from the
   * signed body. Default: SHA-256 of the signed content (one more WebCrypto call per message).
   */
  replayKey?: string;
};

export function generateHmacKey(): Uint8Array<ArrayBuffer> {
  return crypto.getRandomValues(new Uint8Array(HMAC_KEY_BYTES));
}

/** A non-extractable (by default) HMAC-SHA256 CryptoKey for sign and verify. */
export async function importHmacKey(raw: Uint8Array, opts: { extractable?: boolean } = {}): Promise<CryptoKey> {
  if (raw.length < HMAC_KEY_BYTES) {
    throw new CboError("ERR_VALIDATION", `HMAC keys must be at least ${HMAC_KEY_BYTES} bytes.`);
  }
  return crypto.subtle.importKey("raw", toBytes(raw), { name: "HMAC", hash: "SHA-256" }, opts.extractable ?? false, ["sign", "verify"]);
}

async function resolveKey(key: HmacKey, usage: "sign" | "verify"): Promise<CryptoKey> {
  const material = key instanceof Uint8Array || !("key" in key) ? key : key.key;
  if (material instanceof Uint8Array) return importHmacKey(material);
  const alg = material.algorithm as { name?: string; hash?: { name?: string }; length?: number };
  const fits = alg.name === "HMAC" && alg.hash?.name === "SHA-256" && (alg.length ?? 0) >= HMAC_KEY_BYTES * 8;
  if (!fits || !material.usages.includes(usage)) {
    throw new CboError("ERR_VALIDATION", `Expected an HMAC-SHA256 key of at least ${HMAC_KEY_BYTES} bytes allowed to ${usage}.`);
  }
  return material;
}

const keyIdOf = (key: HmacKey) => (key instanceof Uint8Array || !("key" in key) ? undefined : key.id);

function signedContent(timestamp: number, body: string | Uint8Array): Uint8Array<ArrayBuffer> {
  return concatBytes(toBytes(`${timestamp}.`), toBytes(body));
}

function checkTimestamp(t: number): number {
  // The header parser accepts at most 12 digits; refuse to write what it would refuse to read.
  if (!Number.isSafeInteger(t) || t < 0 || t > 999_999_999_999) {
    throw new CboError("ERR_VALIDATION", "A signature timestamp must be whole unix seconds.");
  }
  return t;
}

/**
 * The header value for `body`: one `v1=` per key, in order (several during a rotation, when the
 * receiver may hold only the old or only the new key).
 */
export async function signPayload(
  body: string | Uint8Array,
  key: HmacKey | readonly HmacKey[],
  opts: { timestamp?: number; now?: () => number } = {},
): Promise<string> {
  const keys = Array.isArray(key) ? (key as readonly HmacKey[]) : [key as HmacKey];
  if (keys.length === 0 || keys.length > MAX_SIGNATURES) {
    throw new CboError("ERR_VALIDATION", `Sign with 1 to ${MAX_SIGNATURES} keys.`);
  }
  const t = checkTimestamp(opts.timestamp ?? Math.floor((opts.now ?? Date.now)() / 1000));
  const content = signedContent(t, body);
  const signatures: string[] = [];
  for (const k of keys) {
    const mac = await crypto.subtle.sign("HMAC", await resolveKey(k, "sign"), content);
    signatures.push(bytesToHex(new Uint8Array(mac)));
  }
  return formatSignatureHeader(t, signatures);
}

/**
 * Checks a signature header against every current key (two during a rotation). Bad input gives
 * a failure reason and never throws; a bad key list (a configuration bug) throws ERR_VALIDATION.
 * Check order: header shape, timestamp window, signature, then replay, so only authentic
 * messages ever enter the nonce cache.
 */
export async function verifySignature(
  header: string | null | undefined,
  body: string | Uint8Array,
  keys: HmacKey | readonly HmacKey[],
  opts: VerifyOptions = {},
): Promise<SignatureCheck> {
  const list = Array.isArray(keys) ? (keys as readonly HmacKey[]) : [keys as HmacKey];
  if (list.length === 0) throw new CboError("ERR_VALIDATION", "Verify against at least one key.");
  const toleranceSec = opts.toleranceSec ?? DEFAULT_TOLERANCE_SEC;
  if (!Number.isSafeInteger(toleranceSec) || toleranceSec < 0) {
    throw new CboError("ERR_VALIDATION", "toleranceSec must be a whole number of seconds.");
  }
  const cryptoKeys = await Promise.all(list.map((k) => resolveKey(k, "verify")));

  const parsed = parseSignatureHeader(header);
  if (parsed === undefined) return { ok: false, reason: "malformed_header" };
  const nowSec = Math.floor((opts.now ?? Date.now)() / 1000);
  if (Math.abs(nowSec - parsed.timestamp) > toleranceSec) return { ok: false, reason: "timestamp_out_of_tolerance" };

  const content = signedContent(parsed.timestamp, body);
  let keyIndex = -1;
  search: for (const hex of parsed.signatures) {
    const mac = hexToBytes(hex);
    for (let i = 0; i < cryptoKeys.length; i++) {
      if (await crypto.subtle.verify("HMAC", cryptoKeys[i]!, mac, content)) {
        keyIndex = i;
        break search;
      }
    }
  }
  if (keyIndex < 0) return { ok: false, reason: "no_matching_signature" };

  if (opts.nonceCache) {
    // Keyed on the signed message, not on the matching v1 value: a header signed with both the
    // old and the new key would otherwise be replayable once more with only its other v1 entry.
    const digest = opts.replayKey ?? bytesToHex(new Uint8Array(await crypto.subtle.digest("SHA-256", content)));
    const expiresAtMs = (parsed.timestamp + toleranceSec + 1) * 1000;
    const seen = opts.nonceCache.checkAndAdd(`${opts.replayScope ?? ""}:${digest}`, expiresAtMs);
    if (seen === "seen") return { ok: false, reason: "replayed" };
    if (seen === "full") return { ok: false, reason: "replay_cache_full" };
  }
  return { ok: true, timestamp: parsed.timestamp, keyIndex, keyId: keyIdOf(list[keyIndex]!) };
}

const FAILURE_MESSAGES: Record<SignatureFailureReason, string> = {
  malformed_header: "The signature header is missing or malformed.",
  timestamp_out_of_tolerance: "The signature's timestamp is outside the allowed window.",
  no_matching_signature: "No signature matches a current key.",
  replayed: "This signed message was already accepted once.",
  replay_cache_full: "Too many signed messages inside the tolerance window.",
};

/** The API's answer to a failed check: ERR_UNAUTHORIZED naming the reason, never a key or body. */
export function signatureFailureError(reason: SignatureFailureReason): CboError {
  const hint =
    reason === "timestamp_out_of_tolerance"
      ? "Check the sender's clock (NTP)."
      : reason === "replay_cache_full"
        ? "Retry later."
        : undefined;
  return new CboError("ERR_UNAUTHORIZED", FAILURE_MESSAGES[reason], {
    details: { reason },
    ...(hint === undefined ? {} : { hint }),
  });
}
