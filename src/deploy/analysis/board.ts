// What GET /v1/releases/:id/analysis answers: each step's analysis as its gate ended it (the
// `analysisStep` of the journal's gate.passed / gate.failed entries) and, for the steps running now, the gate's latest read (memory).
import { StepAnalysisSchema, type ReleaseAnalysis, type StepAnalysis } from "../../contract/index.ts";
import type { JournalEntry } from "../../store/index.ts";
import { J } from "../journal.ts";

export type AnalysisBoard = ReturnType<typeof createAnalysisBoard>;

const keyOf = (s: Pick<StepAnalysis, "target" | "percent">) => `${s.target}\u0000${s.percent}`;

export function createAnalysisBoard() {
  const live = new Map<string, Map<string, StepAnalysis>>();
  return {
    /** The gate's latest read of a running step. */
    update(releaseId: string, step: StepAnalysis): void {
      let m = live.get(releaseId);
      if (!m) live.set(releaseId, (m = new Map()));
      m.set(keyOf(step), step);
    },
    /** The step ended (its analysis is in the journal now) or the release did. */
    drop(releaseId: string, step?: Pick<StepAnalysis, "target" | "percent">): void {
      if (!step) live.delete(releaseId);
      else live.get(releaseId)?.delete(keyOf(step));
    },
    read(release: { id: string; worker: string }, journal: JournalEntry[], enabled: boolean): ReleaseAnalysis {
      const steps: StepAnalysis[] = [];
      const seen = new Set<string>();
      for (const e of journal) {
        if (e.kind !== J.gatePassed && e.kind !== J.gateFailed) continue;
        const s = StepAnalysisSchema.safeParse(e.data.analysisStep);
        if (!s.success) continue;
        // A step that ran again (recovery) shows its newest analysis only.
        const k = keyOf(s.data);
        if (seen.has(k))
          steps.splice(
            steps.findIndex((x) => keyOf(x) === k),
            1,
          );
        seen.add(k);
        steps.push(s.data);
      }
      for (const s of live.get(release.id)?.values() ?? []) if (!seen.has(keyOf(s))) steps.push(s);
      return { releaseId: release.id, worker: release.worker, enabled, steps };
    },
  };
}
