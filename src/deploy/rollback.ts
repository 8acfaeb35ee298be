// `cbo rollback <worker> [--to <release|version>]`: every target of the worker straight to an
// earlier version at 100%, in parallel, without gates. Resolving `to` reads our records (and the
// edge's version lists for versions we did not upload); applying it is one deployment per target.
//
//   to = a release id   succeeded release        -> the versions it shipped, per target
//                       failed/rolled back one   -> the versions that served before it
//                       a rollback               -> the versions it rolled to
//   to = a version id   the target holding it gets it; the other targets get their newest version
//                       of the same bundle (a release uploads one bundle to every target)
//   no to               the versions of the last release that succeeded before the one being undone
//                       (the newest succeeded release, or the one the newest rollback went to)
// Targets with nothing to go to are left as they are and named in the plan's `skipped`.
//
// Script settings (crons, routes, custom domains, workers.dev, queue consumers, observability,
// logpush, tail consumers) live outside versions, so they go back beside the code: to a release,
// the settings that release's plan wanted; to before a release, the settings it found there (and
// recorded just before changing them); to a version id, the settings of the release that uploaded
// it. Only settings that record manages are written; a target whose settings no record holds keeps
// its own. A Durable Object migration is not undone: Cloudflare refuses to deploy a version from
// before one (10238), and the rollback names that target as failed.
import type { ResolvedWorker } from "../config/load.ts";
import { CboError } from "../kit/errors.ts";
import type { Release, Store } from "../store/index.ts";
import { replay, J, type TargetReplay } from "./journal.ts";
import { readVersionIds } from "../targets/live-read.ts";
import { finishRecorded } from "./owed.ts";
import { describeError, type Recorder } from "./record.ts";
import { restoreTarget } from "./restore-target.ts";
import { releasePlanOf, rollbackPlanOf, type RollbackPlan } from "./stored.ts";
import type { TargetRuntime } from "../targets/types.ts";
import { changedKeys, readState, writeState, type ScriptState, type SettingKey } from "../targets/script-state.ts";
import { pick } from "./target-phases.ts";
import type { ReleasePlan } from "./types.ts";

type ResolvedTarget = { name: string; versionId: string; settings?: Record<string, unknown> };
type Resolved = { resolved: string; targets: ResolvedTarget[]; skipped: RollbackPlan["skipped"] };

export async function planRollback(
  store: Store,
  worker: ResolvedWorker,
  runtimes: Map<string, TargetRuntime>,
  to: string | undefined,
): Promise<RollbackPlan> {
  const names = worker.targets.filter((t) => runtimes.has(t));
  const r = await resolve(store, worker, names, runtimes, to);
  const targets = r.targets.filter((t) => names.includes(t.name)).map((t) => ({ ...t, accountId: runtimes.get(t.name)!.accountId }));
  if (targets.length === 0) {
    throw new CboError(
      "ERR_NOT_FOUND",
      `Nothing to roll ${worker.name} back to (${r.resolved}): ${r.skipped.map((s) => `${s.name}: ${s.why}`).join("; ") || "no target"}.`,
      {
        hint: `Name a version with --to (see \`cbo versions ${worker.name}\`).`,
      },
    );
  }
  return {
    kind: "rollback",
    worker: worker.name,
    tenant: worker.tenant,
    to: to ?? null,
    resolved: r.resolved,
    targets,
    skipped: r.skipped,
  };
}

async function resolve(
  store: Store,
  worker: ResolvedWorker,
  names: string[],
  runtimes: Map<string, TargetRuntime>,
  to: string | undefined,
): Promise<Resolved> {
  if (to === undefined) return undo(store, worker);
  const release = store.releases.get(to);
  if (release) {
    if (release.worker !== worker.name || release.tenant !== worker.tenant) {
      throw new CboError("ERR_VALIDATION", `Release ${to} is a release of ${release.worker}, not ${worker.name}.`);
    }
    if (release.status === "running" || release.status === "rolling_back")
      throw new CboError("ERR_CONFLICT", `Release ${to} has not finished.`, { details: { releaseId: to } });
    if (release.kind === "rollback") {
      const p = rollbackPlanOf(release);
      return { resolved: `the versions rollback ${to} went to`, targets: p.targets, skipped: [] };
    }
    return release.status === "succeeded" ? shipped(store, release) : before(store, release);
  }
  return byVersion(store, worker, names, runtimes, to);
}

/**
 * The default target: the last release that succeeded before the one being undone. The one being
 * undone is the newest record that succeeded: a release, or the release a rollback went to. A
 * release that failed or rolled back is never a target (it never served at 100% everywhere).
 */
