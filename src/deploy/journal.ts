// The write-ahead journal of a release: the kinds of entry apply writes (intent before each edge
// call, outcome after), and a pure replay that folds them into what each target went through.
// Recovery and rollback decide from the replay, so it must read any prefix a kill -9 can leave.
import type { JournalEntry } from "../store/index.ts";

export const J = {
  uploadIntent: "upload.intent", // {previousVersionId}
  uploaded: "uploaded", // {versionId, previousVersionId, created}
  stepIntent: "step.intent", // {percent, versionId, previousVersionId, split}
  stepDeployed: "step.deployed", // {percent, versionId}
  gatePassed: "gate.passed", // {percent, versionId, samples, failures, errorRate, reason}
  gateFailed: "gate.failed", // same
  targetFailed: "target.failed", // {stage, error}
  rollbackIntent: "rollback.intent", // {versionId, from}
  rollbackDone: "rollback.done", // {versionId, note?}
  rollbackFailed: "rollback.failed", // {versionId, error}
  restoreOwed: "restore.owed", // {versionId, error}: could not be put back yet; retried until it is
  recovered: "recovered", // {targets}
  finished: "finished", // {status, reason}
} as const;

export type TargetReplay = {
  target: string;
  /** undefined until an upload intent recorded what served before. */
  previousVersionId: string | null | undefined;
  /** The uploaded version, once known. */
  versionId: string | null;
  uploadIntent: boolean;
  /** A deployment including the new version may have reached the edge. */
  stepIntent: boolean;
  /** Percentages whose gate passed, in order. */
  passed: number[];
  gateFailed: boolean;
  rollbackIntent: boolean;
  rollbackDone: boolean;
  /** What the last completed rollback deployed. */
  rolledBackTo: string | null;
};

export function replay(entries: JournalEntry[]): Map<string, TargetReplay> {
  const out = new Map<string, TargetReplay>();
  const of = (target: string): TargetReplay => {
    let t = out.get(target);
    if (!t) {
      t = { target, previousVersionId: undefined, versionId: null, uploadIntent: false, stepIntent: false, passed: [], gateFailed: false, rollbackIntent: false, rollbackDone: false, rolledBackTo: null };
      out.set(target, t);
    }
    return t;
  };
  for (const e of [...entries].sort((a, b) => a.seq - b.seq)) {
    if (e.target === null) continue;
    const t = of(e.target);
    const d = e.data as Record<string, unknown>;
    const prev = d.previousVersionId;
    switch (e.kind) {
      case J.uploadIntent:
        t.uploadIntent = true;
        if (prev === null || typeof prev === "string") t.previousVersionId = prev;
        break;
      case J.uploaded:
      case J.stepIntent:
        if (typeof d.versionId === "string") t.versionId = d.versionId;
        if (prev === null || typeof prev === "string") t.previousVersionId = prev;
        if (e.kind === J.stepIntent) t.stepIntent = true;
        break;
      case J.gatePassed:
        if (typeof d.percent === "number") t.passed.push(d.percent);
        break;
      case J.gateFailed:
        t.gateFailed = true;
        break;
      case J.rollbackIntent:
        t.rollbackIntent = true;
        t.rollbackDone = false;
        break;
      case J.rollbackDone:
        t.rollbackDone = true;
        t.rolledBackTo = typeof d.versionId === "string" ? d.versionId : null;
        break;
    }
  }
  return out;
}

/**
 * Did the release change what this target serves? Once a step's deployment may have been sent,
 * yes; and a first upload (no previous version) creates the script and serves it at once.
 */
export function touched(t: TargetReplay): boolean {
  return t.stepIntent || (t.uploadIntent && t.previousVersionId === null);
}
