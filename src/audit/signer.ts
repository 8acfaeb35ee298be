// Adapting a WebCrypto Ed25519 key pair to the AuditSigner port. The daemon builds one from the
// orchestrator key the vault holds; tests build one from a freshly generated pair.
import { hash } from "node:crypto";
import type { AuditSigner } from "./schema.ts";

type Key = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

/** "ed25519:" + the first 16 hex chars of SHA-256 over the raw public key. */
export function keyIdFor(publicKey: Uint8Array): string {
  return `ed25519:${hash("sha256", publicKey, "hex").slice(0, 16)}`;
}

export async function createEd25519Signer(pair: { privateKey: Key; publicKey: Key }, keyId?: string): Promise<AuditSigner> {
  const publicKey = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  return {
    keyId: keyId ?? keyIdFor(publicKey),
    publicKey,
    sign: async (bytes) => new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, pair.privateKey, new Uint8Array(bytes))),
  };
}

/** A new key pair as a signer (tests, and first start before the vault holds a key). */
export async function generateEd25519Signer(keyId?: string): Promise<AuditSigner> {
  const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as unknown as {
    privateKey: Key;
    publicKey: Key;
  };
  return createEd25519Signer(pair, keyId);
}
