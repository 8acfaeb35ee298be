// Apply: drives one planned release against the edge and writes every move to the journal first.
//
// Release states (store) and transitions:
//   running ──every wave, every target, every step passed──> succeeded
//   running ──gate failed | edge error | abort──> rolling_back
//   rolling_back ──every touched target back on its previous version──> rolled_back (aborted, if aborted)
//   rolling_back ──a rollback still failing after retries──> failed
//   running | rolling_back ──daemon stopped or killed──> (unchanged; recover() finishes it at next start)
//
// Per target, within its wave (targets of one wave run in parallel; waves one after another):
//   pending ─upload.intent─> uploading ─uploaded─> for each planned step p:
//     step.intent ─createDeployment([prev 100-p, new p])─> step.deployed ─gate─> gate.passed (next step)
//                                                                              └> gate.failed (stop)
//   A target is "touched" from its first step.intent (or, on a first deploy, from its upload:
//   the script's creation serves the new version at once). Only touched targets are rolled back:
//     rollback.intent ─createDeployment([prev 100])─> rollback.done | rollback.failed
//   Untouched targets are never written to. A failure in one target stops its wave's siblings at
//   their next await point, and no later wave starts.
import type { ResolvedWorker } from "../config/load.ts";
import type { WorkerUpload } from "../cloudflare/index.ts";
import { CboError } from "../kit/errors.ts";
import type { Release, Store } from "../store/index.ts";
import type { Bundle } from "./bundle.ts";
import { bindingsFor, ensureKvNamespaces } from "./bindings.ts";
import { J } from "./journal.ts";
import { observeDeployment } from "./observe.ts";
import { plannedSteps, splitFor } from "./plan.ts";
import { runGate } from "./probe.ts";
import { describeError, type Recorder } from "./record.ts";
import { restoreTarget } from "./restore.ts";
import { DEFAULT_CONFIG_NAMESPACE, secretBindings } from "./secrets.ts";
import type { EngineDeps, ReleasePlan, SecretSource, TargetRuntime } from "./types.ts";

/** Why a release stops before succeeding. Internal control flow, never shown as an API error. */
export class ReleaseStop extends Error {
  readonly kind: "gate" | "edge" | "abort" | "halt" | "sibling";
  readonly target: string | undefined;
  constructor(kind: ReleaseStop["kind"], message: string, target?: string) {
    super(message);
    this.name = "ReleaseStop";
    this.kind = kind;
    this.target = target;
  }
}

export type ApplyContext = {
  store: Store;
  rec: Recorder;
  release: Release;
  plan: ReleasePlan;
  worker: ResolvedWorker;
  bundle: Bundle;
  runtimes: Map<string, TargetRuntime>;
  /** The spec's targets (for each target's config namespace title). */
  spec?: { targets: Array<{ name: string; kv_namespace?: string | undefined }> };
  secrets?: SecretSource;
  orchestratorUrl?: string;
  publicKey?: string;
  agentTraffic?: EngineDeps["agentTraffic"];
  /** Aborted with a ReleaseStop of kind "abort" (rolls back) or "halt" (leaves it to recovery). */
  signal: AbortSignal;
};

type Progress = { previousVersionId: string | null; versionId: string | null; workerKey?: number };

