// Apply: drives one planned release against the edge and writes every move to the journal first.
//
// Release states (store) and transitions:
//   running ──every wave, every target, every step passed──> succeeded
//   running ──gate failed | edge error | a write the store refused | abort──> rolling_back
//   rolling_back ──every touched target back on its previous version──> rolled_back (aborted, if aborted)
//   rolling_back ──a target the edge cannot take back yet (out, 5xx) or whose rollback cannot be
//                  journaled yet (full disk)──> (unchanged: owed, retried with backoff; owed.ts)
//   rolling_back ──the edge refused a rollback for good, or a first deploy has nothing earlier──> failed
//   running | rolling_back ──daemon stopped or killed──> (unchanged; recover() finishes it at next start)
//   running, stopped while it waited ──next start──> running again (resume.ts: each target from the
//                  step whose gate it had passed, ctx.resume; no phase or upload is done twice)
//
// Per target, within its wave (targets of one wave run in parallel; waves one after another):
//   pending ─upload.intent─> uploading ─uploaded─> for each planned step p:
//     step.intent ─createDeployment([prev 100-p, new p])─> step.deployed ─gate─> gate.passed (next step)
//                                                                              └> gate.failed (stop)
//   A target is "touched" from its first step.intent (or, on a first deploy, from its upload:
//   the script's creation serves the new version at once). Only touched targets are rolled back:
//     rollback.intent ─createDeployment([prev 100])─> rollback.done | restore.owed … rollback.done
//   Nothing moves on the edge before its journal entry is written: a store that refuses the entry
//   stops the release there (ReleaseStop "record"). Untouched targets are never written to. A
//   failure in one target stops its wave's siblings at their next await point, and no later wave
//   starts. Rolling back is rollback-touched.ts; a target's phases and upload before its steps are
//   upload-target.ts.
import type { Release } from "../store/index.ts";
import { workerEndpoint } from "../targets/worker-endpoint.ts";
import { resourcesPhase, settingsPhase, targetPlace, type ResourceIds } from "./target-phases.ts";
import { contractPhase } from "./d1-contract.ts";
import { J } from "./journal.ts";
import { finishRecorded } from "./owed.ts";
import { plannedSteps, splitFor } from "./plan.ts";
import { runGate } from "./gate-probes.ts";
import { analysisOutcome, gateAnalysis } from "./analysis/gate-analysis.ts";
import { holdBeforeStep, pauseAfterStep } from "./control/step-holds.ts";
import { RecordFailure, describeError } from "./record.ts";
import { rollBackTouched } from "./rollback-touched.ts";
import { uploadTarget } from "./upload-target.ts";
import type { ResumePoint } from "./control/resume-point.ts";
import { ReleaseStop } from "./stop.ts";
import type { ApplyContext, Progress } from "./apply-context.ts";
import { NO_SPAN, span, startSpan, type Span } from "../telemetry/index.ts";

export { ReleaseStop };
export type { ApplyContext, Progress };

