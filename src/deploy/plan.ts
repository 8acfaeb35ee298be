// The pure half of a release: from the worker's spec, the bundle and what each target runs now, the
// list of actions apply will take, in order. No I/O here, so `cbo plan` shows exactly what a
// release will do and the plan can be stored with the release and replayed after a crash.
import type { ResolvedWorker } from "../config/load.ts";
import type { WorkerBinding, WorkerSource } from "../config/source/model.ts";
import { pendingD1Migrations } from "../build/index.ts";
import { migrationsToUpload } from "../cloudflare/index.ts";
import type { PlannedPhase, PlannedResource, PlannedTarget } from "../contract/index.ts";
import { CboError } from "../kit/errors.ts";
import { changedKeys, managedKeys, readCount, writeCount } from "../targets/script-state.ts";
import type { ObservedTarget } from "../targets/types.ts";
import type { TargetFacts } from "./observe.ts";
import type { PlannedAction, ReleasePlan } from "./types.ts";
import { classChanges, nonGradualOf } from "./non-gradual.ts";

/**
 * The version a target falls back to: the one at 100%, else the one with the largest share (a
 * split left by someone else), else none (the Worker was never deployed there).
 */
export function previousVersionOf(deployment: ObservedTarget["deployment"]): string | null {
  if (deployment.length === 0) return null;
  const full = deployment.find((d) => d.percentage >= 100);
  if (full) return full.versionId;
  return [...deployment].sort((a, b) => b.percentage - a.percentage)[0]!.versionId;
}

/**
 * Steps for one target. A target that never ran the Worker has nothing to split traffic with: the
 * first upload creates the script and serves it at once, so it gets the 100% step (and gate) only.
 */
export function stepsFor(steps: number[], previousVersionId: string | null): number[] {
  return previousVersionId === null ? [100] : steps;
}

/** Per target, what planning needs beyond the worker: its account, its release hash, what it serves (and, for a full plan, its facts). */
export type PlanTarget = { accountId: string; bundleHash?: string };

/**
 * The plan. `observed` holds what each target serves; a TargetFacts (observe.ts) adds what the
 * release found there (resources, D1 migrations applied, the Durable Object migration tag, the
 * assets the account lacks, the script settings) and what those reads cost. Per target, in order:
 *
 *   phase          requests (when every gate passes)
 *   read           1 (the live deployment) + the facts' reads
 *   resources      2 per resource missing there (look again, then create)
 *   d1-migrations  per database with pending files: bookmark, migrations table, applied list (2), one per file
 *   assets         one per upload bucket the session asked for
 *   agent          the config namespace: 0 when the read found it, else 2 (look again, create)
 *   upload         1 (+1 re-reading the Durable Object migration tag)
 *   steps          1 per step (a first deploy or a migration: the 100% step only)
 *   settings       the managed settings read again (not for a new script), then one write per change
 *   d1-contract    after every target passed its last gate: as d1-migrations, for `-- cbo:contract` files
 */
