// The failed-authentication limiter on a hand-driven clock.
import { describe, expect, it } from "vitest";
import { createRateLimiter } from "./rate-limit.ts";

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe("rate limiter", () => {
  it("locks a key at the 10th failure within 60 s, for 60 s, then starts afresh", () => {
    const c = clock();
    const rl = createRateLimiter({ now: c.now });
    for (let i = 0; i < 9; i++) {
      expect(rl.fail(["client:a"])).toEqual([]);
      c.advance(1000);
    }
    expect(rl.retryAfterMs(["client:a"])).toBe(0);
    expect(rl.fail(["client:a"])).toEqual(["client:a"]);
    expect(rl.retryAfterMs(["client:a"])).toBe(60_000);
    c.advance(59_999);
    expect(rl.retryAfterMs(["client:a"])).toBe(1);
    c.advance(1);
    expect(rl.retryAfterMs(["client:a"])).toBe(0);
    // The history went with the lock: one more failure does not lock again.
    expect(rl.fail(["client:a"])).toEqual([]);
  });

  it("forgets failures older than the window", () => {
    const c = clock();
    const rl = createRateLimiter({ now: c.now });
    for (let i = 0; i < 9; i++) rl.fail(["client:a"]);
    c.advance(60_001);
    expect(rl.fail(["client:a"])).toEqual([]);
    expect(rl.retryAfterMs(["client:a"])).toBe(0);
  });

  it("counts keys separately, and a request is held by its most locked key", () => {
    const c = clock();
    const rl = createRateLimiter({ now: c.now, max: 3, lockMs: 10_000 });
    rl.fail(["client:a", "token:x"]);
    rl.fail(["client:b", "token:x"]);
    expect(rl.fail(["client:c", "token:x"])).toEqual(["token:x"]);
    expect(rl.retryAfterMs(["client:a"])).toBe(0);
    expect(rl.retryAfterMs(["client:a", "token:x"])).toBe(10_000);
    expect(rl.retryAfterMs(["client:d", "token:y"])).toBe(0);
  });

  it("stays bounded when an attacker invents keys, dropping expired and then least recent ones", () => {
    const c = clock();
    const rl = createRateLimiter({ now: c.now, maxKeys: 100, max: 2 });
    rl.fail(["client:victim"]);
    rl.fail(["client:victim"]); // locked
    for (let i = 0; i < 1000; i++) rl.fail([`token:${i}`]);
    expect(rl.size()).toBeLessThanOrEqual(100);
    // Flooding did not free the locked key.
    expect(rl.retryAfterMs(["client:victim"])).toBe(60_000);
  });
});
