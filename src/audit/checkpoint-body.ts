// What a checkpoint signature covers: the UTF-8 bytes of
//
//   canonicalJson({ at, head_hash, key_id, kind: "cbo.audit.checkpoint.v1", merkle_root, tree_size })
//
// `kind` separates domains: the same Ed25519 key also signs config bundles, and a signature made
// for one must never pass as the other. Signatures are Ed25519 (RFC 8032), written as 128 hex chars.
// Verification uses WebCrypto's Ed25519, which any auditor's runtime has (Node 24, browsers).
import { canonicalJson } from "./canonical.ts";
import type { AuditCheckpoint } from "./schema.ts";

export const CHECKPOINT_KIND = "cbo.audit.checkpoint.v1";

export type CheckpointFields = Omit<AuditCheckpoint, "signature">;

export function checkpointBody(c: CheckpointFields): Uint8Array {
  const body = {
    at: c.at,
    head_hash: c.head_hash,
    key_id: c.key_id,
    kind: CHECKPOINT_KIND,
    merkle_root: c.merkle_root,
    tree_size: c.tree_size,
  };
  return new TextEncoder().encode(canonicalJson(body));
}

type VerifyKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

/** Imports raw Ed25519 public keys once each; an unusable key yields undefined (every signature fails). */
export function createSignatureChecker(publicKey: Uint8Array | Record<string, Uint8Array>) {
  const cache = new Map<string, Promise<VerifyKey | undefined>>();
  const rawFor = (keyId: string): Uint8Array | undefined =>
    publicKey instanceof Uint8Array ? publicKey : Object.hasOwn(publicKey, keyId) ? publicKey[keyId] : undefined;
  const keyFor = (keyId: string) => {
    const raw = rawFor(keyId);
    if (raw === undefined) return Promise.resolve(undefined);
    const cacheKey = publicKey instanceof Uint8Array ? "" : keyId;
    let p = cache.get(cacheKey);
    if (!p) {
      p = crypto.subtle.importKey("raw", new Uint8Array(raw), { name: "Ed25519" }, true, ["verify"]).catch(() => undefined);
      cache.set(cacheKey, p);
    }
    return p;
  };
  return async (c: AuditCheckpoint): Promise<boolean> => {
    const key = await keyFor(c.key_id);
    if (!key) return false;
    const sig = Buffer.from(c.signature, "hex");
    if (sig.length !== 64) return false;
    return crypto.subtle.verify({ name: "Ed25519" }, key, new Uint8Array(sig), new Uint8Array(checkpointBody(c)));
  };
}

export const toHex = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
