// A release the daemon stopped while it waited (an approval, a timed pause, the release's pause)
// goes on after the restart rather than roll back, as an Argo Rollouts controller picks up a paused
// rollout: still paused if it was, approvals given before the restart counted (board.ts reads them
// from the store), each target from the step the journal says it had passed (resume-point.ts).
// It goes on only with the code it planned: the project is built again and each target's bundle
// must hash as the plan recorded, and the worker and its targets must still be configured.
// Otherwise recovery rolls it back as before, and its reason says why it could not go on.
import type { ResolvedWorker } from "../config/load.ts";
import type { Release, Store } from "../store/index.ts";
import type { TargetRuntime } from "../targets/types.ts";
import { openWaits } from "./control/interrupted-waits.ts";
import { resumePoints, type ResumePoint } from "./control/resume-point.ts";
import { describeError } from "./record.ts";
import { buildRelease, type ReleaseBuild } from "./release-build.ts";
import { releasePlanOf } from "./stored.ts";
import type { ReleasePlan } from "./types.ts";

export type Resumable =
  | {
      ok: true;
      plan: ReleasePlan;
      worker: ResolvedWorker;
      build: ReleaseBuild;
      runtimes: Map<string, TargetRuntime>;
      points: Map<string, ResumePoint>;
    }
  | { ok: false; why: string };

/** null: the release was not waiting (recovery as always); else whether it can go on, and with what. */
export async function resumable(
  store: Store,
  release: Release,
  deps: { worker: ResolvedWorker | undefined; runtimes: Map<string, TargetRuntime>; protect: string[] },
): Promise<Resumable | null> {
  if (release.kind !== "release" || release.status !== "running") return null;
  const waits = openWaits(store.events.list({ releaseId: release.id, order: "desc", limit: 1000 }));
  if (waits.length === 0) return null;
  try {
    store.holds.get(release.id);
  } catch (e) {
    return { ok: false, why: `its pause and approvals cannot be read: ${describeError(e)}` };
  }
  let plan: ReleasePlan;
  try {
    plan = releasePlanOf(release);
  } catch (e) {
    return { ok: false, why: `its stored plan cannot be read: ${describeError(e)}` };
  }
  const names = plan.targets.map((t) => t.name);
  const at = resumePoints(names, store.releases.entries(release.id), waits.length);
  if (!at.ok) return at;
  const worker = deps.worker;
  if (!worker) return { ok: false, why: `worker ${plan.worker} is no longer in orchestrator.yaml` };
  const missing = names.filter((n) => !deps.runtimes.has(n) || !worker.targets.includes(n));
  if (missing.length > 0) return { ok: false, why: `target ${missing.join(", ")} is no longer configured for ${worker.name}` };
  let build: ReleaseBuild;
  try {
    build = await buildRelease(worker, { protect: deps.protect });
  } catch (e) {
    return { ok: false, why: `the project no longer builds: ${describeError(e)}` };
  }
  const changed = plan.targets.filter((t) => build.of(t.name).hash !== (t.bundleHash ?? plan.bundleHash)).map((t) => t.name);
  if (changed.length > 0)
    return {
      ok: false,
      why: `the project changed since the release planned it (the bundle of ${changed.join(", ")} is not the one planned)`,
    };
  return { ok: true, plan, worker, build, runtimes: new Map(names.map((n) => [n, deps.runtimes.get(n)!])), points: at.points };
}
