// One step's canary analysis (GET /v1/releases/:id/analysis) as the release page draws it: the
// canary's and the baseline's minutes on one time axis for three panels (requests per minute, error
// rate, p99 wall time), each with the bar the gate holds the canary to, and notes that say plainly
// what is missing. Pure.
//
// Honest about missing data: a minute outside a version's window is null (no line), a minute inside
// it without a row is 0 requests (the analytics list only minutes with invocations) and null error
// rate and p99 (no request, no rate); the newest minute is marked partial while the window ends
// inside it. Thresholds exist only when the baseline has the number they are relative to.
import type { AnalysisCheck, StepAnalysis, VersionWindow } from "../contract/index.ts";

export type CanaryMetric = "requests" | "error-rate" | "p99";
export type CanaryPanel = {
  metric: CanaryMetric;
  title: string;
  /** Minute starts (ISO), shared by both lines. */
  times: string[];
  canary: Array<number | null>;
  baseline: Array<number | null>;
  /** Above this the canary fails the rule (given the baseline's number now); null when it cannot be known. */
  threshold: number | null;
  thresholdLabel: string;
  /** The gate's check for this panel's rule (none for requests). */
  check: AnalysisCheck | null;
};
export type CanaryView = { panels: CanaryPanel[]; notes: string[]; partialLast: boolean };

const MINUTE = 60_000;
/** Longer windows show their newest minutes only (a step that waited long, a long look-back). */
export const MAX_MINUTES = 90;

export function canaryView(step: StepAnalysis, maxMinutes = MAX_MINUTES): CanaryView {
  const t = step.thresholds;
  const notes: string[] = [];
  const windows = [step.canary, step.baseline].filter((w): w is VersionWindow => w !== null);
  if (step.baselineVersionId === null) notes.push("First deploy on this target: there is no previous version to compare with.");
  else if (step.canary === null || step.baseline === null)
    notes.push(`No analytics read for this step yet${step.reason ? ` (${step.reason})` : ""}.`);
  for (const [name, w] of [
    ["canary", step.canary],
    ["baseline", step.baseline],
  ] as const) {
    if (!w) continue;
    if (w.requests === 0) notes.push(`The ${name} served no requests in its window: nothing to draw for it.`);
    else if (w.requests < t.minRequests)
      notes.push(`The ${name} has ${w.requests} requests, under min_requests (${t.minRequests}): the rules cannot judge it yet.`);
  }
  if (t.lagSec > 0 && step.canary)
    notes.push(`Analytics show a minute ${t.lagSec} s after it ends: the window ends at ${clock(step.canary.to)}, not now.`);

  // The shared axis: every minute from the earliest window's start to the latest window's end.
  const from = Math.min(...windows.map((w) => floorMinute(Date.parse(w.from))));
  const to = Math.max(...windows.map((w) => Date.parse(w.to)));
  const minutes: number[] = [];
  if (windows.length > 0 && Number.isFinite(from) && Number.isFinite(to)) for (let m = from; m < to; m += MINUTE) minutes.push(m);
  const shown = minutes.slice(-maxMinutes);
  if (minutes.length > shown.length) notes.push(`Only the newest ${maxMinutes} minutes are drawn.`);
  const partialLast = shown.length > 0 && to < shown.at(-1)! + MINUTE;

  const column = (w: VersionWindow | null, pick: (p: VersionWindow["series"][number] | undefined) => number | null) => {
    if (!w) return shown.map(() => null);
    const start = Date.parse(w.from);
    const end = Date.parse(w.to);
    const byMinute = new Map(w.series.map((p) => [floorMinute(Date.parse(p.minute)), p]));
    // A minute counts as the window's when the two overlap.
    return shown.map((m) => (m + MINUTE > start && m < end ? pick(byMinute.get(m)) : null));
  };
  const times = shown.map((m) => new Date(m).toISOString());
  const check = (rule: AnalysisCheck["rule"]) => step.checks.find((c) => c.rule === rule) ?? null;
  const b = step.baseline;

  const errorBar = b?.errorRate != null ? b.errorRate + t.minErrorRateIncrease : null;
  const p99Bar = b?.p99Ms != null ? Math.max(b.p99Ms * t.maxP99Ratio, b.p99Ms + t.minLatencyIncreaseMs) : null;
  const panels: CanaryPanel[] = [
    {
      metric: "requests",
      title: "Requests per minute",
      times,
      canary: column(step.canary, (p) => p?.requests ?? 0),
      baseline: column(step.baseline, (p) => p?.requests ?? 0),
      threshold: null,
      thresholdLabel: `Each version needs ${t.minRequests} requests in its window (canary ${step.canary?.requests ?? "—"}, baseline ${b?.requests ?? "—"})`,
      check: null,
    },
    {
      metric: "error-rate",
      title: "Error rate",
      times,
      canary: column(step.canary, (p) => p?.errorRate ?? null),
      baseline: column(step.baseline, (p) => p?.errorRate ?? null),
      threshold: errorBar,
      thresholdLabel:
        errorBar === null
          ? "No bar: the baseline has no error rate yet"
          : `Fails above the baseline's ${pct(b!.errorRate!)} + ${pct(t.minErrorRateIncrease)} = ${pct(errorBar)}, when significant (p < ${t.alpha})`,
      check: check("errors"),
    },
    {
      metric: "p99",
      title: "p99 wall time",
      times,
      canary: column(step.canary, (p) => p?.p99Ms ?? null),
      baseline: column(step.baseline, (p) => p?.p99Ms ?? null),
      threshold: p99Bar,
      thresholdLabel:
        p99Bar === null
          ? "No bar: the baseline has no p99 yet"
          : `Fails above ${ms(p99Bar)}: the baseline's ${ms(b!.p99Ms!)} × ${t.maxP99Ratio}, and at least +${t.minLatencyIncreaseMs} ms (judged on the final read)`,
      check: check("latency_p99"),
    },
  ];
  return { panels, notes, partialLast };
}

const floorMinute = (t: number) => Math.floor(t / MINUTE) * MINUTE;
export const pct = (x: number): string => `${(x * 100).toFixed(x !== 0 && x < 0.001 ? 3 : 2)}%`;
export const ms = (x: number): string => (x < 10 ? `${x.toFixed(1)} ms` : `${Math.round(x)} ms`);
const clock = (iso: string) => new Date(iso).toTimeString().slice(0, 8);