export async function applyRelease(ctx: ApplyContext): Promise<Release> {
  const { rec, plan } = ctx;
  const touched = new Map<string, Progress>();
  // Each target's resource ids, for the contract phase after the last gate.
  const resourceIds = new Map<string, ResourceIds>();
  try {
    for (const wave of plan.waves) {
      const waveStop = new AbortController();
      const signal = AbortSignal.any([ctx.signal, waveStop.signal]);
      const waveAttributes = { "cbo.wave": plan.waves.indexOf(wave), "cbo.targets": wave.join(",") };
      const results = await span("release.wave", waveAttributes, () =>
        Promise.allSettled(
          wave.map((name) =>
            applyTarget(ctx, name, signal, touched, resourceIds).catch((e: unknown) => {
              if (!waveStop.signal.aborted) waveStop.abort(new ReleaseStop("sibling", `stopped because ${name} failed`, name));
              throw e;
            }),
          ),
        ),
      );
      const errors = results.flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : []));
      if (errors.length > 0) throw errors.find((e) => !(e instanceof ReleaseStop && e.kind === "sibling")) ?? errors[0];
    }
  } catch (e) {
    const stop = asStop(e, ctx.signal);
    if (stop.kind === "halt") {
      rec.log("halted; the next start recovers it from the journal");
      return ctx.store.releases.get(ctx.release.id)!;
    }
    return rollBackTouched(ctx, stop, touched);
  }
  // An abort that came while the last target finished (its script settings) still rolls back:
  // nothing irreversible ran yet. From here on the release only finishes (finishing()).
  if (ctx.signal.aborted && ctx.signal.reason instanceof ReleaseStop && ctx.signal.reason.kind === "abort")
    return rollBackTouched(ctx, ctx.signal.reason, touched);
  ctx.finishing?.();
  const versions = Object.fromEntries([...touched].map(([t, p]) => [t, p.versionId]));
  // Every target at 100% with its last gate passed: the contract migrations (the second phase).
  // A failure there leaves the code where it is (it runs on the expanded schema) and fails the release.
  const contract = await contractPhase(ctx, resourceIds);
  if (contract.stop === "halt") {
    rec.log("halted in the contract phase; the next start recovers it from the journal");
    return ctx.store.releases.get(ctx.release.id)!;
  }
  if (contract.failed) {
    return finishRecorded(
      { rec, halt: ctx.halt, ...(ctx.restoreBackoff ? { backoff: ctx.restoreBackoff } : {}) },
      { status: "failed", reason: contract.failed, events: [["release.failed", { reason: contract.failed, versions }]] },
      () => ctx.store.releases.get(ctx.release.id)!,
    );
  }
  // Every target now serves the new version at 100%: a key rotation it carried is complete there.
  // (Not marked when the vault cannot take it: the older key then keeps verifying a while longer.)
  for (const [t, p] of touched)
    if (p.workerKey !== undefined) rec.tryTo(() => ctx.secrets?.shipped(ctx.release.tenant, ctx.worker.name, t, p.workerKey!));
  const reason = `every step passed on ${plan.targets.map((t) => t.name).join(", ")}`;
  return finishRecorded(
    { rec, halt: ctx.halt, ...(ctx.restoreBackoff ? { backoff: ctx.restoreBackoff } : {}) },
    { status: "succeeded", reason, events: [["release.succeeded", { versions, bundleHash: plan.bundleHash }]] },
    () => ctx.store.releases.get(ctx.release.id)!,
  );
}

