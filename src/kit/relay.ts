// The relay protocol: how a Worker fetches a `relay` secret from the orchestrator without the
// value ever resting at Cloudflare. WebCrypto and zod only: the Worker and the orchestrator run
// this same file.
//
//   Worker ──POST /v1/relay {worker, target, secret, version?, versionId?}──> orchestrator
//           header cbo-signature: t=<unix>,v1=<hex> (HMAC-SHA256 with the per-Worker key, over `t.body`)
//   orchestrator: verify (300 s window, replay cache, current and previous key during a rotation),
//                 policy (this Worker declares this secret, this target may hold it), read, seal
//   Worker <──{secret, version, expiresAt, iv, ciphertext}── sealed to the key that signed the request
//
// Sealing: AES-256-GCM under HKDF-SHA256(per-Worker key, salt "cbo-relay/1", info worker|target),
// with every response field but the ciphertext as associated data, so a response cannot be
// replayed for another secret, version, Worker or expiry.
import * as z from "zod";
import { CboError } from "./errors.ts";
import { base64urlToBytes, bytesToBase64url, signPayload, type CryptoKey } from "./signing/index.ts";

export const RELAY_PATH = "/v1/relay";
export const SIGNATURE_HEADER = "cbo-signature";
/** How long a Worker may cache a relayed value: short by default, bounded either way. */
export const RELAY_TTL_DEFAULT_SEC = 300;
export const RELAY_TTL_MAX_SEC = 3600;

const NAME = /^[a-z][a-z0-9-]{0,62}$/;
export const RelayRequestSchema = z
  .object({
    worker: z.string().regex(NAME),
    target: z.string().regex(NAME),
    secret: z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/),
    /** The version the Worker's release pinned (CBO_SECRET_VERSIONS); default: the current one. */
    version: z.number().int().min(1).optional(),
    /** The Worker's own version id (version metadata), for the audit trail. */
    versionId: z.string().max(100).optional(),
    /** Makes each request unique within a second (the replay cache keys on the signed bytes). */
    nonce: z.string().min(8).max(64),
  })
  .strict();
export type RelayRequest = z.infer<typeof RelayRequestSchema>;

const B64URL = z.string().regex(/^[A-Za-z0-9_-]*$/);
export const RelayResponseSchema = z
  .object({
    secret: z.string(),
    version: z.number().int().min(1),
    /** Milliseconds since the epoch after which the Worker must fetch again. */
    expiresAt: z.number().int(),
    alg: z.literal("A256GCM-HKDF-SHA256"),
    iv: B64URL,
    ciphertext: B64URL,
  })
  .strict();
export type RelayResponse = z.infer<typeof RelayResponseSchema>;

type Party = { worker: string; target: string };

async function sealingKey(workerKey: Uint8Array, party: Party, usage: "encrypt" | "decrypt"): Promise<CryptoKey> {
  const ikm = await crypto.subtle.importKey("raw", workerKey, "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: new TextEncoder().encode("cbo-relay/1"),
      info: new TextEncoder().encode(`${party.worker}|${party.target}`),
    },
    ikm,
    { name: "AES-GCM", length: 256 },
    false,
    [usage],
  );
}

const aad = (party: Party, r: { secret: string; version: number; expiresAt: number }) =>
  new TextEncoder().encode(JSON.stringify(["cbo-relay/1", party.worker, party.target, r.secret, r.version, r.expiresAt]));

/** The Worker's side: a signed request body and its headers. */
export async function createRelayRequest(
  req: Omit<RelayRequest, "nonce"> & { nonce?: string },
  workerKey: Uint8Array,
  opts: { now?: () => number } = {},
): Promise<{ body: string; headers: Record<string, string> }> {
  const nonce = req.nonce ?? bytesToBase64url(crypto.getRandomValues(new Uint8Array(12)));
  const parsed = RelayRequestSchema.safeParse({ ...req, nonce });
  if (!parsed.success)
    throw new CboError(
      "ERR_VALIDATION",
      `invalid relay request: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  const body = JSON.stringify(parsed.data);
  const signature = await signPayload(body, workerKey, opts.now ? { now: opts.now } : {});
  return { body, headers: { "content-type": "application/json", [SIGNATURE_HEADER]: signature } };
}

/** The orchestrator's side: the value sealed to the key that signed the request. */
export async function sealRelayResponse(
  value: Uint8Array,
  r: { secret: string; version: number; expiresAt: number },
  party: Party,
  workerKey: Uint8Array,
): Promise<RelayResponse> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: aad(party, r) },
    await sealingKey(workerKey, party, "encrypt"),
    value,
  );
  return {
    secret: r.secret,
    version: r.version,
    expiresAt: r.expiresAt,
    alg: "A256GCM-HKDF-SHA256",
    iv: bytesToBase64url(iv),
    ciphertext: bytesToBase64url(new Uint8Array(ct)),
  };
}

/**
 * The Worker's side: checks the answer is for what it asked, not expired, and authentic, then
 * returns the value. Every failure is ERR_UNAUTHORIZED without the payload in the message.
 */
export async function openRelayResponse(
  json: unknown,
  expect: Party & { secret: string },
  workerKey: Uint8Array,
  nowMs: number = Date.now(),
): Promise<{ value: string; version: number; expiresAt: number }> {
  const parsed = RelayResponseSchema.safeParse(json);
  if (!parsed.success) throw new CboError("ERR_UNAUTHORIZED", "The relay answer is malformed.");
  const r = parsed.data;
  if (r.secret !== expect.secret) throw new CboError("ERR_UNAUTHORIZED", "The relay answered for another secret.");
  if (r.expiresAt <= nowMs) throw new CboError("ERR_UNAUTHORIZED", "The relay answer has expired.");
  let plain: ArrayBuffer;
  try {
    plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: base64urlToBytes(r.iv), additionalData: aad(expect, r) },
      await sealingKey(workerKey, expect, "decrypt"),
      base64urlToBytes(r.ciphertext),
    );
  } catch {
    throw new CboError("ERR_UNAUTHORIZED", "The relay answer does not decrypt with this Worker's key.");
  }
  return { value: new TextDecoder().decode(plain), version: r.version, expiresAt: r.expiresAt };
}
