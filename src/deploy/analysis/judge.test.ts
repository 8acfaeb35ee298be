import { describe, expect, it } from "vitest";
import type { AnalysisThresholds } from "../../contract/index.ts";
import { judgeAnalysis, judgeErrors, judgeLatency, type VersionStats } from "./judge.ts";

const T: AnalysisThresholds = {
  alpha: 0.01,
  minRequests: 50,
  minErrorRateIncrease: 0.01,
  maxP50Ratio: 1.5,
  maxP99Ratio: 2,
  minLatencyIncreaseMs: 20,
  onInconclusive: "wait",
  maxWaitMs: 60_000,
  lagSec: 0,
};
const v = (requests: number, errors: number, p50Ms: number | null = 10, p99Ms: number | null = 30): VersionStats => ({
  requests,
  errors,
  p50Ms,
  p99Ms,
});

describe("judgeErrors", () => {
  it("fails a canary failing 15% of its requests against a clean baseline, with the numbers", () => {
    const c = judgeErrors(v(200, 30), v(1800, 0), T);
    expect(c.verdict).toBe("fail");
    expect(c.pValue).toBeLessThan(1e-10);
    expect(c.detail).toContain("canary 30/200 (15.00%) vs baseline 0/1800 (0.00%)");
  });
  it("passes a healthy canary beside a baseline that errs steadily 2% (the baseline is the bar)", () => {
    expect(judgeErrors(v(500, 9), v(4500, 90), T).verdict).toBe("pass"); // 1.8% vs 2%
    expect(judgeErrors(v(500, 13), v(4500, 90), T).verdict).toBe("pass"); // 2.6%: +0.6% is under the 1% floor
  });
  it("passes a worse canary that is not significantly worse, and fails the same rates with more data", () => {
    expect(judgeErrors(v(60, 2), v(600, 6), T).verdict).toBe("pass"); // 3.3% vs 1%, p ≈ 0.18
    expect(judgeErrors(v(6000, 200), v(60000, 600), T).verdict).toBe("fail");
  });
  it("is inconclusive under min_requests on either side", () => {
    const c = judgeErrors(v(49, 49), v(5000, 0), T);
    expect(c.verdict).toBe("inconclusive");
    expect(c.detail).toContain("canary 49, baseline 5000 requests (at least 50 each)");
    expect(judgeErrors(v(500, 0), v(10, 0), T).verdict).toBe("inconclusive");
  });
});

describe("judgeLatency", () => {
  it("fails 3× the baseline's p50 and passes within the ratio", () => {
    const slow = judgeLatency("p50", v(100, 0, 90, 120), v(100, 0, 30, 45), T);
    expect([slow.verdict, slow.ratio]).toEqual(["fail", 3]);
    expect(judgeLatency("p50", v(100, 0, 40, 60), v(100, 0, 30, 45), T).verdict).toBe("pass");
  });
  it("keeps the absolute floor: 1 ms -> 4 ms is 4× but only 3 ms slower", () => {
    expect(judgeLatency("p99", v(100, 0, 1, 4), v(100, 0, 1, 1), T).verdict).toBe("pass");
  });
  it("is inconclusive without quantiles", () => {
    expect(judgeLatency("p99", v(100, 0, null, null), v(100, 0), T).verdict).toBe("inconclusive");
  });
});

describe("judgeAnalysis", () => {
  it("judges latency only on the final read", () => {
    const slow = v(100, 0, 300, 400);
    expect(judgeAnalysis(slow, v(1000, 0), T, false).verdict).toBe("pass");
    const final = judgeAnalysis(slow, v(1000, 0), T, true);
    expect(final.verdict).toBe("fail");
    expect(final.checks.map((c) => [c.rule, c.verdict])).toEqual([
      ["errors", "pass"],
      ["latency_p50", "fail"],
      ["latency_p99", "fail"],
    ]);
    expect(final.reason).toMatch(/^latency_p50: p50 canary 300 ms vs baseline 10 ms/);
  });
  it("fail beats inconclusive, inconclusive beats pass", () => {
    expect(judgeAnalysis(v(10, 0), v(1000, 0), T, true).verdict).toBe("inconclusive");
    expect(judgeAnalysis(v(1000, 300), v(1000, 0), T, true).verdict).toBe("fail");
    expect(judgeAnalysis(v(1000, 0), v(1000, 0), T, true).verdict).toBe("pass");
  });
});
