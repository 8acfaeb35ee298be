// The canary analysis' judge: pure. Given what the analytics show for the canary (the new version,
// over the step) and the baseline (the previous version, over the step and a look-back before it),
// it applies three rules and combines them:
//
//   errors       fail  the canary's error rate is above the baseline's by more than
//                      `min_error_rate_increase` (absolute floor) AND a one-sided test says so
//                      (p-value < alpha; stats.ts); a baseline that errs steadily is the bar, so a
//                      healthy canary beside a 2% baseline passes
//   latency_p50  fail  canary p50 > baseline p50 × max_p50_ratio and more than
//   latency_p99        min_latency_increase_ms slower (the floor keeps a cold start or a 1 ms → 3 ms
//                      wobble from failing a step); same for p99
//   any rule     inconclusive  either version has fewer than `min_requests` requests in its window
//
// Verdict: fail if any rule fails; else inconclusive if any is; else pass. Errors may fail a step at
// any read (a broken version should go back at once); latency only at the final read (`final`),
// once the whole step is visible, because a young window is dominated by the new isolates' first
// requests.
import type { AnalysisCheck, AnalysisSpec, AnalysisThresholds } from "../../contract/index.ts";
import { canaryWorse } from "./stats.ts";

export type VersionStats = { requests: number; errors: number; p50Ms: number | null; p99Ms: number | null };
export type Judgement = { verdict: "pass" | "fail" | "inconclusive"; reason: string; checks: AnalysisCheck[] };

export function thresholdsOf(a: AnalysisSpec, lagSec: number): AnalysisThresholds {
  return {
    alpha: a.alpha,
    minRequests: a.min_requests,
    minErrorRateIncrease: a.min_error_rate_increase,
    maxP50Ratio: a.max_p50_ratio,
    maxP99Ratio: a.max_p99_ratio,
    minLatencyIncreaseMs: a.min_latency_increase_ms,
    onInconclusive: a.on_inconclusive,
    maxWaitMs: a.max_wait_ms,
    lagSec,
  };
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const rate = (s: VersionStats) => (s.requests === 0 ? 0 : s.errors / s.requests);

export function judgeErrors(canary: VersionStats, baseline: VersionStats, t: AnalysisThresholds): AnalysisCheck {
  const few = tooFew(canary, baseline, t);
  if (few) return { rule: "errors", verdict: "inconclusive", detail: few };
  const c = rate(canary);
  const b = rate(baseline);
  const numbers = `canary ${canary.errors}/${canary.requests} (${pct(c)}) vs baseline ${baseline.errors}/${baseline.requests} (${pct(b)})`;
  const test = canaryWorse({
    canaryErrors: canary.errors,
    canaryRequests: canary.requests,
    baselineErrors: baseline.errors,
    baselineRequests: baseline.requests,
  });
  const stat = { z: round(test.z, 3), pValue: test.pValue };
  const p = `p=${test.pValue < 1e-4 ? test.pValue.toExponential(1) : test.pValue.toFixed(4)} (${test.test === "z" ? `z=${test.z.toFixed(2)}` : "Fisher"})`;
  if (c - b <= t.minErrorRateIncrease)
    return { rule: "errors", verdict: "pass", detail: `${numbers}: within +${pct(t.minErrorRateIncrease)}`, ...stat };
  if (test.pValue < t.alpha)
    return { rule: "errors", verdict: "fail", detail: `${numbers}: significantly higher, ${p} < ${t.alpha}`, ...stat };
  return { rule: "errors", verdict: "pass", detail: `${numbers}: not significantly higher, ${p} ≥ ${t.alpha}`, ...stat };
}

export function judgeLatency(which: "p50" | "p99", canary: VersionStats, baseline: VersionStats, t: AnalysisThresholds): AnalysisCheck {
  const rule = which === "p50" ? "latency_p50" : "latency_p99";
  const few = tooFew(canary, baseline, t);
  if (few) return { rule, verdict: "inconclusive", detail: few };
  const c = which === "p50" ? canary.p50Ms : canary.p99Ms;
  const b = which === "p50" ? baseline.p50Ms : baseline.p99Ms;
  if (c === null || b === null) return { rule, verdict: "inconclusive", detail: `no ${which} wall time in the analytics` };
  const max = which === "p50" ? t.maxP50Ratio : t.maxP99Ratio;
  const ratio = b > 0 ? c / b : c > 0 ? Number.POSITIVE_INFINITY : 1;
  const numbers = `${which} canary ${fmtMs(c)} vs baseline ${fmtMs(b)} (×${Number.isFinite(ratio) ? ratio.toFixed(2) : "∞"})`;
  const out = { rule, ...(Number.isFinite(ratio) ? { ratio: round(ratio, 3) } : {}) } as const;
  if (c - b <= t.minLatencyIncreaseMs) return { ...out, verdict: "pass", detail: `${numbers}: within +${t.minLatencyIncreaseMs} ms` };
  if (ratio > max) return { ...out, verdict: "fail", detail: `${numbers}: above ×${max}` };
  return { ...out, verdict: "pass", detail: `${numbers}: within ×${max}` };
}

/**
 * All rules on one read. `final`: the whole step is visible (latency is judged only then). The
 * reason names the failing (or inconclusive) rules with their numbers.
 */
export function judgeAnalysis(canary: VersionStats, baseline: VersionStats, t: AnalysisThresholds, final: boolean): Judgement {
  const checks = [judgeErrors(canary, baseline, t)];
  if (final) checks.push(judgeLatency("p50", canary, baseline, t), judgeLatency("p99", canary, baseline, t));
  const failed = checks.filter((c) => c.verdict === "fail");
  if (failed.length > 0) return { verdict: "fail", reason: failed.map((c) => `${c.rule}: ${c.detail}`).join("; "), checks };
  const unsure = checks.filter((c) => c.verdict === "inconclusive");
  if (unsure.length > 0) return { verdict: "inconclusive", reason: `inconclusive: ${unsure[0]!.detail}`, checks };
  return { verdict: "pass", reason: checks.map((c) => `${c.rule}: ${c.detail}`).join("; "), checks };
}

function tooFew(canary: VersionStats, baseline: VersionStats, t: AnalysisThresholds): string | undefined {
  if (canary.requests < t.minRequests || baseline.requests < t.minRequests)
    return `too little traffic: canary ${canary.requests}, baseline ${baseline.requests} requests (at least ${t.minRequests} each)`;
  return undefined;
}

const fmtMs = (ms: number) => (ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`);
const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;
