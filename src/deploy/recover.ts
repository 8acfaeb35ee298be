// Recovery at start: every release the journal shows unfinished is brought to a state the edge
// agrees with. Level-based: for each target it reads what the edge serves now, compares it with
// what the journal says it should serve, and writes only the difference.
//
//   release, every target passed its 100% gate and the edge confirms the new version ──> succeeded
//            (script settings the crash left unwritten are written first: read, compare, write;
//            then the D1 contract migrations left pending are run, each only while it is the file
//            the plan read, d1-contract-recover.ts; one D1 refuses ──> failed, as in the release)
//   release, otherwise: each touched target back on its previous version (a first deploy keeps
//            the one version it has, and so does a target a Durable Object migration reached),
//            with the script settings the release had begun to change put back
//            ──> rolled_back, reason naming what every target serves; failed when a target kept
//            the new code (a Durable Object migration, a first deploy), as a release's own rollback
//   rollback (kind) ──> finished: each target to its planned version ──> succeeded
//   a target that cannot be read or written yet (its region out, a full disk) ──> owed: retried
//            with backoff until it lands (owed.ts), the release unfinished meanwhile; the engine
//            stops waiting for it at start (onOwed) and it goes on in the background
//   a target the edge refuses for good ──> failed, reason naming it
import type { BackoffOptions } from "../kit/backoff.ts";
import type { Release, Store } from "../store/index.ts";
import { J, replay, touched, type TargetReplay } from "./journal.ts";
import { readDeployment, servesOnly } from "../targets/live-read.ts";
import { finishRecorded, untilRestored, type OwedContext, type RestoreBoard } from "./owed.ts";
import { previousVersionOf } from "./plan.ts";
import { createRecorder, describeError } from "./record.ts";
import { restoreTarget } from "./restore-target.ts";
import { applyRollback } from "./rollback.ts";
import { pick, restoreSettings } from "./target-phases.ts";
import type { ReleasePlan } from "./types.ts";
import type { Recorder } from "./record.ts";
import { changedKeys, managedKeys, readState, writeState, type ScriptState, type SettingKey } from "../targets/script-state.ts";
import { releasePlanOf, rollbackPlanOf } from "./stored.ts";
import { describeD1Recovery, recoverD1 } from "./d1-recover.ts";
import { migrationLanded } from "./migration-landed.ts";
import { describeContractRecovery, finishContract } from "./d1-contract-recover.ts";
import type { ResolvedWorker } from "../config/load.ts";
import type { TargetPlace } from "./observe.ts";
import type { TargetRuntime } from "../targets/types.ts";
import type { Logger } from "../telemetry/index.ts";
import { openWaits, restartDuringWait } from "./control/interrupted-waits.ts";

const RESTART = "daemon restarted during the release";
const NOT_READ = "not read: ";

type Outcome = {
  target: string;
  action: "untouched" | "kept" | "rolled_back" | "already" | "completed";
  serving: string | null;
  note?: string;
};
type Failure = { target: string; error: string };

export type RecoverContext = {
  store: Store;
  release: Release;
  runtimes: Map<string, TargetRuntime>;
  log: Logger;
  board: RestoreBoard;
  halt: AbortSignal;
  backoff?: BackoffOptions;
  /** Called when a target's restore did not land at once and goes on being retried. */
  onOwed?: () => void;
  /** The release's worker as the spec declares it now: its D1 contract files are read again to finish that phase. */
  worker?: ResolvedWorker | undefined;
  /** Paths no file read may reach (the daemon's data, key files). */
  protect?: string[];
  /** A target's jurisdiction, to find its D1 database as the release placed it. */
  place?: (target: string) => TargetPlace;
  /** The release waited when the daemon stopped, and could not go on (resume.ts): why. */
  cannotResume?: string;
};

