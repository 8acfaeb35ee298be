// The Idempotency-Key states over a real SQLite store (migration 007): first run, replay of a
// success, a failure freeing the key, mismatch, in flight in this run, interrupted by a restart,
// a withheld answer, and expiry after 24 h.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { CboError } from "../kit/errors.ts";
import { createStore } from "../store/index.ts";
import { createIdempotency, IDEMPOTENCY_TTL_MS } from "./idempotency.ts";

const hash = (m: string) => createHash("sha256").update(`k:${m}`).digest("hex");
const req = (over: Partial<{ key: string; body: string; path: string; principal: string; query: string }> = {}) => ({
  principal: "tok1",
  method: "POST",
  path: "/v1/releases",
  key: "k-1",
  query: "",
  body: '{"worker":"hello"}',
  ...over,
});
const codeOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as CboError).code;
  }
  return "no error";
};

describe("idempotency keys", () => {
  it("runs the first request once and replays its answer; another request under the key is a mismatch", () => {
    const store = createStore(":memory:");
    const idem = createIdempotency({ store, hash });
    const first = idem.claim(req());
    expect(first.kind).toBe("run");
    // While it runs, the same request waits; another body under the key is refused.
    expect(codeOf(() => idem.claim(req()))).toBe("ERR_IDEMPOTENCY_IN_FLIGHT");
    expect(codeOf(() => idem.claim(req({ body: '{"worker":"other"}' })))).toBe("ERR_IDEMPOTENCY_MISMATCH");
    idem.settle((first as { id: string }).id, {
      ok: true,
      status: 202,
      contentType: "application/json",
      body: '{"id":"r1"}',
      withhold: false,
    });
    expect(idem.claim(req())).toEqual({ kind: "replay", status: 202, contentType: "application/json", body: '{"id":"r1"}' });
    expect(codeOf(() => idem.claim(req({ query: "?cas=2" })))).toBe("ERR_IDEMPOTENCY_MISMATCH");
    // The key is per principal and per path: the same key elsewhere is a new request.
    expect(idem.claim(req({ principal: "tok2" })).kind).toBe("run");
    expect(idem.claim(req({ path: "/v1/workers/hello/rollback" })).kind).toBe("run");
    store.close();
  });

  it("frees the key of a failed request, refuses an interrupted one, withholds secret answers, and forgets after 24 h", () => {
    const store = createStore(":memory:");
    let now = 1_000_000;
    const idem = createIdempotency({ store, hash, now: () => now });
    const failed = idem.claim(req({ key: "fails" })) as { id: string };
    idem.settle(failed.id, { ok: false });
    expect(idem.claim(req({ key: "fails" })).kind).toBe("run");

    // A daemon restart: the new run does not know whether the old one's request took effect.
    idem.claim(req({ key: "interrupted" }));
    const restarted = createIdempotency({ store, hash, now: () => now });
    expect(codeOf(() => restarted.claim(req({ key: "interrupted" })))).toBe("ERR_CONFLICT");

    const token = idem.claim(req({ key: "tok", path: "/v1/tokens" })) as { id: string };
    idem.settle(token.id, { ok: true, status: 200, contentType: "application/json", body: '{"token":"cbo_admin_SECRET"}', withhold: true });
    expect(codeOf(() => idem.claim(req({ key: "tok", path: "/v1/tokens" })))).toBe("ERR_CONFLICT");
    const stored = store.db.prepare("SELECT * FROM idempotency_keys").all();
    expect(JSON.stringify(stored)).not.toContain("SECRET");
    // Neither the key as given nor the body is kept: an id and a keyed hash.
    expect(JSON.stringify(stored)).not.toContain('"k-1"');
    expect(JSON.stringify(stored)).not.toContain("worker");

    const done = idem.claim(req({ key: "old" })) as { id: string };
    idem.settle(done.id, { ok: true, status: 202, contentType: "application/json", body: "{}", withhold: false });
    now += IDEMPOTENCY_TTL_MS + 61_000;
    expect(idem.claim(req({ key: "old", body: "{}" })).kind).toBe("run");
    // Pruned: only the rows claimed just now are left.
    expect(store.idempotency.count()).toBe(1);
    store.close();
  });

  it("refuses a malformed key", () => {
    const store = createStore(":memory:");
    const idem = createIdempotency({ store, hash });
    expect(idem.keyOf(undefined)).toBeUndefined();
    expect(idem.keyOf("abc-123")).toBe("abc-123");
    expect(codeOf(() => idem.keyOf(""))).toBe("ERR_VALIDATION");
    expect(codeOf(() => idem.keyOf("has space"))).toBe("ERR_VALIDATION");
    expect(codeOf(() => idem.keyOf("x".repeat(256)))).toBe("ERR_VALIDATION");
    store.close();
  });
});
