// The write-ahead journal of a release, and the only module that interprets it: the kinds of entry
// apply writes (intent before each edge call, outcome after); a pure replay that folds them into
// what each target went through (recovery and rollback decide from it, so it must read any prefix
// a kill -9 can leave); and the fold of finished records into what each target should serve now
// (the drift checker's desired state).
import * as z from "zod";
import { TERMINAL_STATUSES } from "../contract/index.ts";
import type { JournalEntry, Release } from "../store/index.ts";
import type { Split } from "../targets/types.ts";

export const J = {
  // A phase of a target's release that writes to the edge besides the upload and the steps
  // (target-phases.ts): resources, d1-migrations, assets, settings, settings-restore.
  phaseIntent: "phase.intent", // {phase, …what it is about to do}
  phaseDone: "phase.done", // {phase, …what it did}
  // One D1 migration file of a d1-migrations (expand) or d1-contract phase (d1-phase.ts): written
  // before the request that applies it and after its answer. Its SQL and its row in the migrations
  // table go in one transaction, so after a crash the table alone says whether it landed.
  d1Intent: "d1.intent", // {phase, database, databaseId, table, name, breaksRollback?}
  d1Applied: "d1.applied", // {phase, database, name, recovery?, confirmed?: "table" (its answer lost, the table holds it)}
  d1Failed: "d1.failed", // {phase, database, name, statement?, error}
  // `put`: the script PUT (a first deploy, or Durable Object migrations), which serves the new
  // version at 100% as soon as it lands; `migration` {oldTag, newTag} when it carries one.
  uploadIntent: "upload.intent", // {previousVersionId, bundleHash, put, migration?}
  uploaded: "uploaded", // {versionId, previousVersionId, created, put, migration?}
  stepIntent: "step.intent", // {percent, versionId, previousVersionId, split}
  stepDeployed: "step.deployed", // {percent, versionId}
  // analysis: the canary analysis' summary; analysisStep: the whole of it (contract StepAnalysis:
  // both versions' windows and minutes, thresholds, checks), when the step was analysed.
  gatePassed: "gate.passed", // {percent, versionId, samples, failures, errorRate, reason, analysis?, analysisStep?}
  gateFailed: "gate.failed", // same
  targetFailed: "target.failed", // {stage, error}
  rollbackIntent: "rollback.intent", // {versionId, from}
  rollbackDone: "rollback.done", // {versionId, note?}
  rollbackFailed: "rollback.failed", // {versionId, error}
  restoreOwed: "restore.owed", // {versionId, error}: could not be put back yet; retried until it is
  recovered: "recovered", // {targets}
  // A release the daemon stopped while it waited, going on after the restart (resume.ts): where
  // each target it had begun stood. Apply then journals from there as always.
  resumed: "resumed", // {targets: [{target, after, versionId}]}
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
  /** The upload was the script PUT: it serves the new version at 100% once it lands. */
  put: boolean;
  /** The upload carried Durable Object migrations: no deployment can go back past them. */
  migrated: boolean;
  /** The migration tag that upload moves the script to (its intent's newTag). */
  migrationTag?: string;
  /** Per phase (target-phases.ts), the data of its last intent and of its outcome after that intent. */
  phases: Record<string, { intent: Record<string, unknown>; done?: Record<string, unknown> }>;
};

/** Per target and database, what its D1 phases recorded (d1-phase.ts writes it; recovery and `cbo d1 restore` read it). */
export type D1Replay = {
  target: string;
  database: string;
  databaseId: string;
  table: string;
  /** The Time Travel bookmark taken before the first migration of the release there. */
  bookmark: string | null;
  /** When the bookmark was taken (the journal entry's time). */
  bookmarkAt: string | null;
  /** Files whose apply request was sent, in order (some may not have landed). */
  sent: string[];
  /** The phase each sent file belongs to (d1-migrations or d1-contract). */
  phaseOf: Record<string, string>;
  /** Files whose apply was answered with success. */
  applied: string[];
  /** Files marked `-- cbo:breaks-rollback` (code from before them cannot run on their schema). */
  breaksRollback: string[];
  failed?: { name: string; statement?: string; error: string };
  /** Phases (d1-migrations, d1-contract) begun, and those finished. */
  begun: string[];
  finished: string[];
};

const D1PhaseData = z.looseObject({
  phase: z.string(),
  database: z.string(),
  databaseId: z.string().optional(),
  table: z.string().optional(),
  bookmark: z.string().optional(),
});
const D1FileData = z.looseObject({
  phase: z.string().optional(),
  database: z.string(),
  name: z.string(),
  statement: z.string().optional(),
  error: z.string().optional(),
});