export async function applyRelease(ctx: ApplyContext): Promise<Release> {
  const { rec, plan } = ctx;
  const touched = new Map<string, Progress>();
  try {
    for (const wave of plan.waves) {
      const waveStop = new AbortController();
      const signal = AbortSignal.any([ctx.signal, waveStop.signal]);
      const results = await Promise.allSettled(
        wave.map((name) =>
          applyTarget(ctx, name, signal, touched).catch((e: unknown) => {
            if (!waveStop.signal.aborted) waveStop.abort(new ReleaseStop("sibling", `stopped because ${name} failed`, name));
            throw e;
          }),
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
  const versions = Object.fromEntries([...touched].map(([t, p]) => [t, p.versionId]));
  // Every target now serves the new version at 100%: a key rotation it carried is complete there.
  for (const [t, p] of touched) if (p.workerKey !== undefined) ctx.secrets?.shipped(ctx.release.tenant, ctx.worker.name, t, p.workerKey);
  const release = rec.finish("succeeded", `every step passed on ${plan.targets.map((t) => t.name).join(", ")}`);
  rec.emit("release.succeeded", null, { versions, bundleHash: plan.bundleHash });
  return release;
}

async function applyTarget(ctx: ApplyContext, name: string, signal: AbortSignal, touched: Map<string, Progress>): Promise<void> {
  const { rec, plan, worker, release } = ctx;
  const planned = plan.targets.find((t) => t.name === name)!;
  const runtime = ctx.runtimes.get(name);
  if (!runtime) throw new ReleaseStop("edge", `target ${name} is no longer configured`, name);
  const previousVersionId = planned.previousVersionId;
  let stage = "upload";
  try {
    signal.throwIfAborted();
    rec.journal(J.uploadIntent, name, { previousVersionId, bundleHash: plan.bundleHash });
    const configNamespaceId = worker.agent ? await configNamespace(runtime, ctx.spec?.targets.find((t) => t.name === name)?.kv_namespace) : undefined;
    const secrets = secretBindings(worker, name, plan.secrets, ctx.secrets, { by: `release:${release.id}`, orchestratorUrl: ctx.orchestratorUrl, publicKey: ctx.publicKey, configNamespaceId });
    const upload: WorkerUpload = {
      mainModule: ctx.bundle.mainModule,
      modules: ctx.bundle.modules,
      compatibilityDate: worker.compatibilityDate,
      compatibilityFlags: worker.compatibilityFlags,
      bindings: [...(await bindingsFor(worker, runtime)), ...secrets.bindings],
      // A Worker that uses vault secrets gets exactly the ones its plan ships: none carried over
      // from the previous version (a withheld or removed secret must not linger there).
      ...(worker.secrets.length > 0 ? { keepBindings: [] } : {}),
      annotations: { "workers/message": `cbo release ${release.id}` },
    };
    signal.throwIfAborted();
    let versionId: string;
    if (previousVersionId === null) {
      // Nothing served yet: the first-deploy PUT creates the script and serves this version.
      touched.set(name, { previousVersionId, versionId: null });
      const put = await runtime.client.uploadScript(worker.name, upload);
      if (!put.deployment_id) throw new CboError("ERR_CF_RESPONSE", `the first upload of ${worker.name} to ${name} returned no version id`);
      versionId = put.deployment_id;
      touched.set(name, { previousVersionId, versionId, ...(secrets.pins?.workerKey ? { workerKey: secrets.pins.workerKey } : {}) });
    } else {
      versionId = (await runtime.client.uploadVersion(worker.name, upload)).id;
    }
    rec.journal(J.uploaded, name, { versionId, previousVersionId, created: previousVersionId === null });
    ctx.store.catalog.recordVersion({ tenant: release.tenant, worker: worker.name, target: name, version_id: versionId, release_id: release.id, bundle_hash: plan.bundleHash, secrets: secrets.pins });
    rec.emit("release.target.uploaded", name, { versionId, previousVersionId, ...(secrets.pins ? { secrets: secrets.pins } : {}) });

    for (const percent of plannedSteps(plan, name)) {
      signal.throwIfAborted();
      stage = `the ${percent}% step`;
      const split = splitFor(versionId, previousVersionId, percent);
      rec.journal(J.stepIntent, name, { percent, versionId, previousVersionId, split });
      touched.set(name, { previousVersionId, versionId, ...(secrets.pins?.workerKey ? { workerKey: secrets.pins.workerKey } : {}) });
      await runtime.client.createDeployment(worker.name, split, { message: `cbo release ${release.id}: ${percent}%` });
      rec.journal(J.stepDeployed, name, { percent, versionId });
      rec.emit("release.step.started", name, { percent, versionId, previousVersionId, split });
      signal.throwIfAborted();
      stage = `the ${percent}% gate`;
      const stepStart = Date.now();
      const traffic = ctx.agentTraffic && worker.agent ? () => ctx.agentTraffic!(release.tenant, worker.name, name, versionId, stepStart) : undefined;
      const gate = await runGate({ endpoint: runtime.endpoint(worker.name), worker: worker.name, versionId, gate: plan.gate, signal, ...(traffic ? { traffic } : {}) });
      const data = {
        percent, versionId, samples: gate.summary.samples, errors: gate.summary.failures, errorRate: gate.summary.errorRate, durationMs: gate.durationMs, reason: gate.reason,
        ...(gate.traffic ? { agentRequests: gate.traffic.requests, agentErrors: gate.traffic.errors } : {}),
      };
      if (gate.verdict === "pass") {
        rec.journal(J.gatePassed, name, data);
        rec.emit("release.step.passed", name, data);
        continue;
      }
      rec.journal(J.gateFailed, name, data);
      rec.emit("release.step.failed", name, data);
      throw new ReleaseStop("gate", `gate failed on ${name} at ${percent}%: ${gate.reason}`, name);
    }
  } catch (e) {
    if (e instanceof ReleaseStop) throw e;
    if (signal.aborted && signal.reason instanceof ReleaseStop) throw signal.reason;
    const why = `${name}: ${stage} failed: ${describeError(e)}`;
    rec.journal(J.targetFailed, name, { stage, error: describeError(e) });
    rec.emit("release.step.failed", name, { stage, reason: why });
    throw new ReleaseStop("edge", why, name);
  }
}

/** The id of the target's config namespace (created when missing). */
async function configNamespace(runtime: TargetRuntime, title: string | undefined): Promise<string> {
  const t = title ?? DEFAULT_CONFIG_NAMESPACE;
  return (await ensureKvNamespaces(runtime, [t])).get(t)!;
}

function asStop(e: unknown, signal: AbortSignal): ReleaseStop {
  if (e instanceof ReleaseStop && e.kind !== "sibling") return e;
  if (signal.aborted && signal.reason instanceof ReleaseStop) return signal.reason;
  if (e instanceof ReleaseStop) return e;
  return new ReleaseStop("edge", `unexpected: ${describeError(e)}`);
}

/** Every touched target back on the version it served before, in parallel (seconds, not minutes). */
async function rollBackTouched(ctx: ApplyContext, stop: ReleaseStop, touched: Map<string, Progress>): Promise<Release> {
  const { rec, worker } = ctx;
  const names = [...touched.keys()];
  rec.status("rolling_back", stop.message);
  rec.emit("release.rolling_back", null, { reason: stop.message, kind: stop.kind, targets: names });
  const outcomes = await Promise.all(
    names.map(async (name) => {
      const p = touched.get(name)!;
      // A first deploy has nothing earlier to serve: it stays on the new version, at 100%.
      const to = p.previousVersionId ?? p.versionId;
      const note = p.previousVersionId === null ? "no previous version: keeps serving the new version" : undefined;
      if (to === null) {
        // The first upload's answer never came: whatever it created is all there is to serve.
        const live = await observeDeployment(ctx.runtimes.get(name)!, worker.name).catch(() => undefined);
        const serving = live?.[0]?.versionId;
        return { name, ok: live !== undefined, kept: serving !== undefined, text: serving ? `${name} serves ${serving} (first upload, nothing earlier)` : `${name} serves nothing (first upload did not complete)` };
      }
      rec.journal(J.rollbackIntent, name, { versionId: to, from: p.versionId });
      try {
        await restoreTarget(ctx.runtimes.get(name)!, worker.name, to, { checkFirst: p.previousVersionId === null, message: `cbo rollback of release ${ctx.release.id}` });
        rec.journal(J.rollbackDone, name, { versionId: to, ...(note ? { note } : {}) });
        return { name, ok: true, kept: note !== undefined, text: note ? `${name} stays on ${to} (${note})` : `${name} back on ${to}` };
      } catch (e) {
        rec.journal(J.rollbackFailed, name, { versionId: to, error: describeError(e) });
        return { name, ok: false, kept: false, text: `${name} could not be rolled back to ${to}: ${describeError(e)}` };
      }
    }),
  );
  const untouched = ctx.plan.targets.map((t) => t.name).filter((n) => !touched.has(n));
  const summary = [
    outcomes.length === 0 ? "no target was changed" : outcomes.map((o) => o.text).join(", "),
    ...(untouched.length > 0 ? [`untouched: ${untouched.join(", ")}`] : []),
  ].join("; ");
  const reason = `${stop.message}; ${summary}`;
  const data = { reason, targets: outcomes.map((o) => ({ target: o.name, ok: o.ok })), untouched };
  // A target that could not go back, or had nothing to go back to (its first deploy failed its
  // gate and still serves the new version), makes the release `failed`, never `rolled_back`:
  // that status promises every touched target serves what it served before.
  if (outcomes.some((o) => !o.ok || o.kept)) {
    const release = rec.finish("failed", reason);
    rec.emit("release.failed", null, data);
    return release;
  }
  const status = stop.kind === "abort" ? "aborted" : "rolled_back";
  const release = rec.finish(status, reason);
  rec.emit(status === "aborted" ? "release.aborted" : "release.rolled_back", null, data);
  return release;
}