function undo(store: Store, worker: ResolvedWorker): Resolved {
  const records = store.releases.list({ worker: worker.name, tenant: worker.tenant, limit: 1000 });
  const last = records.find((r) => r.status === "succeeded");
  if (!last)
    throw new CboError("ERR_NOT_FOUND", `Worker ${worker.name} has no succeeded release to roll back from.`, {
      hint: "Name a version with --to.",
    });
  let undone: Release | undefined = last;
  if (last.kind === "rollback") {
    const first = rollbackPlanOf(last).targets[0];
    const row = first ? store.catalog.version(worker.tenant, first.name, first.versionId) : undefined;
    undone = row?.release_id ? store.releases.get(row.release_id) : undefined;
    if (!undone)
      throw new CboError(
        "ERR_NOT_FOUND",
        `The last rollback of ${worker.name} (${last.id}) went to versions no release of this orchestrator shipped: there is no release to undo.`,
        { hint: `Name a release or version with --to (see \`cbo versions ${worker.name}\`).` },
      );
  }
  const at = records.findIndex((r) => r.id === undone!.id);
  const target = records.slice(at + 1).find((r) => r.kind === "release" && r.status === "succeeded");
  if (!target)
    throw new CboError("ERR_NOT_FOUND", `No release of ${worker.name} succeeded before ${undone.id}, the one being undone.`, {
      hint: `Name a version with --to (see \`cbo versions ${worker.name}\`).`,
    });
  const r = shipped(store, target);
  return { ...r, resolved: `the versions release ${target.id} shipped (the last that succeeded before ${undone.id})` };
}

function before(store: Store, release: Release): Resolved {
  const plan = releasePlanOf(release);
  const journal = replay(store.releases.entries(release.id));
  const out: Resolved = { resolved: `the versions serving before release ${release.id}`, targets: [], skipped: [] };
  for (const t of plan.targets) {
    const prev = journal.get(t.name)?.previousVersionId ?? t.previousVersionId;
    const settings = settingsBefore(t, journal.get(t.name));
    if (prev) out.targets.push({ name: t.name, versionId: prev, ...(settings ? { settings } : {}) });
    else out.skipped.push({ name: t.name, why: "nothing served there before that release" });
  }
  return out;
}

/**
 * The script settings a target had before a release: what its plan read there, with what the
 * release recorded just before it changed them (the newer reading) on top. None for a target the
 * release created the script in.
 */
function settingsBefore(t: ReleasePlan["targets"][number], replayed: TargetReplay | undefined): ScriptState | undefined {
  if (!t.settings || t.settings.every((x) => x.current === null)) return undefined;
  const state = Object.fromEntries(t.settings.filter((x) => x.current !== null).map((x) => [x.setting, x.current])) as ScriptState;
  const recorded = replayed?.phases.settings?.intent.before as ScriptState | null | undefined;
  return { ...state, ...(recorded ?? {}) };
}

/** The script settings a release's plan wanted on a target (every managed one). */
function settingsWanted(t: ReleasePlan["targets"][number] | undefined): ScriptState | undefined {
  if (!t?.settings || t.settings.length === 0) return undefined;
  return Object.fromEntries(t.settings.map((x) => [x.setting, x.desired])) as ScriptState;
}

function shipped(store: Store, release: Release): Resolved {
  const plan = releasePlanOf(release);
  const journal = replay(store.releases.entries(release.id));
  const out: Resolved = { resolved: `the versions release ${release.id} shipped`, targets: [], skipped: [] };
  for (const t of plan.targets) {
    const v = journal.get(t.name)?.versionId;
    const settings = settingsWanted(t);
    if (v) out.targets.push({ name: t.name, versionId: v, ...(settings ? { settings } : {}) });
    else out.skipped.push({ name: t.name, why: "that release uploaded nothing there" });
  }
  return out;
}

