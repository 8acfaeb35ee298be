// Release control and canary analysis on the wire (issue 15): pause, resume, promote a running
// release; what it waits for; and the canary-vs-baseline analysis of every step, per target, as the
// gate read it from the targets' invocation analytics (GraphQL workersInvocationsAdaptive). The
// dashboard draws the step series from GET /v1/releases/:id/analysis; the CLI and MCP call the
// control routes. Times are ISO 8601; latencies in ms.
import * as z from "zod";
import { lineOfText } from "./line-of-text.ts";
import { ReleaseSchema } from "./releases.ts";

/** What a human may write with a control request (kept in the audit and the events). */
export const ControlBodySchema = z.object({ reason: lineOfText(500).optional().describe("Why, for the audit and the events") }).strict();
export type ControlBody = z.infer<typeof ControlBodySchema>;

/**
 * What a running release waits for on one target, between two steps:
 *   approval  a `{pause: approve}` step: until someone promotes the release (deployer or admin)
 *   timer     a `{pause: 10m}` step: until `until` (promote ends it early)
 *   manual    the release is paused (cbo release pause): until resume
 *   data      the gate waits for analytics it cannot see yet (lag) or for enough traffic (on_inconclusive: wait)
 */
export const WAIT_KINDS = ["approval", "timer", "manual", "data"] as const;
export type WaitKind = (typeof WAIT_KINDS)[number];

export const ReleaseWaitSchema = z.object({
  target: z.string(),
  kind: z.enum(WAIT_KINDS),
  /** The traffic percentage the target serves while it waits (the step before the pause). */
  percent: z.number(),
  since: z.string(),
  /** A timer's end; a data wait's deadline (max wait); null for approval and manual. */
  until: z.string().nullable(),
});
export type ReleaseWait = z.infer<typeof ReleaseWaitSchema>;

/**
 * Where a waiting target stands, in words: "at step 50%" (`at` = "at step"), or "before its first
 * step" while it serves none of the new version yet (a pause held before the first step: its
 * `percent` is 0, which read as "at 0%" sounds like a step that ran and let no traffic through).
 */
export function waitPlace(percent: number, at = "at step"): string {
  return percent === 0 ? "before its first step" : `${at} ${Number.isInteger(percent) ? percent : percent.toFixed(1)}%`;
}

export const ReleaseControlSchema = z.object({
  releaseId: z.string(),
  /** Paused by cbo release pause: no target starts another step until resume. */
  paused: z.boolean(),
  pausedBy: z.string().nullable(),
  /** Every target waiting now, and for what (empty: none waits). */
  waiting: z.array(ReleaseWaitSchema),
});
export type ReleaseControl = z.infer<typeof ReleaseControlSchema>;

/** POST /v1/releases/:id/pause|resume|promote: the release and its control state after the request. */
export const ControlResultSchema = z.object({
  release: ReleaseSchema,
  control: ReleaseControlSchema,
  /** promote only: the targets it let go on (every one that waited for an approval or a timer). */
  promoted: z.array(z.string()).optional(),
});
export type ControlResult = z.infer<typeof ControlResultSchema>;

// ---- canary analysis ----

export const ANALYSIS_VERDICTS = ["pass", "fail", "inconclusive", "pending"] as const;
export type AnalysisVerdict = (typeof ANALYSIS_VERDICTS)[number];

/** One minute of one version's invocations (Cloudflare's `errors`: exceptions, exceeded limits, internal errors). */
export const AnalysisPointSchema = z.object({
  minute: z.string(),
  requests: z.number(),
  errors: z.number(),
  errorRate: z.number().nullable(),
  p50Ms: z.number().nullable(),
  p99Ms: z.number().nullable(),
});
export type AnalysisPoint = z.infer<typeof AnalysisPointSchema>;

/** One version over the window the gate judged: totals (quantiles over the whole window) and its minutes. */
export const VersionWindowSchema = z.object({
  versionId: z.string(),
  /** The window [from, to) read; `to` is the newest instant the analytics show (now minus the lag). */
  from: z.string(),
  to: z.string(),
  requests: z.number(),
  errors: z.number(),
  errorRate: z.number().nullable(),
  p50Ms: z.number().nullable(),
  p99Ms: z.number().nullable(),
  series: z.array(AnalysisPointSchema),
});
export type VersionWindow = z.infer<typeof VersionWindowSchema>;

/** The configured rules the verdict applies (orchestrator.yaml `rollout.analysis`, defaults filled in). */
export const AnalysisThresholdsSchema = z.object({
  alpha: z.number(),
  minRequests: z.number().int(),
  minErrorRateIncrease: z.number(),
  maxP50Ratio: z.number(),
  maxP99Ratio: z.number(),
  minLatencyIncreaseMs: z.number(),
  onInconclusive: z.enum(["wait", "pass", "fail"]),
  maxWaitMs: z.number().int(),
  lagSec: z.number(),
});
export type AnalysisThresholds = z.infer<typeof AnalysisThresholdsSchema>;

export const ANALYSIS_RULES = ["errors", "latency_p50", "latency_p99"] as const;

/** One rule's outcome, with its numbers. */
export const AnalysisCheckSchema = z.object({
  rule: z.enum(ANALYSIS_RULES),
  verdict: z.enum(["pass", "fail", "inconclusive"]),
  detail: z.string(),
  /** errors: the one-sided two-proportion z statistic and its p-value. */
  z: z.number().optional(),
  pValue: z.number().optional(),
  /** latency: canary ÷ baseline. */
  ratio: z.number().optional(),
});
export type AnalysisCheck = z.infer<typeof AnalysisCheckSchema>;

/** The analysis of one step of one target: live while the step runs, final once its gate decided. */
export const StepAnalysisSchema = z.object({
  target: z.string(),
  percent: z.number(),
  versionId: z.string(),
  /** The version it is compared with (the previous one); null on a first deploy (nothing to compare: skipped). */
  baselineVersionId: z.string().nullable(),
  /** `running` while the gate reads; the gate's outcome after. */
  state: z.enum(["running", "passed", "failed", "stopped"]),
  verdict: z.enum(ANALYSIS_VERDICTS),
  reason: z.string(),
  canary: VersionWindowSchema.nullable(),
  baseline: VersionWindowSchema.nullable(),
  thresholds: AnalysisThresholdsSchema,
  checks: z.array(AnalysisCheckSchema),
  updatedAt: z.string(),
});
export type StepAnalysis = z.infer<typeof StepAnalysisSchema>;

/** GET /v1/releases/:id/analysis: every step analysed so far, in the order they ran. */
export const ReleaseAnalysisSchema = z.object({
  releaseId: z.string(),
  worker: z.string(),
  /** Whether analysis is on for this release (rollout.analysis.enabled). */
  enabled: z.boolean(),
  steps: z.array(StepAnalysisSchema),
});
export type ReleaseAnalysis = z.infer<typeof ReleaseAnalysisSchema>;

/** The compact verdict a gate's journal entry and release.step.passed/failed carry (`analysis`). */
export const AnalysisSummarySchema = z.looseObject({
  verdict: z.enum(ANALYSIS_VERDICTS),
  reason: z.string(),
  canary: z
    .looseObject({ requests: z.number(), errors: z.number(), p50Ms: z.number().nullable(), p99Ms: z.number().nullable() })
    .nullable(),
  baseline: z
    .looseObject({ requests: z.number(), errors: z.number(), p50Ms: z.number().nullable(), p99Ms: z.number().nullable() })
    .nullable(),
  checks: z.array(AnalysisCheckSchema),
});
export type AnalysisSummary = z.infer<typeof AnalysisSummarySchema>;