export function plan(
  worker: ResolvedWorker,
  bundleHash: string,
  targets: Map<string, PlanTarget>,
  observed: Array<ObservedTarget | TargetFacts>,
): ReleasePlan {
  const byTarget = new Map(observed.map((o) => [o.target, o]));
  const missing = worker.targets.filter((t) => !targets.has(t));
  if (missing.length > 0) {
    throw new CboError(
      "ERR_VALIDATION",
      `Worker ${worker.name} names target(s) ${missing.join(", ")} that the orchestrator does not drive.`,
      {
        details: { worker: worker.name, missing },
        hint: "Declare the target under `targets:` in orchestrator.yaml.",
      },
    );
  }
  const actions: PlannedAction[] = [];
  let apiCalls = 0;
  const planned: ReleasePlan["targets"] = [];
  for (const name of worker.waves.flat()) {
    const seen: ObservedTarget & Partial<TargetFacts> = byTarget.get(name) ?? { target: name, deployment: [], versions: [] };
    const previousVersionId = previousVersionOf(seen.deployment);
    const t = planTarget(worker, name, targets.get(name)!, seen, previousVersionId);
    planned.push(t.planned);
    apiCalls += t.apiCalls;
    actions.push({ kind: "upload", target: name });
    for (const percent of t.steps) {
      actions.push({ kind: "deploy", target: name, percent });
      actions.push({ kind: "gate", target: name, percent });
    }
  }
  // A release that cannot be gradual goes one target at a time (each its own wave, in wave order).
  const nonGradual = nonGradualOf(planned);
  const sources = worker.sources ? Object.values(worker.sources) : worker.source ? [worker.source] : [];
  // wrangler refuses a first deploy without the file's `secrets.required`; a release ships only
  // the vault's secrets, so one that is not among them is said, not silently left to chance.
  const unvaulted = [...new Set(sources.flatMap((s) => s.requiredSecrets))].filter((n) => !worker.secrets.includes(n));
  const warnings = [
    ...new Set(sources.flatMap((s) => s.warnings)),
    ...unvaulted.map(
      (n) =>
        `secrets.required names ${n}, which is not one of this worker's vault secrets: the release neither sets nor checks it (targets keep what they hold); add it to the worker's \`secrets:\` and \`cbo secrets set ${n}\``,
    ),
  ];
  return {
    worker: worker.name,
    tenant: worker.tenant,
    bundleHash,
    waves: nonGradual ? worker.waves.flat().map((t) => [t]) : worker.waves.map((w) => [...w]),
    ...(nonGradual ? { nonGradual } : {}),
    steps: [...worker.steps],
    gate: { ...worker.gate },
    ...(worker.analysis ? { analysis: { ...worker.analysis } } : {}),
    ...(worker.pauses && worker.pauses.length > 0 ? { pauses: worker.pauses.map((p) => ({ ...p })) } : {}),
    targets: planned,
    actions,
    apiCalls,
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

function planTarget(
  worker: ResolvedWorker,
  name: string,
  place: PlanTarget,
  seen: ObservedTarget & Partial<TargetFacts>,
  previousVersionId: string | null,
): { planned: PlannedTarget; steps: number[]; apiCalls: number } {
  const source = worker.sources?.[name] ?? worker.source;
  const phases: PlannedPhase[] = [];
  const phase = (p: string, summary: string, apiCalls: number, extra: Record<string, unknown> = {}) =>
    phases.push({ phase: p, summary, apiCalls, ...extra });
  phase("read", "read the live deployment and what the release needs from the target", 1 + (seen.reads ?? 0));

  const resources = (seen.resources ?? []).map(
    (r): PlannedResource => ({
      kind: r.ref.kind,
      name: r.ref.name,
      ...(r.ref.jurisdiction ? { jurisdiction: r.ref.jurisdiction } : {}),
      ...(r.note ? { note: r.note } : {}),
      usedBy: r.usedBy,
      action: r.found ? "use" : "create",
      ...(r.found ? { id: r.found.id } : {}),
    }),
  );
  const creates = resources.filter((r) => r.action === "create");
  if (creates.length > 0)
    phase(
      "resources",
      `create ${creates.map((r) => `${r.kind} ${r.name}${r.jurisdiction ? ` (${r.jurisdiction})` : ""}`).join(", ")}`,
      2 * creates.length,
    );

  // Expand migrations before the upload; contract ones (`-- cbo:contract`) in the second phase.
  const pendingOf = (contract: boolean) =>
    (seen.d1 ?? [])
      .map((d) => {
        const pending = pendingD1Migrations(
          d.migrations.files.filter((f) => f.contract === contract),
          d.applied ?? [],
        );
        return {
          binding: d.migrations.binding,
          database: d.migrations.database,
          pending: pending.map((f) => f.name),
          sha256: Object.fromEntries(pending.map((f) => [f.name, f.sha256])),
        };
      })
      .filter((d) => d.pending.length > 0);
  const d1Migrations = pendingOf(false).map(({ sha256: _, ...d }) => d);
  // Contract files with their content hashes: a crash before the phase ends leaves them to
  // recovery, which re-reads the project and runs a file only if it is still what was planned.
  const d1Contract = pendingOf(true);
  for (const d of d1Migrations)
    phase(
      "d1-migrations",
      `before any traffic shifts: bookmark D1 ${d.database}, then apply ${d.pending.length} migration(s): ${d.pending.join(", ")}`,
      4 + d.pending.length,
      { database: d.database },
    );

  let assets: PlannedTarget["assets"];
  if (seen.assets) {
    const wanted = seen.assets.session.buckets.flat();
    const bytes = Object.values(seen.assets.bytes).reduce((a, b) => a + b, 0);
    const uploadBytes = wanted.reduce((a, h) => a + (seen.assets!.bytes[h] ?? 0), 0);
    assets = { files: Object.keys(seen.assets.bytes).length, bytes, upload: wanted.length, uploadBytes };
    phase(
      "assets",
      wanted.length === 0
        ? "static assets: every file is there already"
        : `static assets: upload ${wanted.length} new or changed file(s), ${uploadBytes} bytes`,
      seen.assets.session.buckets.length,
    );
  }

  if (worker.agent) {
    const ns = seen.configNamespace;
    if (ns === undefined) phase("agent", "look up the edge agent's config namespace", 1);
    else if (ns.id === null) phase("agent", `create the edge agent's config namespace ${ns.title} (looked up again first)`, 2);
  }

  const migration = source && seen.migrationTag !== undefined ? migrationsToUpload(source.migrations, seen.migrationTag) : {};
  const upload: "version" | "script" = previousVersionId === null || migration.migrations ? "script" : "version";
  const steps = upload === "script" ? [100] : stepsFor(worker.steps, previousVersionId);
  const durableObjectMigration = migration.migrations
    ? {
        oldTag: migration.migrations.old_tag ?? null,
        newTag: migration.migrations.new_tag,
        steps: migration.migrations.steps.length,
        ...(migration.warning ? { warning: migration.warning } : {}),
        classes: classChanges(migration.migrations),
      }
    : null;
  phase(
    "upload",
    upload === "script"
      ? previousVersionId === null
        ? "create the script (PUT): it serves the new version at once"
        : `PUT the script with Durable Object migration ${durableObjectMigration!.oldTag ?? "(none)"} -> ${durableObjectMigration!.newTag}: it serves the new version at 100% at once, as wrangler deploy does, and no rollback can go back past it`
      : "upload a new version",
    1 + (seen.migrationTag !== undefined ? 1 : 0),
  );
  phase("steps", `deploy ${steps.map((p) => `${p}%`).join(" -> ")}, each gated`, steps.length);

  let settings: PlannedTarget["settings"];
  if (seen.settings) {
    const { current, desired } = seen.settings;
    const changed = changedKeys(current, desired);
    settings = managedKeys(desired).map((k) => ({
      setting: k,
      current: current === null ? null : (current[k] ?? null),
      desired: desired[k],
      change: changed.includes(k),
    }));
    const rereads = current === null ? 0 : readCount(desired);
    if (changed.length > 0 || rereads > 0)
      phase(
        "settings",
        changed.length === 0 ? "script settings already as desired" : `after the 100% step: set ${changed.join(", ")}`,
        rereads + writeCount(desired, changed),
      );
  }

  for (const d of d1Contract)
    phase(
      "d1-contract",
      `after every target reached 100% and passed its last gate: bookmark D1 ${d.database}, then apply contract migration(s) ${d.pending.join(", ")}`,
      4 + d.pending.length,
      { database: d.database },
    );

  const bindings = source ? plannedBindings(source, resources) : undefined;
  const env = source?.origin.kind === "wrangler" ? source.origin.env : undefined;
  return {
    planned: {
      name,
      accountId: place.accountId,
      previousVersionId,
      live: seen.deployment,
      ...(env ? { env } : {}),
      ...(place.bundleHash ? { bundleHash: place.bundleHash } : {}),
      upload,
      ...(source && source.migrations.length > 0 ? { durableObjectMigration } : {}),
      ...(seen.resources ? { resources } : {}),
      ...(bindings ? { bindings } : {}),
      ...(seen.d1 ? { d1Migrations } : {}),
      ...(d1Contract.length > 0 ? { d1Contract } : {}),
      ...(assets ? { assets } : {}),
      ...(settings ? { settings } : {}),
      phases,
    },
    steps,
    apiCalls: phases.reduce((n, p) => n + p.apiCalls, 0),
  };
}

/** The version's bindings with the target's resource behind each (vars, secrets and the agent's own aside). */
function plannedBindings(source: WorkerSource, resources: PlannedResource[]): NonNullable<PlannedTarget["bindings"]> {
  const out: NonNullable<PlannedTarget["bindings"]> = [];
  for (const [name, v] of Object.entries(source.vars)) out.push({ name, type: typeof v === "string" ? "plain_text" : "json" });
  for (const b of source.bindings) {
    const type = BINDING_TYPE[b.kind];
    if (!("resource" in b)) {
      out.push({ name: b.binding, type });
      continue;
    }
    const r = resources.find((x) => x.kind === b.resource.kind && x.name === b.resource.name && x.usedBy.includes(b.binding));
    out.push({ name: b.binding, type, resource: `${b.resource.kind}:${b.resource.name}`, id: r?.id ?? null });
  }
  return out;
}

const BINDING_TYPE: Record<WorkerBinding["kind"], string> = {
  kv: "kv_namespace",
  d1: "d1",
  r2: "r2_bucket",
  queue: "queue",
  durable_object: "durable_object_namespace",
  service: "service",
  analytics_engine: "analytics_engine",
  ai: "ai",
  hyperdrive: "hyperdrive",
  ratelimit: "ratelimit",
  version_metadata: "version_metadata",
  assets: "assets",
};

/** The deploy steps apply takes on one target, from the plan (so a stored plan replays as planned). */
export function plannedSteps(p: ReleasePlan, target: string): number[] {
  return p.actions.filter((a) => a.kind === "deploy" && a.target === target).map((a) => (a as { percent: number }).percent);
}

/** The split for one step: the new version at `percent`, the previous one keeps the rest. */
export function splitFor(
  newVersionId: string,
  previousVersionId: string | null,
  percent: number,
): Array<{ versionId: string; percentage: number }> {
  if (previousVersionId === null || previousVersionId === newVersionId || percent >= 100)
    return [{ versionId: newVersionId, percentage: 100 }];
  return [
    { versionId: previousVersionId, percentage: round(100 - percent) },
    { versionId: newVersionId, percentage: percent },
  ];
}

// 100 - 0.1 is 99.9 in decimal but not in binary; the API adds the shares up to 100 exactly.
const round = (n: number) => Math.round(n * 1e6) / 1e6;
