import { describe, expect, it } from "vitest";
import { bytesToBase64, bytesToBase64url, bytesToHex, concatBytes, hexToBytes } from "./encoding.ts";
import {
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
import { generateHmacKey, importHmacKey } from "./hmac.ts";

// RFC 8032 §7.1 TEST 1 (empty message) and RFC 8037 Appendix A.3 (its JWK thumbprint).
const RFC_SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const RFC_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
const RFC_SIG =
  "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";
const RFC_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";
// PKCS#8 wrapping of a bare Ed25519 seed (RFC 8410 §7): fixed 16-byte prefix, then the seed.
const rfcPkcs8 = () => concatBytes(hexToBytes("302e020100300506032b657004220420"), hexToBytes(RFC_SEED));

describe("Ed25519", () => {
  it("matches the RFC 8032 vector and the RFC 8037 thumbprint", async () => {
    const pair = await importEd25519KeyPair(rfcPkcs8());
    expect(await exportEd25519PublicKey(pair.publicKey)).toBe(bytesToBase64url(hexToBytes(RFC_PUBLIC)));
    expect(bytesToHex(await ed25519Sign(pair.privateKey, new Uint8Array(0)))).toBe(RFC_SIG);
    expect(await ed25519Verify(pair.publicKey, "", hexToBytes(RFC_SIG))).toBe(true);
    expect(await ed25519KeyId(pair.publicKey)).toBe(RFC_THUMBPRINT);
    expect(pair.privateKey.extractable).toBe(false);
  });

  it("signs and verifies; tampered data, a flipped bit, a wrong length or a wrong key fail", async () => {
    const a = await generateEd25519KeyPair();
    const b = await generateEd25519KeyPair();
    const sig = await ed25519Sign(a.privateKey, "checkpoint 42");
    expect(sig.length).toBe(64);
    expect(await ed25519Verify(a.publicKey, "checkpoint 42", sig)).toBe(true);
    expect(await ed25519Verify(a.publicKey, "checkpoint 43", sig)).toBe(false);
    expect(await ed25519Verify(b.publicKey, "checkpoint 42", sig)).toBe(false);
    for (const i of [0, 31, 32, 63]) {
      const bad = sig.slice();
      bad[i]! ^= 1;
      expect(await ed25519Verify(a.publicKey, "checkpoint 42", bad)).toBe(false);
    }
    expect(await ed25519Verify(a.publicKey, "checkpoint 42", sig.slice(0, 63))).toBe(false);
    expect(await ed25519Verify(a.publicKey, "checkpoint 42", new Uint8Array(0))).toBe(false);
  });

  it("round-trips the public key as raw base64url and as JWK", async () => {
    const pair = await generateEd25519KeyPair();
    const sig = await ed25519Sign(pair.privateKey, "bundle");
    const raw = await exportEd25519PublicKey(pair.publicKey);
    expect(raw).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await ed25519Verify(await importEd25519PublicKey(raw), "bundle", sig)).toBe(true);
    const jwk = await exportEd25519PublicJwk(pair.publicKey);
    expect(jwk).toEqual({ kty: "OKP", crv: "Ed25519", x: raw });
    const fromJwk = await importEd25519PublicJwk(JSON.parse(JSON.stringify({ ...jwk, kid: "k1", use: "sig" })));
    expect(await ed25519Verify(fromJwk, "bundle", sig)).toBe(true);
  });

  it("round-trips the private key as PKCS#8 for the vault", async () => {
    const pair = await generateEd25519KeyPair();
    const pkcs8 = await exportEd25519PrivateKey(pair.privateKey);
    const imported = await importEd25519PrivateKey(pkcs8);
    expect(imported.extractable).toBe(false);
    expect(await ed25519Verify(pair.publicKey, "x", await ed25519Sign(imported, "x"))).toBe(true);
    const restored = await importEd25519KeyPair(pkcs8);
    expect(await exportEd25519PublicKey(restored.publicKey)).toBe(await exportEd25519PublicKey(pair.publicKey));
    expect(await ed25519KeyId(restored.publicKey)).toBe(await ed25519KeyId(pair.publicKey));
  });

  it("refuses bad key input with ERR_VALIDATION and never echoes it", async () => {
    const pair = await generateEd25519KeyPair();
    const pkcs8 = await exportEd25519PrivateKey(pair.privateKey);
    const privateJwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
    const planted = [bytesToHex(pkcs8), bytesToBase64(pkcs8), bytesToBase64url(pkcs8.slice(16)), String((privateJwk as { d?: string }).d)];
    const attempts: Promise<unknown>[] = [
      importEd25519PublicKey("AAAA"),
      importEd25519PublicKey("not base64url!"),
      importEd25519PublicKey(bytesToBase64url(pkcs8.slice(16))), // a 32-byte secret passes length, still a point
      importEd25519PublicJwk(privateJwk),
      importEd25519PublicJwk({ kty: "OKP", crv: "X25519", x: "AAAA" }),
      importEd25519PublicJwk("nope"),
      importEd25519PrivateKey(pkcs8.slice(0, 40)),
      importEd25519KeyPair(pkcs8.slice(1)),
      ed25519Sign(pair.publicKey, "x"),
      ed25519Verify(pair.privateKey, "x", new Uint8Array(64)),
      ed25519Sign(await importHmacKey(generateHmacKey()), "x"),
    ];
    const messages: string[] = [];
    for (const attempt of attempts) {
      try {
        const key = await attempt;
        // Some 32-byte strings are valid points; then it is simply another public key.
        expect(key).toMatchObject({ type: "public" });
      } catch (e) {
        expect(e).toMatchObject({ code: "ERR_VALIDATION" });
        messages.push((e as Error).message, JSON.stringify(e));
      }
    }
    expect(messages.length).toBeGreaterThanOrEqual(20);
    for (const m of messages) for (const secret of planted) expect(m).not.toContain(secret);
  });
});
