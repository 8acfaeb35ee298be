// What each target of a worker should serve, derived from the store alone (never from memory):
// the newest finished release or rollback that decided something about the target, read from its
// write-ahead journal. Pure, so that the rule is unit-tested on its own.
//
// Per record (newest first), per target, the journal says what the target was left on:
//   succeeded release         its uploaded version at 100% (the 100% step deployed)
//   rolled_back / aborted     the version it served before, at 100% (rollback.done)
//   failed                    whatever the last completed edge call left there: a rollback's
//                             version, a step's split, the first upload; "uncertain" when the
//                             last call's outcome was never recorded (rollback failed or still
//                             owed, intent only)
//   rollback (kind)           each planned target's version at 100% (rollback.done)
//   recovery after a restart  what the `recovered` entry says each target serves
// A target the record never changed (untouched by a release stopped early, skipped by a rollback)
// is decided by an older record; one no record changed has no desired state at all.
import * as z from "zod";
import type { J as DeployJournal } from "../deploy/journal.ts";
import { TERMINAL } from "../store/releases.ts";
import type { JournalEntry, Release } from "../store/index.ts";

export type Split = Array<{ versionId: string; percentage: number }>;
export type DesiredSource = { releaseId: string; kind: Release["kind"]; status: Release["status"] };
export type DesiredTarget = { state: "known"; split: Split; source: DesiredSource } | { state: "uncertain"; why: string; source: DesiredSource };

// The journal kinds the engine writes (src/deploy/journal.ts). The monitor may not import the
// engine at run time, so they are spelt out here, typed against the engine's own table: a kind
// renamed or added there fails the type check here.
const J: typeof DeployJournal = {
  uploadIntent: "upload.intent",
  uploaded: "uploaded",
  stepIntent: "step.intent",
  stepDeployed: "step.deployed",
  gatePassed: "gate.passed",
  gateFailed: "gate.failed",
  targetFailed: "target.failed",
  rollbackIntent: "rollback.intent",
  rollbackDone: "rollback.done",
  rollbackFailed: "rollback.failed",
  restoreOwed: "restore.owed",
  recovered: "recovered",
  finished: "finished",
};

// Journal data is JSON read back from SQLite: checked here, and an entry that does not parse
// leaves the target uncertain rather than guessed.
const SplitSchema = z.array(z.object({ versionId: z.string(), percentage: z.number() })).min(1);
const VersionData = z.looseObject({ versionId: z.string() });
const UploadedData = z.looseObject({ versionId: z.string(), previousVersionId: z.string().nullish(), created: z.boolean().optional() });
const StepIntentData = z.looseObject({ split: SplitSchema, percent: z.number().optional() });
const RecoveredData = z.looseObject({
  targets: z.array(z.looseObject({ target: z.string(), action: z.string(), serving: z.string().nullable() })).default([]),
  failures: z.array(z.looseObject({ target: z.string(), error: z.string() })).default([]),
});

type Left = { split: Split } | { uncertain: string };

const short = (id: string) => id.slice(0, 8);

/** What one record's journal left each target it changed on. */
export function leftOn(entries: JournalEntry[]): Map<string, Left> {
  const out = new Map<string, Left>();
  const pending = new Map<string, Split>();
  for (const e of [...entries].sort((a, b) => a.seq - b.seq)) {
    if (e.kind === J.recovered) {
      const r = RecoveredData.safeParse(e.data);
      if (!r.success) continue;
      for (const t of r.data.targets) if (t.action !== "untouched" && t.serving) out.set(t.target, { split: [{ versionId: t.serving, percentage: 100 }] });
      for (const f of r.data.failures) out.set(f.target, { uncertain: `recovery could not set it: ${f.error}` });
      continue;
    }
    if (e.target === null) continue;
    const t = e.target;
    switch (e.kind) {
      case J.uploaded: {
        // A first upload (nothing served before) creates the script and serves it at once.
        const d = UploadedData.safeParse(e.data);
        if (d.success && (d.data.created === true || d.data.previousVersionId === null)) out.set(t, { split: [{ versionId: d.data.versionId, percentage: 100 }] });
        break;
      }
      case J.stepIntent: {
        const d = StepIntentData.safeParse(e.data);
        if (d.success) pending.set(t, d.data.split);
        out.set(t, { uncertain: `a deployment${d.success && d.data.percent !== undefined ? ` of the ${d.data.percent}% step` : ""} was sent and its outcome never recorded` });
        break;
      }
      case J.stepDeployed: {
        const split = pending.get(t);
        out.set(t, split ? { split } : { uncertain: "a step was deployed whose split the journal does not hold" });
        break;
      }
      case J.rollbackIntent: {
        const d = VersionData.safeParse(e.data);
        out.set(t, { uncertain: `a rollback${d.success ? ` to ${short(d.data.versionId)}` : ""} was sent and its outcome never recorded` });
        break;
      }
      case J.rollbackDone: {
        const d = VersionData.safeParse(e.data);
        out.set(t, d.success ? { split: [{ versionId: d.data.versionId, percentage: 100 }] } : { uncertain: "a rollback finished whose version the journal does not hold" });
        break;
      }
      case J.rollbackFailed: {
        const d = VersionData.safeParse(e.data);
        out.set(t, { uncertain: `the rollback${d.success ? ` to ${short(d.data.versionId)}` : ""} failed` });
        break;
      }
      case J.restoreOwed: {
        // Owed restores keep their release unfinished; a finished one that still ends on this
        // entry (an older build's, or one edited by hand) left the target unknown.
        const d = VersionData.safeParse(e.data);
        out.set(t, { uncertain: `a restore${d.success ? ` to ${short(d.data.versionId)}` : ""} was still pending` });
        break;
      }
    }
  }
  return out;
}

/**
 * Desired state per target from a worker's records, newest first (store.releases.list order).
 * Unfinished records are skipped: while one exists the caller gives no verdict at all. `entries`
 * is called for as few records as it takes to decide every target in `targets`.
 */
export function desiredState(records: Release[], entries: (releaseId: string) => JournalEntry[], targets: readonly string[]): Map<string, DesiredTarget> {
  const out = new Map<string, DesiredTarget>();
  for (const r of records) {
    if (targets.every((t) => out.has(t))) break;
    if (!TERMINAL.has(r.status)) continue;
    const source: DesiredSource = { releaseId: r.id, kind: r.kind, status: r.status };
    for (const [target, left] of leftOn(entries(r.id))) {
      if (out.has(target) || !targets.includes(target)) continue;
      const what = `${r.kind} ${r.id} (${r.status})`;
      out.set(target, "split" in left ? { state: "known", split: left.split, source } : { state: "uncertain", why: `${what} left it unknown: ${left.uncertain}`, source });
    }
  }
  return out;
}
