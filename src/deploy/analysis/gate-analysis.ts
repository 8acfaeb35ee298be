// Wires a step's canary analysis into its gate (apply.ts): the analyzer over the target's
// analytics, its live reads on the analysis board (GET /v1/releases/:id/analysis), the `data`
// wait on the control board, and what the journal and the events keep of it when the gate ends.
import type { AnalysisSummary, StepAnalysis } from "../../contract/index.ts";
import type { TargetRuntime } from "../../targets/types.ts";
import type { ApplyContext } from "../apply-context.ts";
import type { GateAnalysis } from "../gate-probes.ts";
import type { AnalyzerRead } from "./step-analyzer.ts";
import { createStepAnalyzer } from "./step-analyzer.ts";

/** Cloudflare's analytics lag when the spec says nothing (README "Canary analysis data"); the local edge has none. */
export const CLOUDFLARE_LAG_SEC = 300;

export function gateAnalysis(
  ctx: ApplyContext,
  at: { target: string; runtime: TargetRuntime; percent: number; versionId: string; previousVersionId: string | null; stepStart: number },
): GateAnalysis | undefined {
  const spec = ctx.plan.analysis;
  // A first deploy has no baseline: nothing to compare with.
  if (!spec?.enabled || at.previousVersionId === null) return undefined;
  const api = ctx.spec?.targets.find((t) => t.name === at.target)?.api;
  const lagSec = spec.lag_sec ?? (api === undefined || api === "local" ? 0 : CLOUDFLARE_LAG_SEC);
  const releaseId = ctx.release.id;
  const analyzer = createStepAnalyzer({
    read: (windows) => at.runtime.client.workersInvocationsOfVersions({ script: ctx.worker.name, windows }),
    spec,
    lagSec,
    target: at.target,
    percent: at.percent,
    versionId: at.versionId,
    baselineVersionId: at.previousVersionId,
    stepStart: at.stepStart,
    bakeMs: ctx.plan.gate.bake_ms,
    onRead: (step) => ctx.analyses?.update(releaseId, step),
  });
  return {
    analyzer,
    spec,
    onDataWait: (until) => ctx.control?.dataWait(releaseId, at.target, at.percent, until) ?? (() => {}),
  };
}

/** The step's analysis as the gate ended it (journal `analysis`), and its summary (gate entry, events). */
export function analysisOutcome(read: AnalyzerRead, passed: boolean): { step: StepAnalysis; summary: AnalysisSummary } {
  const step: StepAnalysis = { ...read.step, state: passed ? "passed" : "failed", updatedAt: new Date().toISOString() };
  const brief = (w: StepAnalysis["canary"]) => (w ? { requests: w.requests, errors: w.errors, p50Ms: w.p50Ms, p99Ms: w.p99Ms } : null);
  return {
    step,
    summary: {
      verdict: step.verdict,
      reason: step.reason,
      canary: brief(step.canary),
      baseline: brief(step.baseline),
      checks: step.checks,
    },
  };
}