export async function recoverRelease(ctx: RecoverContext): Promise<Release> {
  const { store, release, runtimes } = ctx;
  const rec = createRecorder(store, release, ctx.log);
  if (release.kind === "rollback") {
    return applyRollback({
      rec,
      plan: rollbackPlanOf(release),
      runtimes,
      checkFirst: true,
      prefix: "daemon restarted during the rollback; completed",
      halt: ctx.halt,
      read: () => store.releases.get(release.id)!,
    });
  }
  const plan = releasePlanOf(release);
  const entries = store.releases.entries(release.id);
  const journal = replay(entries);
  // A D1 phase the kill interrupted: its tables read, the journal brought into agreement with them.
  const d1 = await recoverD1(rec, entries, runtimes);
  const d1Note = d1.length > 0 ? `; ${describeD1Recovery(d1)}` : "";
  const state = (name: string): TargetReplay | undefined => journal.get(name);
  const owed: OwedContext = {
    rec,
    release,
    board: ctx.board,
    halt: ctx.halt,
    ...(ctx.backoff ? { backoff: ctx.backoff } : {}),
    ...(ctx.onOwed ? { onOwed: ctx.onOwed } : {}),
  };
  const read = () => store.releases.get(release.id)!;
  const readLive = async (name: string) => {
    const runtime = runtimes.get(name);
    if (!runtime) throw new Error(`target ${name} is no longer configured`);
    return readDeployment(runtime, plan.worker);
  };

  // Resume to success only when nothing is left to do: every gate passed and the edge agrees.
  // A target that cannot be read now leaves it unconfirmed: the release is rolled back instead.
  const passed = release.status === "running" && plan.targets.every((t) => state(t.name)?.versionId && state(t.name)!.passed.includes(100));
  if (passed) {
    const live = await Promise.all(plan.targets.map((t) => readLive(t.name).catch(() => undefined)));
    if (live.every((now, i) => now !== undefined && servesOnly(now, state(plan.targets[i]!.name)!.versionId!))) {
      // Every target serves the new version: the script settings the crash may have left unwritten
      // are written now (level-based: read, compare, write the difference).
      await Promise.all(
        plan.targets.map((t) =>
          state(t.name)?.phases.settings?.done ? undefined : completeSettings(rec, plan.worker, t, runtimes.get(t.name)),
        ),
      );
      const outcomes: Outcome[] = plan.targets.map((t) => ({ target: t.name, action: "completed", serving: state(t.name)!.versionId }));
      // The contract phase the release had left (cut short, or not begun): finished now.
      const contract = await finishContract(rec, plan, entries, {
        worker: ctx.worker,
        runtimes,
        protect: ctx.protect ?? [],
        place: ctx.place ?? ((name) => ({ name })),
      });
      const contractNote = describeContractRecovery(contract, plan.worker);
      const serving = `daemon restarted after every step had passed; ${outcomes.map((o) => `${o.target} serves ${o.serving}`).join(", ")}`;
      const d1Said = d1.length > 0 ? `; ${describeD1Recovery(d1, { finishing: true })}` : "";
      const status = contract.failed ? "failed" : "succeeded";
      const reason = contract.failed
        ? `${serving}${d1Said}; ${contract.failed}`
        : `${serving}${d1Said}${contractNote ? `; ${contractNote}` : ""}`;
      const journaled = {
        status,
        targets: outcomes,
        ...(d1.length > 0 ? { d1 } : {}),
        ...(contract.applied.length + contract.held.length > 0 || contract.failed ? { contract } : {}),
      };
      return finishRecorded(
        owed,
        {
          status,
          reason,
          first: () => rec.journal(J.recovered, null, journaled),
          events: [
            ["release.recovered", { status, reason, targets: outcomes }],
            contract.failed
              ? ["release.failed", { reason, recovered: true }]
              : ["release.succeeded", { versions: Object.fromEntries(outcomes.map((o) => [o.target, o.serving])), recovered: true }],
          ],
        },
        read,
      );
    }
  }

  const results = await Promise.allSettled(plan.targets.map((t) => settle(ctx, owed, t.name, state(t.name), plan.worker, readLive)));
  if (ctx.halt.aborted) {
    rec.log("halted during recovery; the next start resumes it");
    return read();
  }
  const settled = results.map((r, i): Outcome | Failure =>
    r.status === "fulfilled" ? r.value : { target: plan.targets[i]!.name, error: `${plan.targets[i]!.name}: ${describeError(r.reason)}` },
  );
  const failures = settled.filter((r): r is Failure => "error" in r);
  const outcomes = settled.filter((r): r is Outcome => !("error" in r));
  const earlier = release.status === "rolling_back" && release.reason ? `${release.reason}; ` : "";
  const text = outcomes
    .map(
      (o) =>
        (o.serving
          ? `${o.target} ${label(o.action)} ${o.serving}`
          : `${o.target} ${o.note?.startsWith(NOT_READ) ? "untouched" : "serves nothing"}`) + (o.note ? ` (${o.note})` : ""),
    )
    .concat(failures.map((f) => f.error))
    .join(", ");
  // A target that keeps the new code (a Durable Object migration landed there, or a first deploy
  // has nothing earlier) makes the release `failed`, as the release's own rollback does
  // (rollback-touched.ts): `rolled_back` promises every touched target serves what it served before.
  const kept = outcomes.filter((o) => o.action === "kept" && o.serving !== null);
  const status = failures.length > 0 || kept.length > 0 ? "failed" : "rolled_back";
  const changed = outcomes.some((o) => o.action !== "untouched");
  const what =
    failures.length > 0
      ? "rollback incomplete"
      : kept.length > 0
        ? `not rolled back where the new code stays (${kept.map((o) => o.target).join(", ")})`
        : changed
          ? "rolled back"
          : "stopped before any region changed";
  // A release cut short while it waited (an approval, a pause) says so: the wait is what was lost.
  const waited =
    release.status === "running"
      ? restartDuringWait(openWaits(store.events.list({ releaseId: release.id, order: "desc", limit: 1000 })), ctx.cannotResume)
      : null;
  const reason = `${earlier}${waited ?? RESTART}; ${what}: ${text}${d1Note}`;
  return finishRecorded(
    owed,
    {
      status,
      reason,
      first: () => rec.journal(J.recovered, null, { status, targets: outcomes, failures, ...(d1.length > 0 ? { d1 } : {}) }),
      events: [
        ["release.recovered", { status, reason, targets: outcomes, failures }],
        [status === "failed" ? "release.failed" : "release.rolled_back", { reason, recovered: true }],
      ],
    },
    read,
  );
}

