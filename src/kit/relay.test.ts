import { describe, expect, it } from "vitest";
import { createRelayRequest, openRelayResponse, RelayRequestSchema, sealRelayResponse, SIGNATURE_HEADER } from "./relay.ts";
import { generateHmacKey, verifySignature } from "./signing/index.ts";

const party = { worker: "api", target: "eu" };
const value = new TextEncoder().encode("s3cret-value-42");

describe("relay protocol", () => {
  it("a request is signed over its exact body and carries a fresh nonce", async () => {
    const key = generateHmacKey();
    const a = await createRelayRequest({ ...party, secret: "DB_URL", version: 2 }, key);
    const b = await createRelayRequest({ ...party, secret: "DB_URL", version: 2 }, key);
    expect(RelayRequestSchema.parse(JSON.parse(a.body))).toMatchObject({ ...party, secret: "DB_URL", version: 2 });
    expect(JSON.parse(a.body).nonce).not.toBe(JSON.parse(b.body).nonce);
    expect(await verifySignature(a.headers[SIGNATURE_HEADER], a.body, key)).toMatchObject({ ok: true });
    expect(await verifySignature(a.headers[SIGNATURE_HEADER], b.body, key)).toEqual({ ok: false, reason: "no_matching_signature" });
  });

  it("refuses a malformed request before signing", async () => {
    await expect(createRelayRequest({ worker: "API!", target: "eu", secret: "X" }, generateHmacKey())).rejects.toMatchObject({
      code: "ERR_VALIDATION",
    });
  });

  it("seals to the Worker's key; opens only for the same key, party, secret and before expiry", async () => {
    const key = generateHmacKey();
    const expiresAt = Date.now() + 60_000;
    const sealed = await sealRelayResponse(value, { secret: "DB_URL", version: 3, expiresAt }, party, key);
    expect(JSON.stringify(sealed)).not.toContain("s3cret");
    expect(await openRelayResponse(sealed, { ...party, secret: "DB_URL" }, key)).toEqual({
      value: "s3cret-value-42",
      version: 3,
      expiresAt,
    });

    const fail = (p: Promise<unknown>) => expect(p).rejects.toMatchObject({ code: "ERR_UNAUTHORIZED" });
    await fail(openRelayResponse(sealed, { ...party, secret: "DB_URL" }, generateHmacKey()));
    await fail(openRelayResponse(sealed, { worker: "api", target: "us", secret: "DB_URL" }, key));
    await fail(openRelayResponse(sealed, { ...party, secret: "OTHER" }, key));
    await fail(openRelayResponse(sealed, { ...party, secret: "DB_URL" }, key, expiresAt + 1));
    // Fields bound as associated data cannot be edited: a longer expiry or another version fails.
    await fail(openRelayResponse({ ...sealed, expiresAt: expiresAt + 3_600_000 }, { ...party, secret: "DB_URL" }, key));
    await fail(openRelayResponse({ ...sealed, version: 2 }, { ...party, secret: "DB_URL" }, key));
    const flipped = sealed.ciphertext.slice(0, -2) + (sealed.ciphertext.endsWith("AA") ? "BA" : "AA");
    await fail(openRelayResponse({ ...sealed, ciphertext: flipped }, { ...party, secret: "DB_URL" }, key));
    await fail(openRelayResponse({ nope: 1 }, { ...party, secret: "DB_URL" }, key));
  });
});
