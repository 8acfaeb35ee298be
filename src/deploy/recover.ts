// Recovery at start: every release the journal shows unfinished is brought to a state the edge
// agrees with. Level-based: for each target it reads what the edge serves now, compares it with
// what the journal says it should serve, and writes only the difference.
//
//   release, every target passed its 100% gate and the edge serves the new version ──> succeeded
//   release, otherwise: each touched target back on its previous version (a first deploy keeps
//            the one version it has) ──> rolled_back, reason naming what every target serves
//   rollback (kind) ──> finished: each target to its planned version ──> succeeded
//   a target that cannot be read or written after retries ──> failed, reason naming it
import type { Release, Store } from "../store/index.ts";
import { J, replay, touched, type TargetReplay } from "./journal.ts";
import { observeDeployment, servesOnly } from "./observe.ts";
import { previousVersionOf } from "./plan.ts";
import { createRecorder, describeError } from "./record.ts";
import { restoreTarget } from "./restore.ts";
import { applyRollback } from "./rollback.ts";
import { releasePlanOf, rollbackPlanOf } from "./stored.ts";
import type { TargetRuntime } from "./types.ts";

const RESTART = "daemon restarted during the release";

type Outcome = { target: string; action: "untouched" | "kept" | "rolled_back" | "already" | "completed"; serving: string | null; note?: string };

export async function recoverRelease(store: Store, release: Release, runtimes: Map<string, TargetRuntime>, log: (line: string) => void): Promise<Release> {
  const rec = createRecorder(store, release, log);
  if (release.kind === "rollback") {
    return applyRollback({ rec, plan: rollbackPlanOf(release), runtimes, checkFirst: true, prefix: "daemon restarted during the rollback; completed" });
  }
  const plan = releasePlanOf(release);
  const journal = replay(store.releases.entries(release.id));
  const state = (name: string): TargetReplay | undefined => journal.get(name);

  let live: Map<string, Array<{ versionId: string; percentage: number }>>;
  try {
    live = new Map(
      await Promise.all(
        plan.targets.map(async (t) => {
          const runtime = runtimes.get(t.name);
          if (!runtime) throw new Error(`target ${t.name} is no longer configured`);
          return [t.name, await observeDeployment(runtime, plan.worker)] as const;
        }),
      ),
    );
  } catch (e) {
    const reason = `${RESTART}; could not read what the targets serve: ${describeError(e)}`;
    const r = rec.finish("failed", reason);
    rec.emit("release.failed", null, { reason });
    return r;
  }

  // Resume to success only when nothing is left to do: every gate passed and the edge agrees.
  const completed =
    release.status === "running" &&
    plan.targets.every((t) => {
      const s = state(t.name);
      return s?.versionId && s.passed.includes(100) && servesOnly(live.get(t.name)!, s.versionId);
    });
  if (completed) {
    const outcomes: Outcome[] = plan.targets.map((t) => ({ target: t.name, action: "completed", serving: state(t.name)!.versionId }));
    const reason = `daemon restarted after every step had passed; ${outcomes.map((o) => `${o.target} serves ${o.serving}`).join(", ")}`;
    rec.journal(J.recovered, null, { status: "succeeded", targets: outcomes });
    const r = rec.finish("succeeded", reason);
    rec.emit("release.recovered", null, { status: "succeeded", reason, targets: outcomes });
    rec.emit("release.succeeded", null, { versions: Object.fromEntries(outcomes.map((o) => [o.target, o.serving])), recovered: true });
    return r;
  }

  const results = await Promise.all(
    plan.targets.map(async (t): Promise<Outcome | { target: string; error: string }> => {
      const s = state(t.name);
      const now = live.get(t.name)!;
      if (!s || !touched(s)) return { target: t.name, action: "untouched", serving: previousVersionOf(now) };
      // First deploy: nothing earlier to go back to; keep the one version it has, at 100%.
      const to = s.previousVersionId ?? s.versionId ?? previousVersionOf(now);
      const note = s.previousVersionId === null ? "first release there: nothing earlier to serve" : undefined;
      if (to === null) return { target: t.name, action: "untouched", serving: null, note: "the first upload never landed" };
      if (servesOnly(now, to)) return { target: t.name, action: s.previousVersionId === null ? "kept" : "already", serving: to, ...(note ? { note } : {}) };
      rec.journal(J.rollbackIntent, t.name, { versionId: to, from: now, recovery: true });
      try {
        await restoreTarget(runtimes.get(t.name)!, plan.worker, to, { checkFirst: true, message: `cbo recovery of release ${release.id}` });
        rec.journal(J.rollbackDone, t.name, { versionId: to, recovery: true, ...(note ? { note } : {}) });
        return { target: t.name, action: s.previousVersionId === null ? "kept" : "rolled_back", serving: to, ...(note ? { note } : {}) };
      } catch (e) {
        rec.journal(J.rollbackFailed, t.name, { versionId: to, error: describeError(e), recovery: true });
        return { target: t.name, error: `${t.name} could not be set to ${to}: ${describeError(e)}` };
      }
    }),
  );
  const failures = results.filter((r): r is { target: string; error: string } => "error" in r);
  const outcomes = results.filter((r): r is Outcome => !("error" in r));
  const earlier = release.status === "rolling_back" && release.reason ? `${release.reason}; ` : "";
  const text = outcomes
    .map((o) => (o.serving ? `${o.target} ${label(o.action)} ${o.serving}` : `${o.target} serves nothing`) + (o.note ? ` (${o.note})` : ""))
    .concat(failures.map((f) => f.error))
    .join(", ");
  const status = failures.length > 0 ? "failed" : "rolled_back";
  const changed = outcomes.some((o) => o.action !== "untouched");
  const what = failures.length > 0 ? "rollback incomplete" : changed ? "rolled back" : "stopped before any region changed";
  const reason = `${earlier}${RESTART}; ${what}: ${text}`;
  rec.journal(J.recovered, null, { status, targets: outcomes, failures });
  const r = rec.finish(status, reason);
  rec.emit("release.recovered", null, { status, reason, targets: outcomes, failures });
  rec.emit(status === "failed" ? "release.failed" : "release.rolled_back", null, { reason, recovered: true });
  return r;
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
