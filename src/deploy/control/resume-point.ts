// Can a release the daemon stopped during a wait go on after the restart, and from where? Pure:
// recover.ts gives it the journal and the waits the events show open. A release goes on only when
// a target waited (an approval, a timed pause, the release's pause) and every target stands at a
// clean place the journal fully records:
//   not begun     (no entry at all)                        ──> released from the start
//   between steps (uploaded; its newest step deployed and its gate passed, or no step yet)
//                                                           ──> goes on after that step
//   done          (100% passed, script settings written or none to write) ──> nothing left
// Anything else (a step deployed whose gate had no verdict, an upload or phase in flight, a gate
// failed, a rollback begun) cannot be picked up: the journal does not say what the edge did, so
// the release is rolled back as before.
import type { JournalEntry } from "../../store/index.ts";
import { J, replay } from "../journal.ts";

export type ResumePoint = {
  versionId: string;
  previousVersionId: string | null;
  /** The percentage of its newest step whose gate passed (0: uploaded, no step yet). */
  after: number;
  /** The upload was the script PUT (it serves the new version at once). */
  put: boolean;
  migrated?: { oldTag: string | null; newTag: string };
  /** Script settings already written at 100% (nothing left on this target). */
  settled: boolean;
};

export type ResumeDecision = { ok: true; points: Map<string, ResumePoint> } | { ok: false; why: string };

/** `targets`: the plan's targets; `waited`: the open waits the events show (approval, timer, manual). */
export function resumePoints(targets: readonly string[], entries: JournalEntry[], waited: number): ResumeDecision {
  if (waited === 0) return { ok: false, why: "no target was waiting" };
  const journal = replay(entries);
  const points = new Map<string, ResumePoint>();
  for (const name of targets) {
    const mine = entries.filter((e) => e.target === name).sort((a, b) => a.seq - b.seq);
    if (mine.length === 0) continue;
    const t = journal.get(name)!;
    const stuck = (what: string): ResumeDecision => ({ ok: false, why: `${name} ${what}` });
    if (t.gateFailed || t.rollbackIntent || mine.some((e) => e.kind === J.targetFailed)) return stuck("had stopped");
    if (!t.versionId || !mine.some((e) => e.kind === J.uploaded)) return stuck("was not uploaded yet");
    const intents = mine.filter((e) => e.kind === J.stepIntent);
    const last = intents.at(-1);
    const lastPercent = last ? Number((last.data as { percent?: unknown }).percent) : 0;
    if (last && !t.passed.includes(lastPercent)) return stuck(`had its ${lastPercent}% step under way`);
    const settings = t.phases.settings;
    if (settings && !settings.done) return stuck("was writing its script settings");
    if (Object.entries(t.phases).some(([phase, p]) => phase.startsWith("d1-contract") && !p.done))
      return stuck("was in its contract migrations");
    const upload = mine.findLast((e) => e.kind === J.uploaded)!.data as { put?: unknown; migration?: unknown };
    const migration = upload.migration as { oldTag?: string | null; newTag?: string } | undefined;
    points.set(name, {
      versionId: t.versionId,
      previousVersionId: t.previousVersionId ?? null,
      after: lastPercent,
      put: upload.put === true,
      ...(migration?.newTag ? { migrated: { oldTag: migration.oldTag ?? null, newTag: migration.newTag } } : {}),
      settled: settings?.done !== undefined,
    });
  }
  return { ok: true, points };
}
