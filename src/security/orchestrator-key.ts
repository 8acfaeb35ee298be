// The orchestrator's Ed25519 signing key (audit checkpoints now, config bundles later). Its private
// half lives only in the vault, as PKCS#8 under a reserved name, created on first start; in memory
// it is a non-extractable WebCrypto key. Workers and auditors get the public half.
import { createEd25519Signer, type AuditSigner } from "../audit/index.ts";
import { CboError, isCboError } from "../kit/errors.ts";
import {
  exportEd25519PrivateKey,
  exportEd25519PublicJwk,
  exportEd25519PublicKey,
  generateEd25519KeyPair,
  importEd25519KeyPair,
  type Ed25519KeyPair,
  type Ed25519PublicJwk,
} from "../kit/signing/index.ts";
import type { Vault } from "../vault/index.ts";
import { DAEMON_ACTOR } from "./principal.ts";

/** Names starting with this are the orchestrator's own; the API neither lists nor touches them. */
export const RESERVED_PREFIX = "__";
export const ORCHESTRATOR_KEY_SECRET = "__orchestrator_signing_key";
/** The vault tenant holding the orchestrator's own secrets. */
const KEY_TENANT = "default";

export type OrchestratorKeyInfo = {
  /** The key id checkpoints carry (`key_id`): "ed25519:" + 16 hex chars of SHA-256(raw public key). */
  keyId: string;
  /** Raw 32-byte public key, base64url. */
  publicKey: string;
  jwk: Ed25519PublicJwk & { kid: string; alg: "EdDSA"; use: "sig" };
};

export type OrchestratorKey = { info: OrchestratorKeyInfo; signer: AuditSigner; pair: Ed25519KeyPair };

export async function loadOrchestratorKey(vault: Vault): Promise<OrchestratorKey> {
  let pkcs8: Uint8Array | undefined;
  try {
    if (!exists(vault)) {
      const fresh = await generateEd25519KeyPair({ extractable: true });
      pkcs8 = await exportEd25519PrivateKey(fresh.privateKey);
      try {
        vault.put(ORCHESTRATOR_KEY_SECRET, pkcs8, { tenant: KEY_TENANT, cas: 0, mode: "relay", by: DAEMON_ACTOR });
      } catch (e) {
        // Another process created it between our check and our write: use theirs.
        if (!isCboError(e) || e.code !== "ERR_CONFLICT") throw e;
        pkcs8.fill(0);
        pkcs8 = undefined;
      }
    }
    pkcs8 ??= vault.get(ORCHESTRATOR_KEY_SECRET, { tenant: KEY_TENANT, by: DAEMON_ACTOR }).value;
    let pair: Ed25519KeyPair;
    try {
      pair = await importEd25519KeyPair(pkcs8);
    } catch (e) {
      throw new CboError("ERR_VAULT_INTEGRITY", `The vault's ${ORCHESTRATOR_KEY_SECRET} is not an Ed25519 private key.`, { cause: e });
    }
    const signer = await createEd25519Signer(pair);
    const publicKey = await exportEd25519PublicKey(pair.publicKey);
    const jwk = { ...(await exportEd25519PublicJwk(pair.publicKey)), kid: signer.keyId, alg: "EdDSA" as const, use: "sig" as const };
    return { info: { keyId: signer.keyId, publicKey, jwk }, signer, pair };
  } finally {
    pkcs8?.fill(0);
  }
}

function exists(vault: Vault): boolean {
  try {
    vault.info(ORCHESTRATOR_KEY_SECRET, { tenant: KEY_TENANT });
    return true;
  } catch (e) {
    if (isCboError(e) && e.code === "ERR_NOT_FOUND") return false;
    throw e;
  }
}