async function byVersion(
  store: Store,
  worker: ResolvedWorker,
  names: string[],
  runtimes: Map<string, TargetRuntime>,
  versionId: string,
): Promise<Resolved> {
  const known = new Map(names.map((n) => [n, store.catalog.versions(worker.tenant, worker.name, n, 100)]));
  const row = [...known.values()].flat().find((v) => v.version_id === versionId);
  const out: Resolved = { resolved: `version ${versionId}`, targets: [], skipped: [] };
  if (row) {
    out.resolved = row.bundle_hash
      ? `version ${versionId} (bundle ${row.bundle_hash.slice(0, 12)} on every target)`
      : `version ${versionId}`;
    for (const name of names) {
      const match =
        name === row.target ? row : row.bundle_hash ? known.get(name)!.find((v) => v.bundle_hash === row.bundle_hash) : undefined;
      // The settings the release that uploaded this version wanted there, when we have its record.
      const from = match?.release_id ? store.releases.get(match.release_id) : undefined;
      const settings = from?.kind === "release" ? settingsWanted(releasePlanOf(from).targets.find((x) => x.name === name)) : undefined;
      if (match) out.targets.push({ name, versionId: match.version_id, ...(settings ? { settings } : {}) });
      else out.skipped.push({ name, why: "no version of the same bundle there" });
    }
    return out;
  }
  // Not uploaded by us (or older than our records): ask the edge which targets hold it.
  const lists = await Promise.all(names.map(async (name) => ({ name, ids: await readVersionIds(runtimes.get(name)!, worker.name) })));
  for (const { name, ids } of lists) {
    if (ids.includes(versionId)) out.targets.push({ name, versionId });
    else out.skipped.push({ name, why: "not among its last 100 versions" });
  }
  if (out.targets.length === 0) {
    throw new CboError(
      "ERR_NOT_FOUND",
      `Version ${versionId} is neither a release id nor among the last 100 versions of ${worker.name} on any target.`,
      {
        hint: "List them with `cbo versions " + worker.name + "`.",
      },
    );
  }
  return out;
}

/**
 * Every planned target to its version, in parallel. `checkFirst` on recovery (level-based). A
 * target whose intent the store refuses is not written to (and counts as not rolled back); the
 * end is recorded once the store takes it (finishRecorded), unless `halt` fires first.
 */
export async function applyRollback(ctx: {
  rec: Recorder;
  plan: RollbackPlan;
  runtimes: Map<string, TargetRuntime>;
  checkFirst: boolean;
  prefix?: string;
  halt: AbortSignal;
  read: () => Release;
}): Promise<Release> {
  const { rec, plan } = ctx;
  const outcomes = await Promise.all(
    plan.targets.map(async (t) => {
      const runtime = ctx.runtimes.get(t.name);
      try {
        rec.journal(J.rollbackIntent, t.name, { versionId: t.versionId });
        if (!runtime) throw new CboError("ERR_NOT_FOUND", `target ${t.name} is no longer configured`);
        const r = await restoreTarget(runtime, plan.worker, t.versionId, { checkFirst: ctx.checkFirst, message: `cbo rollback ${rec.id}` });
        rec.journal(J.rollbackDone, t.name, { versionId: t.versionId, changed: r.changed });
        const keys = t.settings ? await settingsBack(rec, plan.worker, t.name, runtime, t.settings as ScriptState) : [];
        return { target: t.name, versionId: t.versionId, ok: true as const, ...(keys.length > 0 ? { settings: keys } : {}) };
      } catch (e) {
        rec.tryTo(() => rec.journal(J.rollbackFailed, t.name, { versionId: t.versionId, error: describeError(e) }));
        return { target: t.name, versionId: t.versionId, ok: false as const, error: describeError(e) };
      }
    }),
  );
  const done = outcomes
    .filter((o) => o.ok)
    .map((o) => `${o.target} on ${o.versionId}${"settings" in o && o.settings ? ` (settings ${o.settings.join(", ")} back)` : ""}`);
  const failed = outcomes.filter((o) => !o.ok).map((o) => `${o.target} not rolled back to ${o.versionId}: ${"error" in o ? o.error : ""}`);
  const skipped = plan.skipped.map((s) => `${s.name} unchanged (${s.why})`);
  const reason = [ctx.prefix, `to ${plan.resolved}`, [...done, ...failed, ...skipped].join(", ")].filter(Boolean).join("; ");
  const data = { reason, targets: outcomes, skipped: plan.skipped };
  const end =
    failed.length > 0
      ? { status: "failed" as const, event: "rollback.failed" as const }
      : { status: "succeeded" as const, event: "rollback.completed" as const };
  return finishRecorded({ rec, halt: ctx.halt }, { status: end.status, reason, events: [[end.event, data]] }, ctx.read);
}

/** The script settings recorded for the version rolled to, written where the target differs (level-based). */
async function settingsBack(
  rec: Recorder,
  script: string,
  name: string,
  runtime: TargetRuntime,
  wanted: ScriptState,
): Promise<SettingKey[]> {
  const current = (await readState(runtime, script, wanted)).state;
  const keys = changedKeys(current, wanted);
  if (keys.length === 0) return [];
  rec.journal(J.phaseIntent, name, { phase: "settings", keys, before: pick(current, keys), desired: pick(wanted, keys) });
  await writeState(runtime, script, wanted, keys);
  rec.journal(J.phaseDone, name, { phase: "settings", keys });
  rec.tryTo(() => rec.emit("release.phase.done", name, { phase: "settings", summary: `set ${keys.join(", ")} back`, keys }));
  return keys;
}