async function applyTarget(
  ctx: ApplyContext,
  name: string,
  signal: AbortSignal,
  touched: Map<string, Progress>,
  resourceIds: Map<string, ResourceIds>,
): Promise<void> {
  const { rec, plan, worker, release } = ctx;
  const planned = plan.targets.find((t) => t.name === name)!;
  const runtime = ctx.runtimes.get(name);
  if (!runtime) throw new ReleaseStop("edge", `target ${name} is no longer configured`, name);
  const previousVersionId = planned.previousVersionId;
  // The current step's span: its deployment and gate run inside it; ended with the step's verdict.
  let step: Span = NO_SPAN;
  const build = ctx.build.of(name);
  const source = build.source;
  const facts = ctx.facts?.get(name);
  let stage = "resources";
  try {
    signal.throwIfAborted();
    const place = targetPlace(ctx, name);
    const ids = await resourcesPhase(ctx, name, runtime, source, facts);
    resourceIds.set(name, ids);
    signal.throwIfAborted();
    // A release resumed after a restart goes on from where the journal left the target.
    const point = ctx.resume?.get(name);
    const { versionId, progress } = point
      ? resumed(ctx, name, point, touched)
      : await uploadTarget(ctx, { name, runtime, ids, place, signal, touched, setStage: (s) => (stage = s) });
    if (point?.settled) return;

    let serving = point?.after ?? 0;
    // Back in the `pause:` step it waited at (an approval granted before the restart counts).
    if (point && point.after > 0) await pauseAfterStep(ctx, name, point.after, signal);
    for (const percent of plannedSteps(plan, name)) {
      if (percent <= serving) continue;
      signal.throwIfAborted();
      stage = `the ${percent}% step`;
      await holdBeforeStep(ctx, name, serving, signal);
      const split = splitFor(versionId, previousVersionId, percent);
      rec.journal(J.stepIntent, name, { percent, versionId, previousVersionId, split });
      touched.set(name, progress(versionId));
      step = startSpan("release.step", { "cbo.target": name, "cbo.percent": percent });
      await step.within(() => runtime.client.createDeployment(worker.name, split, { message: `cbo release ${release.id}: ${percent}%` }));
      rec.journal(J.stepDeployed, name, { percent, versionId });
      rec.emit("release.step.started", name, { percent, versionId, previousVersionId, split });
      signal.throwIfAborted();
      stage = `the ${percent}% gate`;
      const stepStart = Date.now();
      const traffic =
        ctx.agentTraffic && worker.agent ? () => ctx.agentTraffic!(release.tenant, worker.name, name, versionId, stepStart) : undefined;
      const analysis = gateAnalysis(ctx, { target: name, runtime, percent, versionId, previousVersionId, stepStart });
      const gate = await step
        .within(() =>
          runGate({
            endpoint: workerEndpoint(runtime, worker),
            worker: worker.name,
            versionId,
            gate: plan.gate,
            signal,
            ...(traffic ? { traffic } : {}),
            ...(analysis ? { analysis } : {}),
          }),
        )
        .finally(() => ctx.analyses?.drop(release.id, { target: name, percent }));
      const analysed = gate.analysis ? analysisOutcome(gate.analysis, gate.verdict === "pass") : undefined;
      const data = {
        percent,
        versionId,
        samples: gate.summary.samples,
        errors: gate.summary.failures,
        errorRate: gate.summary.errorRate,
        durationMs: gate.durationMs,
        reason: gate.reason,
        ...(gate.traffic ? { agentRequests: gate.traffic.requests, agentErrors: gate.traffic.errors } : {}),
        ...(analysed ? { analysis: analysed.summary } : {}),
      };
      // The journal keeps the whole analysis (both versions' minutes) for the release's page.
      const entry = analysed ? { ...data, analysisStep: analysed.step } : data;
      if (gate.verdict === "pass") {
        rec.journal(J.gatePassed, name, entry);
        rec.emit("release.step.passed", name, data);
        step.end();
        serving = percent;
        stage = `the pause after ${percent}%`;
        await pauseAfterStep(ctx, name, percent, signal);
        continue;
      }
      // The release stops either way: what the store cannot take here is only logged.
      rec.tryTo(() => rec.journal(J.gateFailed, name, entry));
      rec.tryTo(() => rec.emit("release.step.failed", name, data));
      throw new ReleaseStop("gate", `gate failed on ${name} at ${percent}%: ${gate.reason}`, name);
    }
    // At 100% everywhere on this target: the script-level settings (crons, routes, consumers,
    // workers.dev, observability…), which wrangler applies after its deployment too.
    signal.throwIfAborted();
    stage = "script settings";
    await settingsPhase(ctx, name, runtime, source, previousVersionId === null, (change) => {
      const p = touched.get(name);
      if (p) touched.set(name, { ...p, settings: change });
    });
  } catch (e) {
    step.fail(e instanceof Error ? e.message : String(e));
    step.end();
    if (e instanceof ReleaseStop) throw e;
    if (signal.aborted && signal.reason instanceof ReleaseStop) throw signal.reason;
    if (e instanceof RecordFailure) {
      // Never shift traffic that could not be journaled: stop here and roll back what was touched.
      const why = `${name}: ${stage} stopped: ${e.message}`;
      rec.tryTo(() => rec.emit("release.step.failed", name, { stage, reason: why }));
      throw new ReleaseStop("record", why, name);
    }
    const why = `${name}: ${stage} failed: ${describeError(e)}`;
    rec.tryTo(() => rec.journal(J.targetFailed, name, { stage, error: describeError(e) }));
    rec.tryTo(() => rec.emit("release.step.failed", name, { stage, reason: why }));
    throw new ReleaseStop("edge", why, name);
  }
}

function asStop(e: unknown, signal: AbortSignal): ReleaseStop {
  if (e instanceof ReleaseStop && e.kind !== "sibling") return e;
  if (signal.aborted && signal.reason instanceof ReleaseStop) return signal.reason;
  if (e instanceof ReleaseStop) return e;
  return new ReleaseStop("edge", `unexpected: ${describeError(e)}`);
}

/** What a target resumed after a restart had: its version uploaded, the steps up to `after` passed. */
function resumed(
  ctx: ApplyContext,
  name: string,
  point: ResumePoint,
  touched: Map<string, Progress>,
): { versionId: string; progress: (v: string | null) => Progress } {
  const pins = ctx.store.catalog.version(ctx.release.tenant, name, point.versionId)?.secrets;
  const progress = (v: string | null): Progress => ({
    previousVersionId: point.previousVersionId,
    versionId: v,
    ...(pins?.workerKey ? { workerKey: pins.workerKey } : {}),
    ...(point.migrated ? { migrated: point.migrated } : {}),
  });
  // Traffic moved there already (a step, or the script PUT): a stop now rolls it back.
  if (point.after > 0 || point.put) touched.set(name, progress(point.versionId));
  return { versionId: point.versionId, progress };
}
