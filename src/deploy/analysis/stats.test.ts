import { describe, expect, it } from "vitest";
import { canaryWorse, fisherOneSided, normalUpperTail, twoProportionZ } from "./stats.ts";

describe("normalUpperTail", () => {
  it("matches the standard normal table", () => {
    expect(normalUpperTail(0)).toBeCloseTo(0.5, 7);
    expect(normalUpperTail(1.6448536)).toBeCloseTo(0.05, 6);
    expect(normalUpperTail(2.3263479)).toBeCloseTo(0.01, 6);
    expect(normalUpperTail(-1.959964)).toBeCloseTo(0.975, 6);
    expect(normalUpperTail(5)).toBeCloseTo(2.8665e-7, 9);
  });
});

describe("twoProportionZ", () => {
  it("computes the pooled statistic (textbook case: 45/500 vs 30/500)", () => {
    // p1 = .09, p2 = .06, pooled .075, se = sqrt(.075 * .925 * (2/500)) = .016658
    const r = twoProportionZ({ canaryErrors: 45, canaryRequests: 500, baselineErrors: 30, baselineRequests: 500 });
    expect(r.z).toBeCloseTo(1.801, 3);
    expect(r.pValue).toBeCloseTo(0.03585, 4);
  });
  it("is one-sided: a canary better than its baseline has p > 0.5", () => {
    expect(twoProportionZ({ canaryErrors: 1, canaryRequests: 1000, baselineErrors: 20, baselineRequests: 1000 }).pValue).toBeGreaterThan(
      0.99,
    );
  });
  it("says nothing when neither version erred", () => {
    expect(twoProportionZ({ canaryErrors: 0, canaryRequests: 100, baselineErrors: 0, baselineRequests: 100 })).toEqual({ z: 0, pValue: 1 });
  });
});

describe("fisherOneSided", () => {
  it("equals the hypergeometric tail (R: fisher.test(matrix(c(3,1,1,3),2), alternative='greater') = 0.2429)", () => {
    expect(fisherOneSided({ canaryErrors: 3, canaryRequests: 4, baselineErrors: 1, baselineRequests: 4 })).toBeCloseTo(0.24286, 4);
  });
  it("gives 1 when the canary has no errors, and a tiny p for 10/20 errors against 0/200", () => {
    expect(fisherOneSided({ canaryErrors: 0, canaryRequests: 50, baselineErrors: 3, baselineRequests: 50 })).toBeCloseTo(1, 10);
    expect(fisherOneSided({ canaryErrors: 10, canaryRequests: 20, baselineErrors: 0, baselineRequests: 200 })).toBeLessThan(1e-8);
  });
});

describe("canaryWorse", () => {
  it("uses Fisher for small expected counts and z for large ones", () => {
    expect(canaryWorse({ canaryErrors: 2, canaryRequests: 30, baselineErrors: 0, baselineRequests: 300 }).test).toBe("fisher");
    expect(canaryWorse({ canaryErrors: 150, canaryRequests: 1000, baselineErrors: 20, baselineRequests: 1000 }).test).toBe("z");
  });
});