/** One target back where the journal says it belongs, retried while the edge or the store cannot take it. */
async function settle(
  ctx: RecoverContext,
  owed: OwedContext,
  name: string,
  s: TargetReplay | undefined,
  worker: string,
  readLive: (name: string) => Promise<Array<{ versionId: string; percentage: number }>>,
): Promise<Outcome | Failure> {
  const { rec } = owed;
  if (!s || !touched(s)) {
    // Never written to by this release: named with what it serves, when it can be read now.
    const now = await readLive(name).catch((e: unknown) => e as Error);
    if (now instanceof Error) return { target: name, action: "untouched", serving: null, note: `${NOT_READ}${describeError(now)}` };
    return { target: name, action: "untouched", serving: previousVersionOf(now) };
  }
  const runtime = ctx.runtimes.get(name);
  if (!runtime) return { target: name, error: `${name}: target is no longer configured` };
  if (s.migrated && s.versionId) {
    // A Durable Object migration landed: no version from before it can be deployed (10238).
    return {
      target: name,
      action: "kept",
      serving: s.versionId,
      note: "a Durable Object migration was applied: nothing from before it can serve",
    };
  }
  if (s.migrated && !s.versionId && s.migrationTag) {
    // Killed with the PUT in flight: if its migration landed, nothing from before it can serve
    // (a rollback would be refused for good, 10238), so the target keeps what it serves.
    const m = await migrationLanded(runtime, worker, s.migrationTag).catch((e: unknown) => e as Error);
    if (m instanceof Error) return { target: name, error: `${name}: could not read its Durable Object migration tag: ${describeError(m)}` };
    if (m.landed)
      return {
        target: name,
        action: "kept",
        serving: m.serving,
        note: `the Durable Object migration to ${s.migrationTag} landed before its answer was recorded: nothing from before it can serve`,
      };
  }
  const restored = await settleCode(ctx, owed, name, s, runtime, worker, readLive);
  // The code is back: so are the script settings the release had started to change.
  const change = s.phases.settings?.intent;
  if ("error" in restored || restored.action === "kept" || !change?.before) return restored;
  try {
    await restoreSettings(rec, worker, name, runtime, { keys: change.keys as SettingKey[], before: change.before as ScriptState });
    return { ...restored, note: [restored.note, "script settings restored"].filter(Boolean).join("; ") };
  } catch (e) {
    return {
      target: name,
      error: `${name} is back on ${restored.serving}, but its script settings could not be restored: ${describeError(e)}`,
    };
  }
}

