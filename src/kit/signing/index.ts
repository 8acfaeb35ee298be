// Message signing for the orchestrator and its Workers: one runtime-neutral surface (WebCrypto
// and zod only), bundled unchanged into Workers.
export {
  base64ToBytes,
  base64urlToBytes,
  bytesToBase64,
  bytesToBase64url,
  bytesToHex,
  concatBytes,
  hexToBytes,
  toBytes,
  utf8Decode,
} from "./encoding.ts";
export {
  DEFAULT_TOLERANCE_SEC,
  HMAC_KEY_BYTES,
  generateHmacKey,
  importHmacKey,
  signPayload,
  signatureFailureError,
  verifySignature,
} from "./hmac.ts";
export type { HmacKey, HmacKeyMaterial, SignatureCheck, SignatureFailureReason, VerifyOptions } from "./hmac.ts";
export { createNonceCache } from "./nonce-cache.ts";
export type { NonceCache, NonceCacheOptions, NonceCacheResult } from "./nonce-cache.ts";
export { MAX_HEADER_LENGTH, MAX_SIGNATURES, formatSignatureHeader, parseSignatureHeader } from "./signature-header.ts";
export type { ParsedSignatureHeader } from "./signature-header.ts";
export {
  ED25519_PUBLIC_KEY_BYTES,
  ED25519_SIGNATURE_BYTES,
  Ed25519PublicJwkSchema,
  ed25519KeyId,
  ed25519Sign,
  ed25519Verify,
  exportEd25519PrivateKey,
  exportEd25519PublicJwk,
  exportEd25519PublicKey,
  generateEd25519KeyPair,
  importEd25519KeyPair,
  importEd25519PrivateKey,
  importEd25519PublicJwk,
  importEd25519PublicKey,
} from "./ed25519.ts";
export type { Ed25519KeyPair, Ed25519PublicJwk } from "./ed25519.ts";
export type { CryptoKey, CryptoKeyPair } from "./webcrypto-types.ts";
