import { describe, expect, it } from "vitest";
import { CboError } from "../errors.ts";
import { bytesToBase64, bytesToHex, toBytes } from "./encoding.ts";
import { generateHmacKey, importHmacKey, signPayload, signatureFailureError, verifySignature } from "./hmac.ts";
import { createNonceCache } from "./nonce-cache.ts";
import { generateEd25519KeyPair } from "./ed25519.ts";

const T = 1_700_000_000;
const at = (sec: number) => () => sec * 1000;
const BODY = '{"hello":"world"}';
const fixedKey = () => Uint8Array.from({ length: 32 }, (_, i) => i);

describe("signPayload", () => {
  it("writes t=<unix>,v1=<hex of HMAC-SHA256 over '<t>.<body>'> (known answer from node:crypto)", async () => {
    // createHmac("sha256", bytes 0..31).update('1700000000.{"hello":"world"}').digest("hex")
    const expected = "bfc10356abf3009a3601dc94c8a529c5faef3c467fca687387d6ff311adeb525";
    expect(await signPayload(BODY, fixedKey(), { timestamp: T })).toBe(`t=${T},v1=${expected}`);
    expect(await signPayload(toBytes(BODY), await importHmacKey(fixedKey()), { timestamp: T })).toBe(`t=${T},v1=${expected}`);
  });

  it("stamps the current time from the injected clock, and one v1 per key", async () => {
    const header = await signPayload("x", [generateHmacKey(), generateHmacKey()], { now: () => T * 1000 + 999 });
    expect(header).toMatch(new RegExp(`^t=${T},v1=[0-9a-f]{64},v1=[0-9a-f]{64}$`));
  });

  it("refuses timestamps the parser would refuse and key lists it cannot send", async () => {
    for (const timestamp of [-1, 1.5, Number.NaN, 1e12]) {
      await expect(signPayload("x", generateHmacKey(), { timestamp })).rejects.toMatchObject({ code: "ERR_VALIDATION" });
    }
    await expect(signPayload("x", [])).rejects.toMatchObject({ code: "ERR_VALIDATION" });
    await expect(signPayload("x", Array.from({ length: 5 }, generateHmacKey))).rejects.toMatchObject({ code: "ERR_VALIDATION" });
  });
});

