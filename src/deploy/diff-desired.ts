// The two sides `cbo diff` compares, from what a plan already read: the version the spec wants in
// a target (built as apply builds its upload, but with the target's resource ids as the plan found
// them and without reading the vault), and what the target runs (the facts the plan read from the
// edge, plus what the catalog recorded of the live versions). diff.ts compares them.
import type { ResolvedWorker } from "../config/load.ts";
import { refKey, type FoundResource } from "../targets/resources.ts";
import type { Store } from "../store/index.ts";
import { diffTarget, workerDiff, type DesiredTarget } from "./diff.ts";
import type { TargetFacts, TargetPlace } from "./observe.ts";
import { versionFacts, type ReleaseBuild } from "./release-build.ts";
import { secretBindingShapes } from "./secret-plan.ts";
import { uploadBindings } from "./target-phases.ts";
import type { ReleasePlan } from "./types.ts";
import type { DiffChange, WorkerDiff } from "../contract/index.ts";

/** Stands for the id of a resource the release would create (its binding is a change either way). */
const CREATED = "(created by the release)";

export type DiffInputs = {
  store: Store;
  worker: ResolvedWorker;
  build: ReleaseBuild;
  facts: Map<string, TargetFacts>;
  plan: ReleasePlan;
  places: Map<string, TargetPlace>;
  orchestratorUrl?: string | undefined;
  publicKey?: string | undefined;
};

export function diffOf(inputs: DiffInputs): WorkerDiff {
  const { worker, store } = inputs;
  const targets = worker.waves.flat().map((name) => {
    const facts = inputs.facts.get(name) ?? { target: name, deployment: [], versions: [], reads: 0 };
    const diff = diffTarget(name, desiredIn(inputs, name, facts), {
      live: facts.deployment,
      ...(facts.liveVersion ? { version: facts.liveVersion.version } : {}),
      recorded: (versionId) => {
        const row = store.catalog.version(worker.tenant, name, versionId);
        return row && row.worker === worker.name ? { secrets: row.secrets?.secrets ?? null, facts: row.facts ?? null } : undefined;
      },
      ...(facts.settings ? { settings: facts.settings } : {}),
      config: configVersions(store, worker, name),
    });
    return { ...diff, changes: [...diff.changes, ...stateChanges(inputs.plan, name)] };
  });
  return workerDiff(worker.name, targets);
}

/**
 * What a release changes in the target's state, which the version comparison does not see: the
 * D1 files pending in its own migrations table (expand, then contract) and a Durable Object
 * migration. A release of unchanged code is no no-op while these are pending (engine.ts).
 */
function stateChanges(plan: ReleasePlan, name: string): DiffChange[] {
  const t = plan.targets.find((x) => x.name === name);
  if (!t) return [];
  const d1 = [...(t.d1Migrations ?? []), ...(t.d1Contract ?? [])].flatMap((d) =>
    d.pending.map((file) => ({
      area: "migrations" as const,
      item: `D1 ${d.database} ${file}`,
      change: "added" as const,
      desired: "pending",
    })),
  );
  const doMigration = t.durableObjectMigration
    ? [
        {
          area: "migrations" as const,
          item: "Durable Object migration",
          change: "changed" as const,
          live: t.durableObjectMigration.oldTag ?? "none",
          desired: t.durableObjectMigration.newTag,
        },
      ]
    : [];
  return [...d1, ...doMigration];
}

function desiredIn(inputs: DiffInputs, name: string, facts: TargetFacts): DesiredTarget {
  const { worker, plan } = inputs;
  const build = inputs.build.of(name);
  const source = build.source;
  const place = inputs.places.get(name) ?? { name };
  // A resource the target lacks has no id yet: its binding is a change whatever the live one says.
  const ids = new Map<string, FoundResource>();
  const creates: string[] = [];
  for (const r of facts.resources ?? []) {
    ids.set(refKey(r.ref), r.found ?? { id: CREATED, jurisdiction: null });
    if (!r.found) creates.push(...r.usedBy);
  }
  const ns = facts.configNamespace;
  if (worker.agent && ns && ns.id === null) creates.push("CBO_CONFIG");
  const bindings = [
    ...uploadBindings(source, place, ids),
    ...secretBindingShapes(worker, name, plan.secrets, {
      orchestratorUrl: inputs.orchestratorUrl,
      publicKey: inputs.publicKey,
      configNamespaceId: ns?.id ?? (worker.agent ? CREATED : undefined),
    }),
  ];
  const secrets = Object.fromEntries((plan.secrets ?? []).filter((s) => s.target === name && s.delivered).map((s) => [s.name, s.version]));
  const code = versionFacts(build);
  return {
    code: code.code,
    modules: code.modules,
    bindings,
    creates,
    secrets,
    compatibilityDate: source.compatibilityDate ?? worker.compatibilityDate,
    compatibilityFlags: source.compatibilityFlags,
    ...(code.assets ? { assets: code.assets } : {}),
    keepVars: source.settings.keepVars === true,
  };
}

/** Config versions: the latest published for the worker, and the one the target's agents applied. */
function configVersions(store: Store, worker: ResolvedWorker, target: string): { desired?: number; applied?: number } {
  const desired = store.configs.latest(worker.tenant, worker.name)?.version;
  const given = store.configs.targets(worker.tenant, worker.name).find((x) => x.target === target);
  return { ...(desired ? { desired } : {}), ...(given?.applied_at ? { applied: given.version } : {}) };
}
