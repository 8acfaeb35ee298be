import { describe, expect, it } from "vitest";
import {
  base64urlToBytes,
  bytesToBase64url,
  exportEd25519PublicKey,
  generateEd25519KeyPair,
  importEd25519PrivateKey,
  exportEd25519PrivateKey,
  utf8Decode,
} from "../signing/index.ts";
import { ConfigBundleSchema, ed25519KeyIdOf, signConfigBundle, verifyConfigBundle } from "./config-bundle.ts";

const WHO = { worker: "api", target: "eu" };
const ISSUED = "2026-01-02T03:04:05.000Z";

async function setup() {
  const pair = await generateEd25519KeyPair();
  const sign = (over: Record<string, unknown> = {}) =>
    signConfigBundle(
      { ...WHO, version: 2, issuedAt: ISSUED, config: { b: 1, a: { z: "é", y: [1, 2] } }, ...over } as never,
      pair.privateKey,
    );
  return { pair, sign, raw: async (over: Record<string, unknown> = {}) => JSON.stringify(await sign(over)) };
}

describe("config bundles", () => {
  it("signs canonical JSON bytes that verify and parse back to the payload", async () => {
    const { pair, sign } = await setup();
    const bundle = await sign();
    expect(ConfigBundleSchema.parse(bundle)).toEqual(bundle);
    const text = utf8Decode(base64urlToBytes(bundle.payload));
    // Sorted members, no whitespace: the exact bytes another implementation rebuilds.
    expect(text).toBe(
      `{"config":{"a":{"y":[1,2],"z":"é"},"b":1},"format":"cbo-config/1","issuedAt":"${ISSUED}","rollback":false,"target":"eu","version":2,"worker":"api"}`,
    );
    const keyId = await ed25519KeyIdOf(base64urlToBytes(await exportEd25519PublicKey(pair.publicKey)));
    expect(bundle.keyId).toBe(keyId);
    expect(keyId).toMatch(/^ed25519:[0-9a-f]{16}$/);
    const v = await verifyConfigBundle(JSON.stringify(bundle), pair.publicKey, WHO);
    expect(v).toEqual({
      ok: true,
      payload: {
        format: "cbo-config/1",
        ...WHO,
        version: 2,
        rollback: false,
        issuedAt: ISSUED,
        config: { b: 1, a: { z: "é", y: [1, 2] } },
      },
    });
  });

  it("needs an explicit keyId with a non-extractable key, and refuses an invalid payload", async () => {
    const pair = await generateEd25519KeyPair();
    const sealed = await importEd25519PrivateKey(await exportEd25519PrivateKey(pair.privateKey));
    const input = { ...WHO, version: 1, config: {} };
    await expect(signConfigBundle(input, sealed)).rejects.toMatchObject({ code: "ERR_VALIDATION" });
    expect((await signConfigBundle(input, sealed, { keyId: "ed25519:k" })).keyId).toBe("ed25519:k");
    await expect(signConfigBundle({ ...input, version: 0 }, pair.privateKey)).rejects.toMatchObject({ code: "ERR_VALIDATION" });
    await expect(signConfigBundle({ ...input, worker: "Not_A_Name" }, pair.privateKey)).rejects.toMatchObject({ code: "ERR_VALIDATION" });
    await expect(signConfigBundle({ ...input, config: { n: Number.NaN } }, pair.privateKey)).rejects.toMatchObject({
      code: "ERR_VALIDATION",
    });
  });

  it("refuses a wrong key, a flipped payload bit, a swapped signature", async () => {
    const { pair, sign } = await setup();
    const other = await generateEd25519KeyPair();
    const bundle = await sign();
    expect(await verifyConfigBundle(JSON.stringify(bundle), other.publicKey, WHO)).toEqual({
      ok: false,
      reason: "bad_signature",
      version: 2,
    });
    const bytes = base64urlToBytes(bundle.payload);
    bytes[bytes.length - 3]! ^= 1;
    const flipped = { ...bundle, payload: bytesToBase64url(bytes) };
    expect(await verifyConfigBundle(JSON.stringify(flipped), pair.publicKey, WHO)).toMatchObject({ ok: false, reason: "bad_signature" });
    const v9 = await sign({ version: 9 });
    const swapped = { ...v9, signature: bundle.signature };
    expect(await verifyConfigBundle(JSON.stringify(swapped), pair.publicKey, WHO)).toEqual({
      ok: false,
      reason: "bad_signature",
      version: 9,
    });
  });

  it("calls garbage malformed", async () => {
    const { pair, sign } = await setup();
    const good = await sign();
    const cases = [
      "",
      "not json",
      "null",
      "[]",
      JSON.stringify({ payload: good.payload, signature: good.signature }),
      JSON.stringify({ ...good, extra: 1 }),
      JSON.stringify({ ...good, payload: "a=" }),
      JSON.stringify({ ...good, signature: "!!" }),
      JSON.stringify({ ...good, payload: "x".repeat(1024 * 1024 + 1) }),
    ];
    for (const raw of cases)
      expect(await verifyConfigBundle(raw, pair.publicKey, WHO), raw.slice(0, 40)).toEqual({ ok: false, reason: "malformed" });
  });

  it("calls a validly signed non-payload malformed, and another worker's bundle wrong_worker", async () => {
    const { pair, sign } = await setup();
    const { ed25519Sign } = await import("../signing/index.ts");
    const bytes = new TextEncoder().encode(JSON.stringify({ format: "cbo-config/2", version: 3 }));
    const signed = { payload: bytesToBase64url(bytes), signature: bytesToBase64url(await ed25519Sign(pair.privateKey, bytes)), keyId: "k" };
    expect(await verifyConfigBundle(JSON.stringify(signed), pair.publicKey, WHO)).toEqual({ ok: false, reason: "malformed" });
    expect(await verifyConfigBundle(JSON.stringify(await sign({ worker: "web" })), pair.publicKey, WHO)).toEqual({
      ok: false,
      reason: "wrong_worker",
      version: 2,
    });
    expect(await verifyConfigBundle(JSON.stringify(await sign({ target: "us" })), pair.publicKey, WHO)).toEqual({
      ok: false,
      reason: "wrong_worker",
      version: 2,
    });
  });
});
