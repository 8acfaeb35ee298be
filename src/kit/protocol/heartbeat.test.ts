import { describe, expect, it } from "vitest";
import { createNonceCache, generateHmacKey, signPayload } from "../signing/index.ts";
import { SIGNATURE_HEADER } from "./bindings.ts";
import { createHeartbeatRequest, verifyHeartbeatRequest, type Heartbeat } from "./heartbeat.ts";

const T = 1_800_000_000_000;
const beat: Heartbeat = {
  worker: "api",
  target: "eu",
  versionId: "0b6f1c9e-0000-4000-8000-000000000001",
  configVersion: 3,
  isolate: "iso-1",
  sentAt: new Date(T).toISOString(),
  uptimeMs: 1234,
  totals: { requests: 10, errors: 1 },
  window: { sinceMs: T - 30_000, requests: 4, errors: 1 },
  rejections: [
    { reason: "bad_signature", version: 4, at: new Date(T - 1000).toISOString() },
    { reason: "malformed", at: new Date(T - 500).toISOString() },
  ],
};

describe("heartbeats", () => {
  it("round-trips through sign and verify with the sender's key; refuses replay, other keys, unknown workers", async () => {
    const key = generateHmacKey();
    const nonceCache = createNonceCache({ now: () => T });
    const req = await createHeartbeatRequest(beat, key, { now: () => T });
    const header = req.headers[SIGNATURE_HEADER];
    const keysFor = (who: { worker: string; target: string }) => (who.worker === "api" && who.target === "eu" ? [key] : undefined);
    const verify = (h = header, body = req.body, keys = keysFor) => verifyHeartbeatRequest(h, body, keys, { nonceCache, now: () => T });
    expect(await verify()).toEqual({ ok: true, heartbeat: beat, keyIndex: 0 });
    expect(await verify()).toEqual({ ok: false, reason: "replayed" });
    expect(await verify(header, req.body, () => [generateHmacKey()])).toEqual({ ok: false, reason: "no_matching_signature" });
    expect(await verify(header, req.body, () => undefined)).toEqual({ ok: false, reason: "unknown_worker" });
    expect(await verify(header, req.body.replace('"errors":1', '"errors":0'))).toEqual({ ok: false, reason: "no_matching_signature" });
  });

  it("refuses bodies that are not heartbeats before looking up any key", async () => {
    const key = generateHmacKey();
    let lookups = 0;
    const keysFor = () => (lookups++, [key]);
    for (const body of [
      "{",
      JSON.stringify({ ...beat, extra: 1 }),
      JSON.stringify({ ...beat, totals: { requests: -1, errors: 0 } }),
      JSON.stringify({ ...beat, rejections: [{ reason: "nope", at: beat.sentAt }] }),
      "x".repeat(17 * 1024),
    ]) {
      const header = await signPayload(body, key, { now: () => T });
      expect(await verifyHeartbeatRequest(header, body, keysFor, { now: () => T })).toEqual({ ok: false, reason: "malformed_body" });
    }
    expect(lookups).toBe(0);
  });

  it("will not build a heartbeat that breaks its own schema", async () => {
    await expect(createHeartbeatRequest({ ...beat, configVersion: 0 }, generateHmacKey())).rejects.toThrow();
  });
});
