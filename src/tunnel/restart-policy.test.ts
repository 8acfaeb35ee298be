import { describe, expect, it } from "vitest";
import { attemptFor, restartDelay } from "./restart-policy.ts";
import { checkBind, isLoopbackHost } from "./bind-policy.ts";

describe("restart backoff", () => {
  const p = { baseMs: 100, maxMs: 1_000, stableMs: 5_000 };
  it("doubles the ceiling per failure, half fixed and half jitter, up to the cap", () => {
    const low = [0, 1, 2, 3, 4, 5].map((a) => restartDelay(a, { ...p, random: () => 0 }));
    const high = [0, 1, 2, 3, 4, 5].map((a) => restartDelay(a, { ...p, random: () => 0.999999 }));
    expect(low).toEqual([50, 100, 200, 400, 500, 500]);
    expect(high).toEqual([99, 199, 399, 799, 999, 999]);
  });
  it("never gives a crash loop a zero delay, whatever the jitter", () => {
    for (let i = 0; i < 1000; i++) expect(restartDelay(0, p)).toBeGreaterThanOrEqual(50);
  });
  it("starts counting again after a stable run", () => {
    expect(attemptFor(4, 100, p)).toBe(4);
    expect(attemptFor(4, 5_000, p)).toBe(0);
  });
});

describe("where the daemon may listen", () => {
  it("allows loopback without a word", () => {
    for (const h of ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"]) {
      expect(isLoopbackHost(h)).toBe(true);
      expect(checkBind(h, false)).toEqual({ warning: null });
    }
  });
  it("refuses a public interface without the explicit flag, and warns with it", () => {
    for (const h of ["0.0.0.0", "::", "10.0.0.5", "example.com"]) {
      expect(() => checkBind(h, false)).toThrow(/Refusing to listen/);
      expect(checkBind(h, true).warning).toMatch(/^WARNING: the daemon listens on .*not on loopback/);
    }
  });
});
