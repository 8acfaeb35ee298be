import { describe, expect, it } from "vitest";
import type { StepAnalysis, VersionWindow } from "../contract/index.ts";
import { canaryView } from "./canary-series.ts";

const thresholds: StepAnalysis["thresholds"] = {
  alpha: 0.01,
  minRequests: 50,
  minErrorRateIncrease: 0.01,
  maxP50Ratio: 1.5,
  maxP99Ratio: 2,
  minLatencyIncreaseMs: 50,
  onInconclusive: "pass",
  maxWaitMs: 60_000,
  lagSec: 0,
};
const point = (minute: string, requests: number, errors: number, p99Ms: number | null) => ({
  minute,
  requests,
  errors,
  errorRate: requests ? errors / requests : null,
  p50Ms: p99Ms,
  p99Ms,
});
const win = (over: Partial<VersionWindow>): VersionWindow => ({
  versionId: "v",
  from: "2025-01-01T12:02:00.000Z",
  to: "2025-01-01T12:03:30.000Z",
  requests: 0,
  errors: 0,
  errorRate: null,
  p50Ms: null,
  p99Ms: null,
  series: [],
  ...over,
});
const step = (over: Partial<StepAnalysis> = {}): StepAnalysis => ({
  target: "eu",
  percent: 50,
  versionId: "v2",
  baselineVersionId: "v1",
  state: "running",
  verdict: "pending",
  reason: "not final yet",
  canary: win({
    versionId: "v2",
    requests: 120,
    errors: 0,
    errorRate: 0,
    p99Ms: 40,
    series: [point("2025-01-01T12:02:00.000Z", 80, 0, 40), point("2025-01-01T12:03:00.000Z", 40, 0, 35)],
  }),
  // The baseline looks back two minutes before the step; it served nothing in 12:01.
  baseline: win({
    versionId: "v1",
    from: "2025-01-01T12:00:00.000Z",
    requests: 300,
    errors: 6,
    errorRate: 0.02,
    p99Ms: 30,
    series: [point("2025-01-01T12:00:00.000Z", 200, 4, 30), point("2025-01-01T12:02:00.000Z", 100, 2, 28)],
  }),
  thresholds,
  checks: [{ rule: "errors", verdict: "pass", detail: "canary 0/120 vs baseline 6/300" }],
  updatedAt: "2025-01-01T12:03:30.000Z",
  ...over,
});

describe("canary view of one step", () => {
  it("puts both versions on one minute axis: 0 requests inside a window, nothing outside it, the last minute partial", () => {
    const v = canaryView(step());
    const [requests, errors, p99] = v.panels;
    expect(requests!.times).toEqual([
      "2025-01-01T12:00:00.000Z",
      "2025-01-01T12:01:00.000Z",
      "2025-01-01T12:02:00.000Z",
      "2025-01-01T12:03:00.000Z",
    ]);
    expect(requests!.canary).toEqual([null, null, 80, 40]);
    expect(requests!.baseline).toEqual([200, 0, 100, 0]);
    // A minute without requests has no error rate or latency: a gap, never a 0.
    expect(errors!.baseline).toEqual([0.02, null, 0.02, null]);
    expect(p99!.canary).toEqual([null, null, 40, 35]);
    expect(v.partialLast).toBe(true);
    expect(v.notes).toEqual([]);
  });

  it("draws the gate's bars from the baseline: error rate + the floor, p99 × ratio with a ms floor", () => {
    const [requests, errors, p99] = canaryView(step()).panels;
    expect(requests!.threshold).toBeNull();
    expect(requests!.thresholdLabel).toContain("50 requests");
    expect(errors!.threshold).toBeCloseTo(0.03);
    expect(errors!.thresholdLabel).toContain("p < 0.01");
    expect(errors!.check?.verdict).toBe("pass");
    expect(p99!.threshold).toBe(80); // max(30 × 2, 30 + 50)
    expect(canaryView(step({ thresholds: { ...thresholds, minLatencyIncreaseMs: 5 } })).panels[2]!.threshold).toBe(60);
  });

  it("says what is missing instead of drawing it", () => {
    const first = canaryView(step({ baselineVersionId: null, canary: null, baseline: null, reason: "" }));
    expect(first.panels[0]!.times).toEqual([]);
    expect(first.panels.every((p) => p.threshold === null)).toBe(true);
    expect(first.notes[0]).toMatch(/First deploy/);
    const unread = canaryView(step({ canary: null, baseline: null, reason: "no analytics read yet" }));
    expect(unread.notes).toEqual(["No analytics read for this step yet (no analytics read yet)."]);
    const quiet = canaryView(step({ canary: win({ versionId: "v2" }), thresholds: { ...thresholds, lagSec: 300 } }));
    expect(quiet.notes).toEqual([
      "The canary served no requests in its window: nothing to draw for it.",
      expect.stringMatching(/^Analytics show a minute 300 s after it ends: the window ends at \d\d:\d\d:\d\d, not now\.$/),
    ]);
    const few = canaryView(step({ thresholds: { ...thresholds, minRequests: 200 } }));
    expect(few.notes).toEqual(["The canary has 120 requests, under min_requests (200): the rules cannot judge it yet."]);
  });

  it("keeps the newest minutes of a long window", () => {
    const v = canaryView(step(), 2);
    expect(v.panels[0]!.times).toEqual(["2025-01-01T12:02:00.000Z", "2025-01-01T12:03:00.000Z"]);
    expect(v.notes).toContain("Only the newest 2 minutes are drawn.");
  });
});
