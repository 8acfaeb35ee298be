// Signed configuration bundles: what the orchestrator writes to a target's KV and the edge agent
// trusts only after checking. The KV value is JSON
//   { payload: base64url(UTF-8 canonical JSON of ConfigPayload), signature, keyId }
// with `signature` = base64url(Ed25519 over exactly those payload bytes, not over their base64url
// text). Signing the canonical bytes means a verifier never re-serialises anything: it checks the
// bytes it was given, then parses them.
//
// verifyConfigBundle answers a typed rejection instead of throwing, because a bad bundle is an
// expected event at the edge (a bad KV write, a tampered value) that the agent reports and rides
// out on its last known good bundle. Whether a valid bundle may replace the applied one is a
// separate question (config-order.ts), since it needs the agent's state.
import * as z from "zod";
import { CboError } from "../errors.ts";
import { base64urlToBytes, bytesToBase64url, bytesToHex, ed25519Sign, ed25519Verify, toBytes, utf8Decode } from "../signing/index.ts";
import type { CryptoKey } from "../signing/index.ts";
import { NameSchema } from "./bindings.ts";
import { canonicalJson } from "./canonical-json.ts";

export const CONFIG_FORMAT = "cbo-config/1";
/** Larger KV values are refused unread: they bound the work an attacker with KV access can cause. */
export const MAX_CONFIG_BUNDLE_CHARS = 1024 * 1024;

export const ConfigPayloadSchema = z
  .object({
    format: z.literal(CONFIG_FORMAT),
    worker: NameSchema,
    target: NameSchema,
    /** Monotonic per worker; only a rollback bundle may carry a lower one than the applied. */
    version: z.number().int().min(1),
    rollback: z.boolean(),
    /** When the orchestrator signed it; orders bundles so that an old one cannot be replayed. */
    issuedAt: z.iso.datetime(),
    config: z.record(z.string(), z.unknown()),
  })
  .strict();
export type ConfigPayload = z.infer<typeof ConfigPayloadSchema>;

const B64URL = z.string().regex(/^[A-Za-z0-9_-]+$/);
export const ConfigBundleSchema = z
  .object({
    payload: B64URL,
    signature: B64URL,
    /** Which orchestrator key signed it ("ed25519:" + 16 hex of SHA-256 over the raw public key). */
    keyId: z.string().min(1).max(100),
  })
  .strict();
export type ConfigBundle = z.infer<typeof ConfigBundleSchema>;

export const CONFIG_REJECTION_REASONS = [
  /** Not JSON, not the bundle shape, undecodable, or a signed payload that is not a ConfigPayload. */
  "malformed",
  /** The signature does not verify with the orchestrator's public key. */
  "bad_signature",
  /** Validly signed, but for another worker or target. */
  "wrong_worker",
  /** Validly signed, but not newer than the applied bundle (and not a newer rollback). */
  "older_version",
  /** Validly signed, but the config does not fit the Worker's own schema. */
  "invalid_config",
] as const;
export const ConfigRejectionReasonSchema = z.enum(CONFIG_REJECTION_REASONS);
export type ConfigRejectionReason = z.infer<typeof ConfigRejectionReasonSchema>;

export type ConfigVerification =
  | { ok: true; payload: ConfigPayload }
  /** `version` is the one the bundle claims; on bad_signature it is unauthenticated, for reports only. */
  | { ok: false; reason: ConfigRejectionReason; version?: number };

export type ConfigPayloadInput = Omit<ConfigPayload, "format" | "rollback" | "issuedAt"> & {
  rollback?: boolean;
  issuedAt?: string;
};

/** The key id config bundles and audit checkpoints carry for an Ed25519 public key. */
export async function ed25519KeyIdOf(publicKeyRaw: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", toBytes(publicKeyRaw)));
  return `ed25519:${bytesToHex(digest).slice(0, 16)}`;
}

/**
 * The orchestrator's side: the bundle to store (JSON.stringify it into KV). `keyId` defaults to
 * the one derived from an extractable private key; pass it for a non-extractable one.
 */
export async function signConfigBundle(
  input: ConfigPayloadInput,
  privateKey: CryptoKey,
  opts: { keyId?: string; now?: () => number } = {},
): Promise<ConfigBundle> {
  const candidate = {
    ...input,
    format: CONFIG_FORMAT,
    rollback: input.rollback ?? false,
    issuedAt: input.issuedAt ?? new Date((opts.now ?? Date.now)()).toISOString(),
  };
  const parsed = ConfigPayloadSchema.safeParse(candidate);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(payload)"}: ${i.message}`).join("; ");
    throw new CboError("ERR_VALIDATION", `Invalid config payload: ${issues}`);
  }
  const bytes = toBytes(canonicalJson(parsed.data));
  const signature = await ed25519Sign(privateKey, bytes);
  return {
    payload: bytesToBase64url(bytes),
    signature: bytesToBase64url(signature),
    keyId: opts.keyId ?? (await keyIdFromPrivate(privateKey)),
  };
}

async function keyIdFromPrivate(privateKey: CryptoKey): Promise<string> {
  if (!privateKey.extractable) {
    throw new CboError("ERR_VALIDATION", "Pass keyId when signing config with a non-extractable key.");
  }
  const jwk = (await crypto.subtle.exportKey("jwk", privateKey)) as { x?: string };
  if (typeof jwk.x !== "string") throw new CboError("ERR_VALIDATION", "Expected an Ed25519 private key.");
  return ed25519KeyIdOf(base64urlToBytes(jwk.x));
}

/** The Worker's side: the payload if `raw` (the KV value) is authentic and meant for this Worker. */
export async function verifyConfigBundle(
  raw: string,
  publicKey: CryptoKey,
  expect: { worker: string; target: string },
): Promise<ConfigVerification> {
  if (raw.length > MAX_CONFIG_BUNDLE_CHARS) return { ok: false, reason: "malformed" };
  let envelope: ConfigBundle;
  let payloadBytes: Uint8Array;
  let signature: Uint8Array;
  try {
    envelope = ConfigBundleSchema.parse(JSON.parse(raw));
    payloadBytes = base64urlToBytes(envelope.payload);
    signature = base64urlToBytes(envelope.signature);
  } catch {
    return { ok: false, reason: "malformed" };
  }
  const claimed = decodePayload(payloadBytes);
  if (!(await ed25519Verify(publicKey, payloadBytes, signature))) {
    const version = claimedVersion(claimed);
    return { ok: false, reason: "bad_signature", ...(version === undefined ? {} : { version }) };
  }
  const payload = ConfigPayloadSchema.safeParse(claimed);
  if (!payload.success) return { ok: false, reason: "malformed" };
  if (payload.data.worker !== expect.worker || payload.data.target !== expect.target) {
    return { ok: false, reason: "wrong_worker", version: payload.data.version };
  }
  return { ok: true, payload: payload.data };
}

function decodePayload(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(utf8Decode(bytes));
  } catch {
    return undefined;
  }
}

function claimedVersion(claimed: unknown): number | undefined {
  const v = (claimed as { version?: unknown } | undefined)?.version;
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 1 ? v : undefined;
}
