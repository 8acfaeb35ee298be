import { describe, expect, it } from "vitest";
import { createNonceCache, generateHmacKey, signPayload } from "../signing/index.ts";
import { SIGNATURE_HEADER } from "./bindings.ts";
import { createPokeRequest, verifyPokeRequest } from "./poke.ts";

const T = 1_800_000_000_000;
const expectWho = { worker: "api", target: "eu" };

describe("pokes", () => {
  it("verifies once, then refuses the replay; refuses stale, unsigned, wrong-key and tampered pokes", async () => {
    const key = generateHmacKey();
    const nonceCache = createNonceCache({ now: () => T });
    const req = await createPokeRequest({ ...expectWho, configVersion: 4 }, key, { now: () => T });
    const header = req.headers[SIGNATURE_HEADER];
    const verify = (h: string | undefined, body = req.body, now = T, keys = [key]) =>
      verifyPokeRequest(h, body, keys, { expect: expectWho, nonceCache, now: () => now });
    expect(await verify(header)).toEqual({
      ok: true,
      poke: { ...expectWho, configVersion: 4, nonce: expect.stringMatching(/^[A-Za-z0-9_-]{16}$/) },
    });
    expect(await verify(header)).toEqual({ ok: false, reason: "replayed" });
    expect(await verify(undefined)).toEqual({ ok: false, reason: "malformed_header" });
    expect(await verify(header, req.body, T + 301_000)).toEqual({ ok: false, reason: "timestamp_out_of_tolerance" });
    expect(await verify(header, req.body.replace("4", "5"))).toEqual({ ok: false, reason: "no_matching_signature" });
    expect(await verify(header, req.body, T, [generateHmacKey()])).toEqual({ ok: false, reason: "no_matching_signature" });
  });

  it("accepts the previous key during a rotation", async () => {
    const [oldKey, newKey] = [generateHmacKey(), generateHmacKey()];
    const req = await createPokeRequest({ ...expectWho, configVersion: 1 }, oldKey, { now: () => T });
    const check = await verifyPokeRequest(req.headers[SIGNATURE_HEADER], req.body, [newKey, oldKey], {
      expect: expectWho,
      nonceCache: createNonceCache(),
      now: () => T,
    });
    expect(check.ok).toBe(true);
  });

  it("refuses a signed body that is not a poke for this worker", async () => {
    const key = generateHmacKey();
    const nonceCache = createNonceCache({ now: () => T });
    const signed = async (body: string) =>
      verifyPokeRequest(await signPayload(body, key, { now: () => T }), body, key, { expect: expectWho, nonceCache, now: () => T });
    expect(await signed("{")).toEqual({ ok: false, reason: "malformed_body" });
    expect(await signed(JSON.stringify({ ...expectWho }))).toEqual({ ok: false, reason: "malformed_body" });
    expect(await signed(JSON.stringify({ ...expectWho, configVersion: 1, nonce: "n".repeat(8), extra: 1 }))).toEqual({
      ok: false,
      reason: "malformed_body",
    });
    expect(await signed(JSON.stringify({ worker: "web", target: "eu", configVersion: 1, nonce: "n".repeat(8) }))).toEqual({
      ok: false,
      reason: "wrong_worker",
    });
  });

  it("makes two pokes of one version in the same second distinct (the nonce), so neither is taken for a replay", async () => {
    const key = generateHmacKey();
    const nonceCache = createNonceCache({ now: () => T });
    for (let i = 0; i < 2; i++) {
      const req = await createPokeRequest({ ...expectWho, configVersion: 9 }, key, { now: () => T });
      expect(
        (await verifyPokeRequest(req.headers[SIGNATURE_HEADER], req.body, key, { expect: expectWho, nonceCache, now: () => T })).ok,
      ).toBe(true);
    }
  });
});