async function settleCode(
  ctx: RecoverContext,
  owed: OwedContext,
  name: string,
  s: TargetReplay,
  runtime: TargetRuntime,
  worker: string,
  readLive: (name: string) => Promise<Array<{ versionId: string; percentage: number }>>,
): Promise<Outcome | Failure> {
  const { rec } = owed;
  // First deploy: nothing earlier to go back to; keep the one version it has, at 100%.
  const known = s.previousVersionId ?? s.versionId;
  const first = s.previousVersionId === null;
  const note = first ? "first release there: nothing earlier to serve" : undefined;
  let intent = false;
  const r = await untilRestored(owed, name, known, async (): Promise<Outcome> => {
    const now = await readLive(name);
    const to = known ?? previousVersionOf(now);
    if (to === null) return { target: name, action: "untouched", serving: null, note: "the first upload never landed" };
    if (servesOnly(now, to)) {
      if (!intent) return { target: name, action: first ? "kept" : "already", serving: to, ...(note ? { note } : {}) };
      rec.journal(J.rollbackDone, name, { versionId: to, recovery: true, ...(note ? { note } : {}) });
      return { target: name, action: first ? "kept" : "rolled_back", serving: to, ...(note ? { note } : {}) };
    }
    if (!intent) {
      rec.journal(J.rollbackIntent, name, { versionId: to, from: now, recovery: true });
      intent = true;
    }
    await restoreTarget(runtime, worker, to, { attempts: 1, message: `cbo recovery of release ${ctx.release.id}` });
    rec.journal(J.rollbackDone, name, { versionId: to, recovery: true, ...(note ? { note } : {}) });
    return { target: name, action: first ? "kept" : "rolled_back", serving: to, ...(note ? { note } : {}) };
  });
  if (r.ok) return r.value;
  rec.tryTo(() => rec.journal(J.rollbackFailed, name, { versionId: known, error: describeError(r.error), recovery: true }));
  return { target: name, error: `${name} could not be set to ${known ?? "its previous version"}: ${describeError(r.error)}` };
}

/** The script settings a release's plan wanted on a target, written where they differ (recovery of a release whose gates all passed). */
async function completeSettings(
  rec: Recorder,
  script: string,
  planned: ReleasePlan["targets"][number],
  runtime: TargetRuntime | undefined,
): Promise<void> {
  const desired = Object.fromEntries((planned.settings ?? []).map((x) => [x.setting, x.desired])) as ScriptState;
  if (!runtime || managedKeys(desired).length === 0) return;
  const before = (await readState(runtime, script, desired)).state;
  const keys = changedKeys(before, desired);
  if (keys.length === 0) return;
  rec.journal(J.phaseIntent, planned.name, {
    phase: "settings",
    keys,
    before: pick(before, keys),
    desired: pick(desired, keys),
    recovery: true,
  });
  await writeState(runtime, script, desired, keys);
  rec.journal(J.phaseDone, planned.name, { phase: "settings", keys, recovery: true });
}

function label(action: Outcome["action"]): string {
  switch (action) {
    case "untouched":
      return "untouched, serves";
    case "kept":
      return "keeps";
    case "rolled_back":
      return "rolled back to";
    case "already":
      return "back on";
    case "completed":
      return "serves";
  }
}
