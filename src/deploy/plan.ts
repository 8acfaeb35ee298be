// The pure half of a release: from the worker's spec, the bundle and what each target runs now, the
// list of actions apply will take, in order. No I/O here, so `cbo plan` shows exactly what a
// release will do and the plan can be stored with the release and replayed after a crash.
import type { ResolvedWorker } from "../config/load.ts";
import { CboError } from "../kit/errors.ts";
import type { PlannedAction, ReleasePlan } from "./types.ts";
import type { ObservedTarget } from "../targets/types.ts";

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

export function plan(
  worker: ResolvedWorker,
  bundleHash: string,
  targets: Map<string, { accountId: string }>,
  observed: ObservedTarget[],
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
  const kvTitles = [...new Set(Object.values(worker.kv))];
  const actions: PlannedAction[] = [];
  let apiCalls = 0;
  const planned: ReleasePlan["targets"] = [];
  for (const name of worker.waves.flat()) {
    const seen = byTarget.get(name) ?? { target: name, deployment: [], versions: [] };
    const previousVersionId = previousVersionOf(seen.deployment);
    planned.push({ name, accountId: targets.get(name)!.accountId, previousVersionId, live: seen.deployment });
    // Reading the live deployment before the release: one call.
    apiCalls += 1;
    if (kvTitles.length > 0) {
      // List the namespaces, then create the missing ones (all of them when the list is unknown).
      const known = seen.kvNamespaces === undefined ? undefined : new Set(seen.kvNamespaces);
      apiCalls += 1 + kvTitles.filter((t) => known === undefined || !known.has(t)).length;
    }
    // The edge agent's config namespace: listed (created on the first release only).
    if (worker.agent) apiCalls += 1;
    actions.push({ kind: "upload", target: name });
    apiCalls += 1;
    for (const percent of stepsFor(worker.steps, previousVersionId)) {
      actions.push({ kind: "deploy", target: name, percent });
      actions.push({ kind: "gate", target: name, percent });
      apiCalls += 1;
    }
  }
  return {
    worker: worker.name,
    tenant: worker.tenant,
    bundleHash,
    waves: worker.waves.map((w) => [...w]),
    steps: [...worker.steps],
    gate: { ...worker.gate },
    targets: planned,
    actions,
    apiCalls,
  };
}

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
