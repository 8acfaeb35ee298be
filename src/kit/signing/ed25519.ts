// Ed25519 on WebCrypto: the orchestrator's signing key (config bundles, audit checkpoints). Its
// private half is kept in the vault as PKCS#8; Workers and auditors get the public half as raw
// base64url or as a JWK. Node 24 and workerd both implement { name: "Ed25519" }.
// Bad input (wrong length, not a key) is ERR_VALIDATION; messages never include key bytes.
import * as z from "zod";
import { CboError } from "../errors.ts";
import { base64urlToBytes, bytesToBase64url, toBytes } from "./encoding.ts";
import type { CryptoKey, CryptoKeyPair } from "./webcrypto-types.ts";

export type Ed25519KeyPair = { privateKey: CryptoKey; publicKey: CryptoKey };

export const ED25519_PUBLIC_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;

export const Ed25519PublicJwkSchema = z.object({
  kty: z.literal("OKP"),
  crv: z.literal("Ed25519"),
  x: z.string(),
  kid: z.string().optional(),
});
export type Ed25519PublicJwk = z.infer<typeof Ed25519PublicJwkSchema>;

const ALG = { name: "Ed25519" } as const;

function expectKey(key: CryptoKey, type: "public" | "private"): CryptoKey {
  if ((key.algorithm as { name?: string }).name !== "Ed25519" || key.type !== type) {
    throw new CboError("ERR_VALIDATION", `Expected an Ed25519 ${type} key.`);
  }
  return key;
}

/** Runs a WebCrypto import, turning its DOMException into ERR_VALIDATION without the input. */
async function importing(what: string, run: () => Promise<CryptoKey>): Promise<CryptoKey> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof CboError) throw e;
    throw new CboError("ERR_VALIDATION", `Not a valid ${what}.`);
  }
}

/** A new key pair; the private key is extractable by default because it must reach the vault. */
export async function generateEd25519KeyPair(opts: { extractable?: boolean } = {}): Promise<Ed25519KeyPair> {
  const pair = (await crypto.subtle.generateKey(ALG, opts.extractable ?? true, ["sign", "verify"])) as CryptoKeyPair;
  return { privateKey: pair.privateKey, publicKey: pair.publicKey };
}

export async function ed25519Sign(privateKey: CryptoKey, data: string | Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await crypto.subtle.sign(ALG, expectKey(privateKey, "private"), toBytes(data)));
}

/** False for a wrong signature of any length; throws only when `publicKey` is not an Ed25519 public key. */
export async function ed25519Verify(publicKey: CryptoKey, data: string | Uint8Array, signature: Uint8Array): Promise<boolean> {
  expectKey(publicKey, "public");
  if (signature.length !== ED25519_SIGNATURE_BYTES) return false;
  return crypto.subtle.verify(ALG, publicKey, toBytes(signature), toBytes(data));
}

/** The 32-byte public key, base64url without padding (the JWK `x` value). */
export async function exportEd25519PublicKey(publicKey: CryptoKey): Promise<string> {
  return bytesToBase64url(new Uint8Array((await crypto.subtle.exportKey("raw", expectKey(publicKey, "public"))) as ArrayBuffer));
}

export async function importEd25519PublicKey(base64url: string): Promise<CryptoKey> {
  return importing("Ed25519 public key", async () => {
    const raw = base64urlToBytes(base64url);
    if (raw.length !== ED25519_PUBLIC_KEY_BYTES) throw new CboError("ERR_VALIDATION", "An Ed25519 public key is 32 bytes.");
    return crypto.subtle.importKey("raw", raw, ALG, true, ["verify"]);
  });
}

export async function exportEd25519PublicJwk(publicKey: CryptoKey): Promise<Ed25519PublicJwk> {
  return { kty: "OKP", crv: "Ed25519", x: await exportEd25519PublicKey(publicKey) };
}

/** Accepts a public JWK from outside (zod-checked); refuses one that carries the private `d`. */
export async function importEd25519PublicJwk(jwk: unknown): Promise<CryptoKey> {
  if (typeof jwk === "object" && jwk !== null && "d" in jwk) {
    throw new CboError("ERR_VALIDATION", "This JWK holds a private key; pass only the public part.");
  }
  const parsed = Ed25519PublicJwkSchema.safeParse(jwk);
  if (!parsed.success) throw new CboError("ERR_VALIDATION", "Not an Ed25519 public JWK (kty OKP, crv Ed25519, x).");
  return importEd25519PublicKey(parsed.data.x);
}

/** PKCS#8 bytes of an extractable private key: what the vault encrypts and stores. */
export async function exportEd25519PrivateKey(privateKey: CryptoKey): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array((await crypto.subtle.exportKey("pkcs8", expectKey(privateKey, "private"))) as ArrayBuffer);
}

export async function importEd25519PrivateKey(pkcs8: Uint8Array, opts: { extractable?: boolean } = {}): Promise<CryptoKey> {
  return importing("Ed25519 PKCS#8 private key", () =>
    crypto.subtle.importKey("pkcs8", toBytes(pkcs8), ALG, opts.extractable ?? false, ["sign"]),
  );
}

/**
 * Both halves from the stored PKCS#8 alone. WebCrypto cannot derive a public key directly, but a
 * private key's JWK carries the public `x`; the private key handed back is non-extractable.
 */
export async function importEd25519KeyPair(pkcs8: Uint8Array): Promise<Ed25519KeyPair> {
  const extractable = await importEd25519PrivateKey(pkcs8, { extractable: true });
  const jwk = (await crypto.subtle.exportKey("jwk", extractable)) as { x?: string };
  if (typeof jwk.x !== "string") throw new CboError("ERR_VALIDATION", "Not a valid Ed25519 PKCS#8 private key.");
  return { privateKey: await importEd25519PrivateKey(pkcs8), publicKey: await importEd25519PublicKey(jwk.x) };
}

/** RFC 7638 JWK thumbprint (SHA-256, base64url): a stable id for a public key, e.g. a JWK `kid`. */
export async function ed25519KeyId(publicKey: CryptoKey): Promise<string> {
  const x = await exportEd25519PublicKey(publicKey);
  // Members in lexicographic order, no whitespace, as RFC 7638 §3 requires.
  const canonical = `{"crv":"Ed25519","kty":"OKP","x":"${x}"}`;
  return bytesToBase64url(new Uint8Array(await crypto.subtle.digest("SHA-256", toBytes(canonical))));
}