describe("verifySignature", () => {
  it("round-trips string and byte bodies, raw and CryptoKey keys", async () => {
    const raw = generateHmacKey();
    const ck = await importHmacKey(raw);
    for (const body of [BODY, toBytes(BODY), "", new Uint8Array([0, 255, 1])]) {
      const header = await signPayload(body, raw, { timestamp: T });
      expect(await verifySignature(header, body, ck, { now: at(T) })).toEqual({ ok: true, timestamp: T, keyIndex: 0, keyId: undefined });
      expect((await verifySignature(header, body, raw, { now: at(T) })).ok).toBe(true);
    }
  });

  it("rejects a tampered body, timestamp or signature", async () => {
    const key = generateHmacKey();
    const header = await signPayload(BODY, key, { timestamp: T });
    const check = (h: string, body = BODY) => verifySignature(h, body, key, { now: at(T) });
    expect(await check(header, BODY.replace("world", "World"))).toEqual({ ok: false, reason: "no_matching_signature" });
    expect(await check(header, BODY + " ")).toEqual({ ok: false, reason: "no_matching_signature" });
    expect(await check(header, BODY.slice(0, -1))).toEqual({ ok: false, reason: "no_matching_signature" });
    expect(await check(header.replace(`t=${T}`, `t=${T + 1}`))).toEqual({ ok: false, reason: "no_matching_signature" });
    const hex = header.slice(-64);
    for (let i = 0; i < 64; i++) {
      const flipped = hex.slice(0, i) + (hex[i] === "0" ? "1" : "0") + hex.slice(i + 1);
      expect(await check(`t=${T},v1=${flipped}`)).toEqual({ ok: false, reason: "no_matching_signature" });
    }
  });

  it("accepts exactly the tolerance either way and refuses one second more", async () => {
    const key = generateHmacKey();
    const header = await signPayload(BODY, key, { timestamp: T });
    const at2 = (ms: number) => verifySignature(header, BODY, key, { now: () => ms });
    expect((await at2((T + 300) * 1000)).ok).toBe(true);
    expect((await at2((T + 300) * 1000 + 999)).ok).toBe(true); // 300.999 s is still second 300
    expect(await at2((T + 301) * 1000)).toEqual({ ok: false, reason: "timestamp_out_of_tolerance" });
    expect((await at2((T - 300) * 1000)).ok).toBe(true); // stamped 300 s in our future: clock skew
    expect(await at2((T - 301) * 1000)).toEqual({ ok: false, reason: "timestamp_out_of_tolerance" });
    expect((await verifySignature(header, BODY, key, { now: at(T + 10), toleranceSec: 10 })).ok).toBe(true);
    expect((await verifySignature(header, BODY, key, { now: at(T + 11), toleranceSec: 10 })).ok).toBe(false);
  });

  it("during a rotation both keys verify and a third does not; after it only the new one", async () => {
    const [oldK, newK, other] = [generateHmacKey(), generateHmacKey(), generateHmacKey()];
    const during = [
      { id: "new", key: newK },
      { id: "old", key: await importHmacKey(oldK) },
    ];
    const byOld = await signPayload(BODY, oldK, { timestamp: T });
    const byNew = await signPayload(BODY, newK, { timestamp: T });
    const byOther = await signPayload(BODY, other, { timestamp: T });
    expect(await verifySignature(byOld, BODY, during, { now: at(T) })).toMatchObject({ ok: true, keyIndex: 1, keyId: "old" });
    expect(await verifySignature(byNew, BODY, during, { now: at(T) })).toMatchObject({ ok: true, keyIndex: 0, keyId: "new" });
    expect(await verifySignature(byOther, BODY, during, { now: at(T) })).toEqual({ ok: false, reason: "no_matching_signature" });
    expect(await verifySignature(byOld, BODY, [newK], { now: at(T) })).toEqual({ ok: false, reason: "no_matching_signature" });
    expect((await verifySignature(byNew, BODY, [newK], { now: at(T) })).ok).toBe(true);
  });

  it("passes when any one of several v1 entries is valid, in any position", async () => {
    const [a, b] = [generateHmacKey(), generateHmacKey()];
    const both = await signPayload(BODY, [a, b], { timestamp: T });
    expect(await verifySignature(both, BODY, b, { now: at(T) })).toMatchObject({ ok: true });
    const junk = "ab".repeat(32);
    const good = both.split(",")[2]!;
    expect((await verifySignature(`t=${T},v1=${junk},${good}`, BODY, b, { now: at(T) })).ok).toBe(true);
    expect((await verifySignature(`t=${T},v1=${junk},v1=${junk}`, BODY, b, { now: at(T) })).ok).toBe(false);
  });

  it("gives malformed_header for anything outside the grammar, and never throws", async () => {
    const key = generateHmacKey();
    const valid = await signPayload(BODY, key, { timestamp: T });
    const sig = valid.split(",")[1]!;
    const bad: unknown[] = [
      "",
      null,
      undefined,
      42,
      {},
      "t=abc,v1=zz",
      `t=${T}`,
      `t=${T},`,
      `t=${T},t=${T},${sig}`,
      `${sig},t=${T}`,
      `t=${T},${sig},t=${T}`,
      `t=${T},${sig.toUpperCase()}`.replace("V1", "v1"),
      `t=${T},${sig.slice(0, -1)}`,
      `t=${T},${sig}0`,
      `t= ${T},${sig}`,
      `t=${T}, ${sig}`,
      `t=0${T},${sig}`,
      `t=+${T},${sig}`,
      `t=${T}.0,${sig}`,
      `t=-1,${sig}`,
      `t=${T},v0=${sig.slice(3)}`,
      `t=${T},v1=`,
      `T=${T},${sig}`,
      `t=${T},${sig},${sig},${sig},${sig},${sig}`,
      `t=${T},${sig};`,
      `t=${T},v1=${"g".repeat(64)}`,
      "x".repeat(10_000),
      `t=${"9".repeat(13)},${sig}`,
    ];
    for (const header of bad) {
      expect(await verifySignature(header as string, BODY, key, { now: at(T) }), String(header)).toEqual({
        ok: false,
        reason: "malformed_header",
      });
    }
    // Random single-character damage anywhere never throws and never verifies.
    const chars = "t=v1,0123456789abcdefABCDEF \u00e9";
    for (let i = 0; i < 500; i++) {
      const pos = i % valid.length;
      const mutated = valid.slice(0, pos) + chars[(i * 7) % chars.length] + valid.slice(pos + (i % 3 === 0 ? 0 : 1));
      if (mutated === valid) continue;
      const r = await verifySignature(mutated, BODY, key, { now: at(T) });
      expect(r.ok, mutated).toBe(false);
    }
  });

  it("throws ERR_VALIDATION for a key list that is a configuration bug", async () => {
    const bad = [
      [],
      [new Uint8Array(31)],
      [await crypto.subtle.importKey("raw", new Uint8Array(32), { name: "HMAC", hash: "SHA-1" }, false, ["verify"])],
      [await crypto.subtle.importKey("raw", new Uint8Array(32), { name: "HMAC", hash: "SHA-256" }, false, ["sign"])],
      [(await generateEd25519KeyPair()).publicKey],
    ];
    for (const keys of bad) {
      await expect(verifySignature("", BODY, keys as never, { now: at(T) })).rejects.toBeInstanceOf(CboError);
    }
    await expect(verifySignature("", BODY, generateHmacKey(), { toleranceSec: -1 })).rejects.toMatchObject({ code: "ERR_VALIDATION" });
  });

  it("imports non-extractable keys by default", async () => {
    const ck = await importHmacKey(generateHmacKey());
    expect(ck.extractable).toBe(false);
    await expect(crypto.subtle.exportKey("raw", ck)).rejects.toThrow();
  });
});

