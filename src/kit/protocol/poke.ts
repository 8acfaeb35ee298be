// Pokes: the orchestrator telling a Worker "new config is in KV, refresh now" instead of waiting
// for the agent's next poll. POST <worker>/orchestrator/poke with body {worker, target,
// configVersion, nonce} and the per-Worker key's HMAC in `cbo-signature` (300 s window). Each isolate
// keeps a nonce cache, so a captured poke cannot be replayed inside its window; outside it the
// timestamp check refuses it. A poke carries no config: at worst a forged one would make the agent
// re-read KV, and it cannot even do that without the key. The body also carries a random nonce.
import * as z from "zod";
import { bytesToBase64url, signPayload, verifySignature } from "../signing/index.ts";
import type { HmacKey, NonceCache, SignatureFailureReason } from "../signing/index.ts";
import { NameSchema, SIGNATURE_HEADER } from "./bindings.ts";

export const PokeSchema = z
  .object({
    worker: NameSchema,
    target: NameSchema,
    /** The version just written; the agent re-reads KV (a few times, KV being eventually consistent) until it applies it. */
    configVersion: z.number().int().min(1),
    /** Makes each poke unique: two pokes of one version in the same second would otherwise be one signed message, the second refused as a replay. */
    nonce: z.string().min(8).max(64),
  })
  .strict();
export type Poke = z.infer<typeof PokeSchema>;
export type PokeInput = Omit<Poke, "nonce"> & { nonce?: string };

/** Largest poke body read; a real one is well under 200 bytes. */
export const MAX_POKE_BODY_BYTES = 1024;

export type PokeFailureReason = SignatureFailureReason | "malformed_body" | "wrong_worker";
export type PokeCheck = { ok: true; poke: Poke } | { ok: false; reason: PokeFailureReason };

/** The orchestrator's side: the body and headers to POST to the Worker's poke path. */
export async function createPokeRequest(
  poke: PokeInput,
  key: HmacKey | readonly HmacKey[],
  opts: { now?: () => number } = {},
): Promise<{ body: string; headers: Record<string, string> }> {
  const nonce = poke.nonce ?? bytesToBase64url(crypto.getRandomValues(new Uint8Array(12)));
  const body = JSON.stringify(PokeSchema.parse({ ...poke, nonce }));
  const signature = await signPayload(body, key, opts.now ? { now: opts.now } : {});
  return { body, headers: { "content-type": "application/json", [SIGNATURE_HEADER]: signature } };
}

/**
 * The Worker's side. The signature is checked over the raw body before the body is parsed, so
 * nothing unauthenticated is interpreted; `keys` holds the current key and, during a rotation,
 * the previous one.
 */
export async function verifyPokeRequest(
  header: string | null | undefined,
  body: string,
  keys: HmacKey | readonly HmacKey[],
  opts: { expect: { worker: string; target: string }; nonceCache: NonceCache; now?: () => number },
): Promise<PokeCheck> {
  const check = await verifySignature(header, body, keys, {
    nonceCache: opts.nonceCache,
    replayScope: "poke",
    ...(opts.now ? { now: opts.now } : {}),
  });
  if (!check.ok) return { ok: false, reason: check.reason };
  let parsed: z.ZodSafeParseResult<Poke>;
  try {
    parsed = PokeSchema.safeParse(JSON.parse(body));
  } catch {
    return { ok: false, reason: "malformed_body" };
  }
  if (!parsed.success) return { ok: false, reason: "malformed_body" };
  if (parsed.data.worker !== opts.expect.worker || parsed.data.target !== opts.expect.target) {
    return { ok: false, reason: "wrong_worker" };
  }
  return { ok: true, poke: parsed.data };
}