export function d1Replay(entries: JournalEntry[]): D1Replay[] {
  const out = new Map<string, D1Replay>();
  const of = (target: string, database: string): D1Replay => {
    const key = `${target}\0${database}`;
    let r = out.get(key);
    if (!r) {
      r = {
        target,
        database,
        databaseId: "",
        table: "",
        bookmark: null,
        bookmarkAt: null,
        sent: [],
        phaseOf: {},
        applied: [],
        breaksRollback: [],
        begun: [],
        finished: [],
      };
      out.set(key, r);
    }
    return r;
  };
  for (const e of [...entries].sort((a, b) => a.seq - b.seq)) {
    if (e.target === null) continue;
    if (e.kind === J.phaseIntent || e.kind === J.phaseDone) {
      const d = D1PhaseData.safeParse(e.data);
      if (!d.success || !d.data.phase.startsWith("d1-")) continue;
      const r = of(e.target, d.data.database);
      if (e.kind === J.phaseDone) {
        r.finished.push(d.data.phase);
        continue;
      }
      r.begun.push(d.data.phase);
      if (d.data.databaseId) r.databaseId = d.data.databaseId;
      if (d.data.table) r.table = d.data.table;
      // The first bookmark of the release is what an undo of the whole release restores to.
      if (d.data.bookmark && r.bookmark === null) {
        r.bookmark = d.data.bookmark;
        r.bookmarkAt = e.at;
      }
      continue;
    }
    if (e.kind !== J.d1Intent && e.kind !== J.d1Applied && e.kind !== J.d1Failed) continue;
    const d = D1FileData.safeParse(e.data);
    if (!d.success) continue;
    const r = of(e.target, d.data.database);
    if (e.kind === J.d1Intent) {
      r.sent.push(d.data.name);
      if (d.data.phase) r.phaseOf[d.data.name] = d.data.phase;
      if (d.data.breaksRollback === true) r.breaksRollback.push(d.data.name);
    } else if (e.kind === J.d1Applied) r.applied.push(d.data.name);
    else r.failed = { name: d.data.name, error: d.data.error ?? "", ...(d.data.statement ? { statement: d.data.statement } : {}) };
  }
  return [...out.values()];
}

export function replay(entries: JournalEntry[]): Map<string, TargetReplay> {
  const out = new Map<string, TargetReplay>();
  const of = (target: string): TargetReplay => {
    let t = out.get(target);
    if (!t) {
      t = {
        target,
        previousVersionId: undefined,
        versionId: null,
        uploadIntent: false,
        stepIntent: false,
        passed: [],
        gateFailed: false,
        rollbackIntent: false,
        rollbackDone: false,
        rolledBackTo: null,
        put: false,
        migrated: false,
        phases: {},
      };
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
        if (d.put === true) t.put = true;
        if (d.migration) {
          t.migrated = true;
          const tag = (d.migration as { newTag?: unknown }).newTag;
          if (typeof tag === "string") t.migrationTag = tag;
        }
        break;
      case J.phaseIntent:
        if (typeof d.phase === "string") t.phases[d.phase] = { intent: d };
        break;
      case J.phaseDone:
        if (typeof d.phase === "string" && t.phases[d.phase]) t.phases[d.phase]!.done = d;
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
  return t.stepIntent || (t.uploadIntent && (t.previousVersionId === null || t.put));
}

// ---------------------------------------------------------------------------------------------
// What each target of a worker should serve (the drift checker's desired state), derived from the
// store alone (never from memory): the newest finished release or rollback that decided something
// about the target, read from its journal. Pure, so that the rule is unit-tested on its own.
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

export type DesiredSource = { releaseId: string; kind: Release["kind"]; status: Release["status"] };
export type DesiredTarget =
  | { state: "known"; split: Split; source: DesiredSource }
  | { state: "uncertain"; why: string; source: DesiredSource };

// Journal data is JSON read back from SQLite: checked here, and an entry that does not parse
// leaves the target uncertain rather than guessed.
const SplitSchema = z.array(z.object({ versionId: z.string(), percentage: z.number() })).min(1);
const VersionData = z.looseObject({ versionId: z.string() });
const UploadedData = z.looseObject({
  versionId: z.string(),
  previousVersionId: z.string().nullish(),
  created: z.boolean().optional(),
  put: z.boolean().optional(),
});
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
      for (const t of r.data.targets)
        if (t.action !== "untouched" && t.serving) out.set(t.target, { split: [{ versionId: t.serving, percentage: 100 }] });
      for (const f of r.data.failures) out.set(f.target, { uncertain: `recovery could not set it: ${f.error}` });
      continue;
    }
    if (e.target === null) continue;
    const t = e.target;
    switch (e.kind) {
      case J.uploaded: {
        // A first upload (nothing served before) creates the script and serves it at once, and so
        // does any script PUT (Durable Object migrations).
        const d = UploadedData.safeParse(e.data);
        if (d.success && (d.data.created === true || d.data.put === true || d.data.previousVersionId === null))
          out.set(t, { split: [{ versionId: d.data.versionId, percentage: 100 }] });
        break;
      }
      case J.stepIntent: {
        const d = StepIntentData.safeParse(e.data);
        if (d.success) pending.set(t, d.data.split);
        out.set(t, {
          uncertain: `a deployment${d.success && d.data.percent !== undefined ? ` of the ${d.data.percent}% step` : ""} was sent and its outcome never recorded`,
        });
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
        out.set(
          t,
          d.success
            ? { split: [{ versionId: d.data.versionId, percentage: 100 }] }
            : { uncertain: "a rollback finished whose version the journal does not hold" },
        );
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
export function desiredState(
  records: Release[],
  entries: (releaseId: string) => JournalEntry[],
  targets: readonly string[],
): Map<string, DesiredTarget> {
  const out = new Map<string, DesiredTarget>();
  for (const r of records) {
    if (targets.every((t) => out.has(t))) break;
    if (!TERMINAL_STATUSES.has(r.status)) continue;
    const source: DesiredSource = { releaseId: r.id, kind: r.kind, status: r.status };
    for (const [target, left] of leftOn(entries(r.id))) {
      if (out.has(target) || !targets.includes(target)) continue;
      const what = `${r.kind} ${r.id} (${r.status})`;
      out.set(
        target,
        "split" in left
          ? { state: "known", split: left.split, source }
          : { state: "uncertain", why: `${what} left it unknown: ${left.uncertain}`, source },
      );
    }
  }
  return out;
}