describe("replay protection", () => {
  it("rejects a replay while its timestamp is inside the window; after that tolerance rejects it", async () => {
    const key = generateHmacKey();
    let nowMs = T * 1000;
    const nonceCache = createNonceCache({ now: () => nowMs });
    const header = await signPayload(BODY, key, { timestamp: T });
    const check = (h = header, body = BODY) => verifySignature(h, body, key, { now: () => nowMs, nonceCache });
    expect((await check()).ok).toBe(true);
    expect(await check()).toEqual({ ok: false, reason: "replayed" });
    nowMs = (T + 300) * 1000 + 999;
    expect(await check()).toEqual({ ok: false, reason: "replayed" });
    nowMs = (T + 301) * 1000;
    expect(await check()).toEqual({ ok: false, reason: "timestamp_out_of_tolerance" });
    expect(nonceCache.size).toBe(0);
  });

  it("remembers a future-stamped message until its own window ends, not insertion + window", async () => {
    const key = generateHmacKey();
    let nowMs = T * 1000;
    const nonceCache = createNonceCache({ now: () => nowMs });
    const header = await signPayload(BODY, key, { timestamp: T + 300 });
    const check = () => verifySignature(header, BODY, key, { now: () => nowMs, nonceCache });
    expect((await check()).ok).toBe(true);
    nowMs = (T + 550) * 1000;
    expect(await check()).toEqual({ ok: false, reason: "replayed" });
  });

  it("catches a replay that drops one of two rotation signatures or reorders them", async () => {
    const [oldK, newK] = [generateHmacKey(), generateHmacKey()];
    const nonceCache = createNonceCache({ now: at(T) });
    const header = await signPayload(BODY, [oldK, newK], { timestamp: T });
    const [t, v1a, v1b] = header.split(",");
    const verify = (h: string) => verifySignature(h, BODY, [newK, oldK], { now: at(T), nonceCache });
    expect((await verify(header)).ok).toBe(true);
    for (const replay of [`${t},${v1a}`, `${t},${v1b}`, `${t},${v1b},${v1a}`]) {
      expect(await verify(replay)).toEqual({ ok: false, reason: "replayed" });
    }
  });

  it("only authentic messages enter the cache; distinct messages and scopes stay distinct", async () => {
    const key = generateHmacKey();
    const nonceCache = createNonceCache({ now: at(T) });
    const header = await signPayload(BODY, key, { timestamp: T });
    const verify = (h: string, body: string, replayScope?: string) =>
      verifySignature(h, body, key, { now: at(T), nonceCache, ...(replayScope ? { replayScope } : {}) });
    expect((await verify(header, "tampered")).ok).toBe(false);
    expect(nonceCache.size).toBe(0);
    expect((await verify(header, BODY)).ok).toBe(true);
    expect((await verify(await signPayload("other", key, { timestamp: T }), "other")).ok).toBe(true);
    expect((await verify(await signPayload(BODY, key, { timestamp: T - 1 }), BODY)).ok).toBe(true);
    expect((await verify(header, BODY, "worker-b")).ok).toBe(true);
    expect(await verify(header, BODY, "worker-b")).toEqual({ ok: false, reason: "replayed" });
  });

  it("refuses (fails closed) when the cache is full of live entries", async () => {
    const key = generateHmacKey();
    const nonceCache = createNonceCache({ maxEntries: 2, now: at(T) });
    const verify = async (body: string) =>
      verifySignature(await signPayload(body, key, { timestamp: T }), body, key, { now: at(T), nonceCache });
    expect((await verify("a")).ok).toBe(true);
    expect((await verify("b")).ok).toBe(true);
    expect(await verify("c")).toEqual({ ok: false, reason: "replay_cache_full" });
    expect(nonceCache.size).toBe(2);
  });
});

describe("secrets stay out of results and errors", () => {
  it("no key bytes in any result, thrown message or API error body", async () => {
    const key = generateHmacKey();
    const planted = [bytesToHex(key), bytesToBase64(key)];
    const header = await signPayload(BODY, key, { timestamp: T });
    const seen: string[] = [];
    for (const h of [header, "", `t=${T},v1=${"0".repeat(64)}`]) {
      for (const now of [at(T), at(T + 1000)]) seen.push(JSON.stringify(await verifySignature(h, BODY, key, { now })));
    }
    for (const reason of [
      "malformed_header",
      "timestamp_out_of_tolerance",
      "no_matching_signature",
      "replayed",
      "replay_cache_full",
    ] as const) {
      const e = signatureFailureError(reason);
      expect(e.code).toBe("ERR_UNAUTHORIZED");
      expect(e.toJSON().error.details).toEqual({ reason });
      seen.push(JSON.stringify(e.toJSON()), e.message, e.hint ?? "");
    }
    const short = key.slice(0, 31);
    const shortPlanted = [bytesToHex(short), bytesToBase64(short)];
    await verifySignature(header, BODY, short).catch((e: Error) => seen.push(e.message, JSON.stringify(e)));
    expect(seen.length).toBeGreaterThan(12);
    for (const text of seen) for (const secret of [...planted, ...shortPlanted]) expect(text).not.toContain(secret);
  });
});
