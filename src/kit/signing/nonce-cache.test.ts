import { describe, expect, it } from "vitest";
import { createNonceCache } from "./nonce-cache.ts";

describe("createNonceCache", () => {
  it("reports a key as seen until its expiry, then forgets it", () => {
    let now = 10_000;
    const cache = createNonceCache({ now: () => now });
    expect(cache.checkAndAdd("a", 20_000)).toBe("added");
    expect(cache.checkAndAdd("a", 99_000)).toBe("seen");
    expect(cache.has("a")).toBe(true);
    now = 19_999;
    expect(cache.checkAndAdd("a", 99_000)).toBe("seen");
    now = 20_000;
    expect(cache.has("a")).toBe(false);
    expect(cache.size).toBe(0);
    expect(cache.checkAndAdd("a", 30_000)).toBe("added");
  });

  it("rounds expiry up to a whole second, never down", () => {
    let now = 0;
    const cache = createNonceCache({ now: () => now });
    cache.checkAndAdd("a", 1_001);
    now = 1_500;
    expect(cache.has("a")).toBe(true);
    now = 2_000;
    expect(cache.has("a")).toBe(false);
  });

  it("does not store a key whose window has already passed", () => {
    const cache = createNonceCache({ now: () => 5_000 });
    expect(cache.checkAndAdd("old", 5_000)).toBe("added");
    expect(cache.size).toBe(0);
  });

  it("never holds more than maxEntries, refuses while full, and takes keys again once some expire", () => {
    let now = 0;
    const cache = createNonceCache({ maxEntries: 100, now: () => now });
    const results = { added: 0, seen: 0, full: 0 };
    let maxSize = 0;
    // 20,000 distinct keys at 50 per simulated second, each live for 300 s: far more than fit.
    for (let i = 0; i < 20_000; i++) {
      now = i * 20;
      results[cache.checkAndAdd(`k${i}`, now + 300_000)]++;
      maxSize = Math.max(maxSize, cache.size);
    }
    expect(maxSize).toBe(100);
    expect(results.full).toBeGreaterThan(0);
    // Time-bucketed expiry frees slots: 100 per 300 s window get in.
    expect(results.added).toBe(100 * Math.ceil((20_000 * 20) / 300_000));
    now += 301_000;
    expect(cache.size).toBe(0);
    expect(cache.checkAndAdd("fresh", now + 1)).toBe("added");
  });

  it("is deterministic for a given clock and sequence", () => {
    const run = () => {
      let now = 0;
      const cache = createNonceCache({ maxEntries: 3, now: () => now });
      return Array.from({ length: 40 }, (_, i) => {
        now = i * 250;
        return cache.checkAndAdd(`k${i % 5}`, now + 2_000);
      });
    };
    expect(run()).toEqual(run());
    expect(run()).toContain("seen");
    expect(run()).toContain("full");
  });

  it("rejects nonsense options and expiries", () => {
    for (const maxEntries of [0, -1, 1.5, Number.NaN]) {
      expect(() => createNonceCache({ maxEntries })).toThrow(expect.objectContaining({ code: "ERR_VALIDATION" }));
    }
    const cache = createNonceCache();
    expect(() => cache.checkAndAdd("a", Number.NaN)).toThrow(expect.objectContaining({ code: "ERR_VALIDATION" }));
    expect(cache.maxEntries).toBe(10_000);
  });
});
