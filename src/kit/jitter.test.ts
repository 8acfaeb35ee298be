import { describe, expect, it } from "vitest";
import { jitteredDelay } from "./jitter.ts";

describe("jitteredDelay", () => {
  it("spans interval ± jitter, uniformly in the random value", () => {
    expect(jitteredDelay(1000, 0.2, () => 0)).toBe(800);
    expect(jitteredDelay(1000, 0.2, () => 0.5)).toBe(1000);
    expect(jitteredDelay(1000, 0.2, () => 0.999999)).toBe(1200);
    expect(jitteredDelay(1000, 0.2, () => 0.25)).toBe(900);
  });

  it("is the plain interval without jitter", () => {
    expect(jitteredDelay(750, 0, () => 0)).toBe(750);
    expect(jitteredDelay(750, 0, () => 0.99)).toBe(750);
  });

  it("clamps the jitter share to 0..1 and never goes below 0", () => {
    expect(jitteredDelay(100, 5, () => 0)).toBe(0);
    expect(jitteredDelay(100, 5, () => 0.999999)).toBe(200);
    expect(jitteredDelay(100, -1, () => 0)).toBe(100);
  });

  it("varies with Math.random by default", () => {
    const seen = new Set(Array.from({ length: 50 }, () => jitteredDelay(1000, 0.2)));
    expect(seen.size).toBeGreaterThan(5);
    for (const d of seen) expect(d).toBeGreaterThanOrEqual(800), expect(d).toBeLessThanOrEqual(1200);
  });
});
