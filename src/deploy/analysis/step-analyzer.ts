// One step's canary analysis on one target: reads the canary's and the baseline's invocations from
// the target's analytics and judges them (judge.ts), as often as `interval_ms` allows.
//
// Freshness: the analytics show a minute `lag` seconds after it ends (Cloudflare's aggregation;
// 0 on the local edge, which flushes its counts before answering). The analyzer reads only what
// it can see: with no lag, up to now (the current minute so far); with a lag, whole minutes that
// ended at least `lag` ago, and it reads again only when a new one shows. A read is `final` once
// the visible window covers the whole bake; before that it can fail a step but never pass it.
//
//   windows   canary    [minute of the step's start, visible end)
//             baseline  [minute of (step start - baseline_lookback), visible end): at 100% the
//                       previous version serves nothing new, so its recent past is the bar
//   verdicts  fail (any read) | pass (final read) | inconclusive (final read, too little traffic,
//             or analytics without a per-version dimension) | pending (not final yet, or the
//             analytics could not be read: a window it cannot see is never judged)
import type { VersionInvocations } from "../../cloudflare/index.ts";
import type { AnalysisSpec, StepAnalysis, VersionWindow } from "../../contract/index.ts";
import { toCboError } from "../../kit/errors.ts";
import { judgeAnalysis, thresholdsOf, type VersionStats } from "./judge.ts";

export type ReadVersions = (windows: Array<{ versionId: string; from: Date; to: Date }>) => Promise<VersionInvocations[]>;

export type AnalyzerRead = { verdict: "fail" | "pass" | "inconclusive" | "pending"; final: boolean; reason: string; step: StepAnalysis };

const MINUTE = 60_000;
const floorMinute = (ms: number) => Math.floor(ms / MINUTE) * MINUTE;

export function createStepAnalyzer(o: {
  read: ReadVersions;
  spec: AnalysisSpec;
  lagSec: number;
  target: string;
  percent: number;
  versionId: string;
  baselineVersionId: string;
  stepStart: number;
  bakeMs: number;
  now?: () => number;
  onRead?: (step: StepAnalysis) => void;
}) {
  const now = o.now ?? Date.now;
  const thresholds = thresholdsOf(o.spec, o.lagSec);
  let lastReadAt = Number.NEGATIVE_INFINITY;
  let lastVisibleEnd = Number.NEGATIVE_INFINITY;
  let unsupported: string | undefined;
  let latest: AnalyzerRead = {
    verdict: "pending",
    final: false,
    reason: "no analytics read yet",
    step: stepOf("running", "pending", "no analytics read yet", null, null, []),
  };

  /** The deadline of the first final read: the bake, plus the lag and a minute's alignment. */
  function visibleBy(): number {
    return o.stepStart + o.bakeMs + (o.lagSec === 0 ? 0 : o.lagSec * 1000 + MINUTE);
  }

  function visibleEnd(t: number): number {
    return o.lagSec === 0 ? t : floorMinute(t - o.lagSec * 1000);
  }

  function stepOf(
    state: StepAnalysis["state"],
    verdict: StepAnalysis["verdict"],
    reason: string,
    canary: VersionWindow | null,
    baseline: VersionWindow | null,
    checks: StepAnalysis["checks"],
  ): StepAnalysis {
    return {
      target: o.target,
      percent: o.percent,
      versionId: o.versionId,
      baselineVersionId: o.baselineVersionId,
      state,
      verdict,
      reason,
      canary,
      baseline,
      thresholds,
      checks,
      updatedAt: new Date(now()).toISOString(),
    };
  }

  return {
    /**
     * Whether a read now could tell anything new (interval passed; with a lag, a new minute shows).
     * The first read that can be final is due as soon as the bake is visible, whatever the
     * interval: else a step whose probes passed waits up to interval_ms more for it (a 150 ms
     * bake took 1 s at the default 1 s interval).
     */
    due(): boolean {
      if (unsupported) return false;
      const t = now();
      const firstFinal = t >= visibleBy() && lastReadAt < visibleBy();
      if (!firstFinal && t - lastReadAt < o.spec.interval_ms) return false;
      return o.lagSec === 0 || visibleEnd(t) > lastVisibleEnd;
    },
    latest: () => latest,
    visibleBy,
    async read(): Promise<AnalyzerRead> {
      const t = now();
      lastReadAt = t;
      if (unsupported) return latest;
      const to = visibleEnd(t);
      const canaryFrom = floorMinute(o.stepStart);
      if (to <= canaryFrom) {
        latest = pending(
          `the analytics show nothing of this step before ${new Date(canaryFrom + o.lagSec * 1000 + MINUTE).toISOString()} (lag ${o.lagSec} s)`,
        );
        return latest;
      }
      const baselineFrom = floorMinute(o.stepStart - o.spec.baseline_lookback_sec * 1000);
      let rows: VersionInvocations[];
      try {
        rows = await o.read([
          { versionId: o.versionId, from: new Date(canaryFrom), to: new Date(to) },
          { versionId: o.baselineVersionId, from: new Date(baselineFrom), to: new Date(to) },
        ]);
      } catch (e) {
        const err = toCboError(e);
        if (/scriptVersion/.test(err.message)) {
          unsupported = `this account's analytics have no scriptVersion dimension, so versions cannot be compared (${err.message.split("\n")[0]})`;
          latest = {
            verdict: "inconclusive",
            final: true,
            reason: unsupported,
            step: stepOf("running", "inconclusive", unsupported, null, null, []),
          };
          o.onRead?.(latest.step);
          return latest;
        }
        latest = pending(`analytics unavailable: ${err.code}: ${err.message.split("\n")[0]}`);
        return latest;
      }
      lastVisibleEnd = to;
      const [c, b] = rows as [VersionInvocations, VersionInvocations];
      const canary = windowOf(c, canaryFrom, to);
      const baseline = windowOf(b, baselineFrom, to);
      const final = to >= o.stepStart + o.bakeMs;
      const j = judgeAnalysis(statsOf(c), statsOf(b), thresholds, final);
      const verdict = j.verdict === "fail" ? "fail" : final ? j.verdict : "pending";
      const reason = verdict === "pending" ? `so far: ${j.reason}` : j.reason;
      latest = { verdict, final, reason, step: stepOf("running", verdict, reason, canary, baseline, j.checks) };
      o.onRead?.(latest.step);
      return latest;
    },
  };

  function pending(reason: string): AnalyzerRead {
    const step = { ...latest.step, verdict: "pending" as const, reason, updatedAt: new Date(now()).toISOString() };
    o.onRead?.(step);
    return { verdict: "pending", final: false, reason, step };
  }
}

const statsOf = (v: VersionInvocations): VersionStats => ({
  requests: v.requests,
  errors: v.errors,
  p50Ms: v.wallTimeP50Ms,
  p99Ms: v.wallTimeP99Ms,
});

function windowOf(v: VersionInvocations, from: number, to: number): VersionWindow {
  const r = (x: number | null) => (x === null ? null : Math.round(x * 1000) / 1000);
  return {
    versionId: v.versionId,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    requests: v.requests,
    errors: v.errors,
    errorRate: v.requests > 0 ? v.errors / v.requests : null,
    p50Ms: r(v.wallTimeP50Ms),
    p99Ms: r(v.wallTimeP99Ms),
    series: v.minutes.map((m) => ({
      minute: m.minute,
      requests: m.requests,
      errors: m.errors,
      errorRate: m.requests > 0 ? m.errors / m.requests : null,
      p50Ms: r(m.wallTimeP50Ms),
      p99Ms: r(m.wallTimeP99Ms),
    })),
  };
}
