// The release engine: the plain object of async methods the API, the CLI and the daemon call.
// It re-reads the spec and the targets on every call (level-based), allows one unfinished
// release (or rollback) per worker, and runs releases in the background; the journal, not
// memory, is the source of truth after a restart.
//
// Per worker:  idle ──release()/rollback()──> claimed (bundling, reading the edge)
//              claimed ──error──> idle (nothing recorded, the caller gets the error)
//              claimed ──record inserted──> active ──terminal status──> idle
//              active ──abort()──> rolling back ──> idle;  close() halts it (journal keeps it)
//              rolling back ──a touched target cannot be put back yet──> owed (retried until it
//                lands: "restore pending" in restores()) ──> idle
// recover() at start claims each unfinished release the same way and runs its recovery as an
// active release, waiting for it until it ends or a restore in it is owed; a release stopped while
// it waited (an approval, a pause) goes on instead (resume.ts), and recover() does not wait for it.
import type { ResolvedWorker } from "../config/load.ts";
import { sleep } from "../kit/backoff.ts";
import { CboError } from "../kit/errors.ts";
import { uuid } from "../kit/ids.ts";
import { TERMINAL_STATUSES } from "../contract/index.ts";
import type { Release } from "../store/index.ts";
import { applyRelease, ReleaseStop } from "./apply.ts";
import { createRestoreBoard, finishRecorded } from "./owed.ts";
import { diffOf } from "./diff-desired.ts";
import { assetRuleWarnings, buildRelease, type ReleaseBuild } from "./release-build.ts";
import { probeWarning } from "./probe-reach.ts";
import { observeForRelease, type TargetFacts } from "./observe.ts";
import { plan as planRelease } from "./plan.ts";
import { createRecorder, describeError, type PendingEvent } from "./record.ts";
import { planSecrets } from "./secret-plan.ts";
import { recoverRelease } from "./recover.ts";
import { resumable, type Resumable } from "./resume.ts";
import { J } from "./journal.ts";
import type { ApplyContext } from "./apply-context.ts";
import { checkNonGradual } from "./non-gradual.ts";
import { pendingStateChanges } from "./state-changes.ts";
import { checkRollback, previewRollback } from "./rollback-state.ts";
import { previewD1Restore, restoreD1ToBookmark } from "./d1-restore.ts";
import { applyRollback, planRollback } from "./rollback.ts";
import type { ControlOpts, Engine, EngineDeps, ReleasePlan } from "./types.ts";
import { createControlBoard } from "./control/board.ts";
import { createAnalysisBoard } from "./analysis/board.ts";
import { windowRefusal } from "./release-window.ts";
import type { TargetRuntime } from "../targets/types.ts";
import { silentLogger, span } from "../telemetry/index.ts";
import { withCallScope } from "../cloudflare/index.ts";
import { preparing, releaseCallScope } from "./budget-wait.ts";

const UNCHANGED_REASON = "every target already runs what the spec says: nothing to release (--force releases anyway)";

type Active = {
  id: string;
  key: string;
  abort: AbortController;
  done: Promise<Release>;
  /** Every target passed its last step: it only finishes now (apply.ts), and an abort is refused. */
  finishing?: boolean;
};

export function createEngine(deps: EngineDeps): Engine {
  const { store } = deps;
  const log = deps.log ?? silentLogger;
  const claimed = new Set<string>();
  /** Workers claimed by a D1 restore (no release record): what a refused release names. */
  const restoring = new Map<string, string>();
  const active = new Map<string, Active>();
  const halt = new AbortController();
  const board = createRestoreBoard();
  const control = createControlBoard(store.holds);
  const analyses = createAnalysisBoard();
  let closed = false;

  const keyOf = (tenant: string, worker: string) => `${tenant}/${worker}`;

  function findWorker(name: string): ResolvedWorker {
    const spec = deps.spec();
    const worker = spec.workers.find((w) => w.name === name);
    if (!worker) {
      throw new CboError("ERR_NOT_FOUND", `No worker named "${name}" in ${spec.file}.`, {
        details: { worker: name, known: spec.workers.map((w) => w.name) },
        hint:
          spec.workers.length > 0
            ? `Known workers: ${spec.workers.map((w) => w.name).join(", ")}.`
            : "Declare it under `workers:` in orchestrator.yaml.",
      });
    }
    return worker;
  }

  function runtimesFor(worker: ResolvedWorker): Map<string, TargetRuntime> {
    const all = deps.targets();
    const missing = worker.targets.filter((t) => !all.has(t));
    if (missing.length > 0)
      throw new CboError("ERR_VALIDATION", `Worker ${worker.name} needs target(s) ${missing.join(", ")}, which are not configured.`);
    return new Map(worker.targets.map((t) => [t, all.get(t)!]));
  }

  /** Reserves the worker for one release or rollback; the returned function gives it back. */
  function claim(worker: ResolvedWorker): () => void {
    if (closed) throw new CboError("ERR_CONFLICT", "The engine is shutting down.");
    const key = keyOf(worker.tenant, worker.name);
    const running = store.releases.unfinished().find((r) => r.tenant === worker.tenant && r.worker === worker.name);
    const restore = restoring.get(key);
    if (claimed.has(key) && !running && restore !== undefined)
      throw new CboError("ERR_CONFLICT", `Worker ${worker.name} has a D1 restore in progress (${restore}).`, {
        details: { worker: worker.name, restore },
        hint: "Wait for it to finish (it is one request to the database), then release again: the plan reads the restored schema.",
      });
    if (claimed.has(key) || running) {
      const owed = running ? board.of(running.id).map((p) => p.target) : [];
      throw new CboError(
        "ERR_CONFLICT",
        `Worker ${worker.name} already has a release in progress${running ? ` (${running.id}, ${running.status}${owed.length > 0 ? `, restore pending on ${owed.join(", ")}` : ""})` : ""}.`,
        {
          details: {
            worker: worker.name,
            ...(running ? { releaseId: running.id } : {}),
            ...(owed.length > 0 ? { restorePending: owed } : {}),
          },
          hint:
            owed.length > 0
              ? "Its rollback ends once the region answers again (see cbo status)."
              : running
                ? `Wait for it, or abort it: cbo release abort ${running.id}.`
                : "Wait for it to finish.",
        },
      );
    }
    claimed.add(key);
    return () => claimed.delete(key);
  }

  /**
   * Builds every environment the worker's targets release, reads what the release needs from each
   * target (observe.ts), and plans. The facts stay in memory for apply (an assets upload session
   * among them); the plan is what gets stored.
   */
  async function prepare(
    worker: ResolvedWorker,
    runtimes: Map<string, TargetRuntime>,
    full: boolean,
  ): Promise<{ plan: ReleasePlan; build: ReleaseBuild; facts: Map<string, TargetFacts> }> {
    const build = await buildRelease(worker, { protect: deps.protectedPaths ?? [] });
    const specTargets = deps.spec().targets;
    const places = new Map(specTargets.map((t) => [t.name, { name: t.name, jurisdiction: t.jurisdiction }]));
    const observed = await Promise.all(
      worker.targets.map((t) =>
        observeForRelease(runtimes.get(t)!, worker, build.of(t), places.get(t) ?? { name: t }, {
          versions: full,
          configNamespace: specTargets.find((x) => x.name === t)?.kv_namespace,
        }),
      ),
    );
    const facts = new Map(observed.map((o) => [o.target, o]));
    const targets = new Map([...runtimes].map(([n, r]) => [n, { accountId: r.accountId, bundleHash: build.of(n).hash }]));
    let plan = planRelease(worker, build.main.hash, targets, observed);
    const builds = [build.main, ...worker.targets.map((t) => build.of(t))];
    const ruleWarnings = [
      ...new Set([
        ...builds.flatMap(assetRuleWarnings),
        ...builds.flatMap(
          (b) =>
            probeWarning({
              hasWorker: b.source.main !== undefined,
              assets: b.source.assets,
              manifest: b.assets?.manifest,
              probePath: worker.gate.probe_path,
            }) ?? [],
        ),
      ]),
    ];
    if (ruleWarnings.length > 0) plan = { ...plan, warnings: [...(plan.warnings ?? []), ...ruleWarnings] };
    if (worker.secrets.length > 0 || worker.agent) {
      if (!deps.secrets)
        throw new CboError("ERR_VALIDATION", `Worker ${worker.name} uses secrets, but this orchestrator runs without a vault.`);
      const jurisdictions = new Map(specTargets.map((t) => [t.name, t.jurisdiction]));
      const targetsJ = worker.targets.map((name) => ({ name, jurisdiction: jurisdictions.get(name) }));
      plan = { ...plan, secrets: planSecrets(worker, targetsJ, deps.secrets.describe(worker.tenant, worker.secrets)) };
    }
    // What the release changes against what each target runs now: shown first by `cbo plan`,
    // and a release whose diff is empty does nothing (unless forced).
    const diff = diffOf({
      store,
      worker,
      build,
      facts,
      plan,
      places,
      orchestratorUrl: deps.orchestratorUrl?.(),
      publicKey: deps.publicKey?.(),
    });
    return { plan: { ...plan, diff }, build, facts };
  }

  /** Runs `work` in the background as the release `record`, settling the claim when it ends. */
  function start(
    record: Release,
    unclaim: () => void,
    work: (signal: AbortSignal) => Promise<Release>,
    failure = "internal error",
  ): Promise<Release> {
    const abort = new AbortController();
    const signal = AbortSignal.any([abort.signal, halt.signal]);
    // Its span: a child of the request that started it (the trace the caller sent), ended when it ends.
    const attributes = { "cbo.worker": record.worker, "cbo.release_id": record.id };
    // Its Cloudflare requests wait for the budget as long as it takes, and its events say so.
    const scope = releaseCallScope(createRecorder(store, record, log));
    const done = span(record.kind === "rollback" ? "rollback" : "release", attributes, () => withCallScope(scope, () => work(signal)))
      .catch((e: unknown) => {
        // A bug: record it rather than leave the release running forever (once the store takes it).
        const reason = `${failure}: ${describeError(e)}`;
        log.error(`${record.worker} ${record.id}: ${reason}`);
        const rec = createRecorder(store, record, log);
        const events: PendingEvent[] = [[record.kind === "rollback" ? "rollback.failed" : "release.failed", { reason }]];
        return finishRecorded(
          { rec, halt: halt.signal, ...(deps.restoreBackoff ? { backoff: deps.restoreBackoff } : {}) },
          { status: "failed", reason, events },
          () => store.releases.get(record.id) ?? record,
        );
      })
      .finally(() => {
        // What people said about it is kept only while it runs (a halted release keeps it for the next start).
        if (TERMINAL_STATUSES.has(store.releases.get(record.id)?.status ?? "running")) {
          try {
            store.holds.drop(record.id);
          } catch (e) {
            log.warn(`${record.worker} ${record.id}: its pause and approvals could not be dropped: ${describeError(e)}`);
          }
        }
        active.delete(record.id);
        control.close(record.id);
        analyses.drop(record.id);
        unclaim();
      });
    control.open(record.id);
    active.set(record.id, { id: record.id, key: keyOf(record.tenant, record.worker), abort, done });
    return done;
  }

  /** A release people may pause, resume or promote: a running release (not a rollback) of this daemon. */
  function controllable(id: string) {
    const record = store.releases.get(id);
    if (!record) throw new CboError("ERR_NOT_FOUND", `No release ${id}.`);
    if (TERMINAL_STATUSES.has(record.status))
      throw new CboError("ERR_CONFLICT", `Release ${id} already ended (${record.status}).`, {
        details: { releaseId: id, status: record.status },
      });
    if (record.kind === "rollback") throw new CboError("ERR_CONFLICT", `${id} is a rollback; it has no steps to pause or promote.`);
    if (record.status === "rolling_back") throw new CboError("ERR_CONFLICT", `Release ${id} is rolling back.`);
    if (!active.has(id)) throw new CboError("ERR_CONFLICT", `Release ${id} is not running in this daemon.`, { details: { releaseId: id } });
    return { record, rec: createRecorder(store, record, log) };
  }
  /**
   * Refuses a release while orchestrator.yaml's windows deny it, unless overridden with a reason;
   * returns the override to record when one was needed.
   */
  function windowCheck(spec: ReturnType<EngineDeps["spec"]>, override: { reason: string } | undefined) {
    const refusal = windowRefusal(spec.windows, new Date(deps.now?.() ?? Date.now()));
    if (!refusal) return undefined;
    if (!override?.reason.trim())
      throw new CboError("ERR_RELEASE_WINDOW", `Releases are not allowed now: ${refusal}.`, {
        details: { window: refusal },
        hint: 'Wait for the window to end, or override it with a reason (audited): cbo release <worker> --override-window --reason "…".',
      });
    return { reason: override.reason.trim(), window: refusal };
  }
  /** What apply needs besides the release's own parts: the daemon's. */
  function applyContext(
    own: Pick<ApplyContext, "rec" | "release" | "plan" | "worker" | "build" | "runtimes" | "signal" | "facts" | "resume">,
  ): ApplyContext {
    return {
      store,
      ...own,
      ...(deps.protectedPaths ? { protect: deps.protectedPaths } : {}),
      spec: deps.spec(),
      halt: halt.signal,
      board,
      ...(deps.restoreBackoff ? { restoreBackoff: deps.restoreBackoff } : {}),
      ...(deps.secrets ? { secrets: deps.secrets } : {}),
      ...(deps.orchestratorUrl?.() ? { orchestratorUrl: deps.orchestratorUrl()! } : {}),
      ...(deps.publicKey?.() ? { publicKey: deps.publicKey()! } : {}),
      ...(deps.agentTraffic ? { agentTraffic: deps.agentTraffic } : {}),
      analyses,
      control,
      finishing: () => {
        const a = active.get(own.release.id);
        if (a) a.finishing = true;
      },
    };
  }
  /** A release stopped while it waited goes on from where it was (resume.ts); recover() does not wait for it. */
  function goOn(r: Release, how: Extract<Resumable, { ok: true }>, unclaim: () => void): void {
    const rec = createRecorder(store, r, log);
    const where = [...how.points]
      .map(([t, p]) => `${t} ${p.settled ? "done" : p.after > 0 ? `after its ${p.after}% step` : "before its first step"}`)
      .join(", ");
    const reason = `daemon restarted while the release waited; it goes on where it was: ${where}`;
    const targets = [...how.points].map(([target, p]) => ({ target, after: p.after, versionId: p.versionId }));
    rec.tryTo(() => rec.journal(J.resumed, null, { targets }));
    rec.tryTo(() => rec.emit("release.continued", null, { reason, targets }));
    rec.log(reason);
    void start(r, unclaim, (signal) =>
      applyRelease(
        applyContext({
          rec,
          release: r,
          plan: how.plan,
          worker: how.worker,
          build: how.build,
          runtimes: how.runtimes,
          signal,
          resume: how.points,
        }),
      ),
    );
  }
  const reasonOf = (o: ControlOpts) => (o.reason === undefined ? {} : { reason: o.reason });

  const engine: Engine = {
    async plan(name) {
      const worker = findWorker(name);
      const runtimes = runtimesFor(worker);
      return (await prepare(worker, runtimes, true)).plan;
    },

    async diff(name) {
      const worker = findWorker(name);
      const runtimes = runtimesFor(worker);
      return (await prepare(worker, runtimes, false)).plan.diff!;
    },

    async release(name, opts = {}) {
      const worker = findWorker(name);
      const window = windowCheck(deps.spec(), opts.overrideWindow);
      const unclaim = claim(worker);
      let record: Release;
      let context: { plan: ReleasePlan; runtimes: Map<string, TargetRuntime>; build: ReleaseBuild; facts: Map<string, TargetFacts> };
      try {
        const runtimes = runtimesFor(worker);
        const prepared = await preparing(() => prepare(worker, runtimes, false));
        context = { ...prepared, runtimes };
        const plan = prepared.plan;
        // Before the record exists: a refused release leaves nothing behind.
        checkNonGradual(plan, {
          rolloutAllows: worker.allowNonGradual === true,
          ...(opts.allowNonGradual !== undefined ? { allowNonGradual: opts.allowNonGradual } : {}),
          ...(opts.confirmClassDeletion !== undefined ? { confirmClassDeletion: opts.confirmClassDeletion } : {}),
        });
        // Pending migrations are a change the code diff does not see.
        const unchanged = !opts.force && plan.diff !== undefined && !plan.diff.changed && pendingStateChanges(plan).length === 0;
        record = store.releases.insert({
          id: uuid(),
          tenant: worker.tenant,
          worker: worker.name,
          kind: "release",
          status: unchanged ? "unchanged" : "running",
          reason: unchanged ? UNCHANGED_REASON : null,
          plan: plan as unknown as Record<string, unknown>,
          created_by: opts.by ?? null,
        });
        if (unchanged) {
          // Nothing to do: recorded (and audited by the caller as requested), nothing touched.
          unclaim();
          const rec = createRecorder(store, record, log);
          rec.tryTo(() =>
            rec.emit("release.unchanged", null, { by: opts.by ?? null, bundleHash: plan.bundleHash, reason: UNCHANGED_REASON }),
          );
          rec.log(UNCHANGED_REASON);
          return record;
        }
      } catch (e) {
        unclaim();
        throw e;
      }
      const rec = createRecorder(store, record, log);
      // The record exists: from here the release runs, and ends, whatever the store takes (a write
      // it refuses stops the release at its first journal entry, before anything moves).
      rec.tryTo(() =>
        rec.emit("release.created", null, {
          by: opts.by ?? null,
          bundleHash: context.plan.bundleHash,
          waves: context.plan.waves,
          steps: context.plan.steps,
          apiCalls: context.plan.apiCalls,
          targets: context.plan.targets.map((t) => ({ target: t.name, previousVersionId: t.previousVersionId })),
          ...(window ? { windowOverride: window } : {}),
        }),
      );
      if (window) rec.log(`outside the release windows (${window.window}), overridden: ${window.reason}`);
      rec.log(`release of ${context.plan.bundleHash.slice(0, 12)} to ${context.plan.waves.map((w) => w.join("+")).join(" -> ")}`);
      start(record, unclaim, (signal) =>
        applyRelease(applyContext({ rec, release: record, worker, ...context, signal, facts: context.facts })),
      );
      return record;
    },

    async abort(id, opts = {}) {
      const record = store.releases.get(id);
      if (!record) throw new CboError("ERR_NOT_FOUND", `No release ${id}.`);
      const running = active.get(id);
      if (!running) {
        if (TERMINAL_STATUSES.has(record.status))
          throw new CboError("ERR_CONFLICT", `Release ${id} already ended (${record.status}).`, {
            details: { releaseId: id, status: record.status },
          });
        throw new CboError(
          "ERR_CONFLICT",
          `Release ${id} is not running in this daemon; the daemon that ran it recovers it when it starts again (it goes on if it was waiting, else it is rolled back).`,
          { details: { releaseId: id } },
        );
      }
      if (record.kind === "rollback") throw new CboError("ERR_CONFLICT", `Rollback ${id} cannot be aborted; it takes seconds.`);
      const owed = board.of(id);
      if (owed.length > 0) {
        throw new CboError(
          "ERR_CONFLICT",
          `Release ${id} is already rolling back; restore pending on ${owed.map((p) => p.target).join(", ")} (${owed[0]!.lastError}).`,
          {
            details: { releaseId: id, pending: owed.map((p) => ({ target: p.target, versionId: p.versionId, attempts: p.attempts })) },
            hint: "It ends by itself once the region answers again; `cbo status` shows the restore pending.",
          },
        );
      }
      if (running.finishing)
        throw new CboError(
          "ERR_CONFLICT",
          `Release ${id} passed every step on every target and is finishing (its D1 contract migrations): it can no longer be rolled back.`,
          {
            details: { releaseId: id },
            hint: "Wait for it to end; to go back afterwards, cbo rollback <worker> (the contract migrations stay: cbo d1 restore undoes them).",
          },
        );
      const who = `${opts.by ? ` by ${opts.by}` : ""}${opts.reason ? `: ${opts.reason}` : ""}`;
      createRecorder(store, record, log).log(`abort requested${who}`);
      running.abort.abort(new ReleaseStop("abort", `aborted${who}`));
      return running.done;
    },

    async rollback(name, opts = {}) {
      const worker = findWorker(name);
      const unclaim = claim(worker);
      let record: Release;
      let runtimes: Map<string, TargetRuntime>;
      let plan: Awaited<ReturnType<typeof planRollback>>;
      try {
        runtimes = runtimesFor(worker);
        plan = await planRollback(store, worker, runtimes, opts.to);
        // Refused before any call: a Durable Object migration in the way, or a confirmation missing.
        checkRollback(await previewRollback(store, plan, runtimes, deps.secrets), {
          ...(opts.confirmSecretDowngrade !== undefined ? { confirmSecretDowngrade: opts.confirmSecretDowngrade } : {}),
          ...(opts.force !== undefined ? { force: opts.force } : {}),
        });
        record = store.releases.insert({
          id: uuid(),
          tenant: worker.tenant,
          worker: worker.name,
          kind: "rollback",
          status: "running",
          reason: null,
          plan: plan as unknown as Record<string, unknown>,
          created_by: opts.by ?? null,
        });
      } catch (e) {
        unclaim();
        throw e;
      }
      const rec = createRecorder(store, record, log);
      rec.tryTo(() =>
        rec.emit("rollback.started", null, {
          by: opts.by ?? null,
          to: plan.to,
          resolved: plan.resolved,
          targets: plan.targets,
          skipped: plan.skipped,
        }),
      );
      start(record, unclaim, () =>
        applyRollback({ rec, plan, runtimes, checkFirst: false, halt: halt.signal, read: () => store.releases.get(record.id)! }),
      );
      return record;
    },

    async previewRollback(name, opts = {}) {
      const worker = findWorker(name);
      const runtimes = runtimesFor(worker);
      return previewRollback(store, await planRollback(store, worker, runtimes, opts.to), runtimes, deps.secrets);
    },

    previewD1Restore(req) {
      return previewD1Restore(store, findWorker, req);
    },

    async restoreD1(req, opts = {}) {
      const preview = previewD1Restore(store, findWorker, req);
      const worker = findWorker(preview.worker);
      // Not under a running release: its migrations would race the restore.
      const unclaim = claim(worker);
      const key = keyOf(worker.tenant, worker.name);
      restoring.set(key, `D1 ${preview.database} on ${req.target} to the bookmark before release ${preview.release}`);
      try {
        const runtime = runtimesFor(worker).get(req.target);
        if (!runtime) throw new CboError("ERR_NOT_FOUND", `Worker ${worker.name} has no target ${req.target}.`);
        const done = await restoreD1ToBookmark(runtime, preview, opts.beforeSending);
        log.info(`${worker.name}: D1 ${preview.database} on ${req.target} restored to the bookmark before release ${preview.release}`);
        return done;
      } finally {
        restoring.delete(key);
        unclaim();
      }
    },

    async wait(id) {
      const running = active.get(id);
      if (running) return running.done;
      // Not ours (another process, or before recovery): watch the record.
      for (;;) {
        const r = store.releases.get(id);
        if (!r) throw new CboError("ERR_NOT_FOUND", `No release ${id}.`);
        if (TERMINAL_STATUSES.has(r.status)) return r;
        const again = active.get(id);
        if (again) return again.done;
        await sleep(100);
      }
    },

    async recover() {
      const runtimes = deps.targets();
      for (const r of store.releases.unfinished()) {
        if (active.has(r.id)) continue;
        const key = keyOf(r.tenant, r.worker);
        if (claimed.has(key)) continue;
        claimed.add(key);
        const worker = deps.spec().workers.find((w) => w.tenant === r.tenant && w.name === r.worker);
        const resume = await resumable(store, r, { worker, runtimes, protect: deps.protectedPaths ?? [] }).catch(
          (e: unknown): Resumable => ({ ok: false, why: describeError(e) }),
        );
        if (resume?.ok) {
          log.info(`${r.worker} ${r.id}: resuming (it waited when the daemon stopped)`);
          goOn(r, resume, () => claimed.delete(key));
          continue;
        }
        log.info(`${r.worker} ${r.id}: recovering (${r.kind}, ${r.status})`);
        let owed: () => void = () => {};
        const owedOnce = new Promise<void>((resolve) => (owed = resolve));
        // A recovery starts a trace of its own: the request that started the release is long gone.
        const traced = <T>(fn: () => T): T =>
          deps.tracer ? deps.tracer.root("release.recover", { attributes: { "cbo.worker": r.worker, "cbo.release_id": r.id } }, fn) : fn();
        const done = traced(() =>
          start(
            r,
            () => claimed.delete(key),
            () =>
              recoverRelease({
                store,
                release: r,
                runtimes,
                log,
                board,
                halt: halt.signal,
                onOwed: owed,
                ...(deps.restoreBackoff ? { backoff: deps.restoreBackoff } : {}),
                // A contract phase left after the last gate is finished from the project as it is now.
                worker,
                ...(resume ? { cannotResume: resume.why } : {}),
                protect: deps.protectedPaths ?? [],
                place: (name) => {
                  const t = deps.spec().targets.find((x) => x.name === name);
                  return { name, ...(t?.jurisdiction ? { jurisdiction: t.jurisdiction } : {}) };
                },
              }),
            "recovery failed",
          ),
        );
        // A restore that does not land at once goes on in the background: the daemon starts anyway.
        await Promise.race([done, owedOnce]);
      }
    },

    restores: () => board.list(),

    async pause(id, opts = {}) {
      const { record, rec } = controllable(id);
      const view = control.pause(id, opts.by ?? null);
      rec.tryTo(() => rec.emit("release.paused", null, { by: opts.by ?? null, ...reasonOf(opts) }));
      rec.log(`paused${opts.by ? ` by ${opts.by}` : ""}`);
      return { release: store.releases.get(record.id) ?? record, control: view };
    },

    async resume(id, opts = {}) {
      const { record, rec } = controllable(id);
      const view = control.resume(id, opts.by ?? null);
      rec.tryTo(() => rec.emit("release.resumed", null, { by: opts.by ?? null, ...reasonOf(opts) }));
      rec.log(`resumed${opts.by ? ` by ${opts.by}` : ""}`);
      return { release: store.releases.get(record.id) ?? record, control: view };
    },

    async promote(id, opts = {}) {
      const { record, rec } = controllable(id);
      const { control: view, targets } = control.promote(id, opts.by ?? null);
      rec.tryTo(() => rec.emit("release.promoted", null, { by: opts.by ?? null, ...reasonOf(opts), targets }));
      rec.log(`promoted on ${targets.join(", ")}${opts.by ? ` by ${opts.by}` : ""}`);
      return { release: store.releases.get(record.id) ?? record, control: view, promoted: targets };
    },

    control(id) {
      if (!store.releases.get(id)) throw new CboError("ERR_NOT_FOUND", `No release ${id}.`);
      return control.view(id);
    },

    analysis(id) {
      const record = store.releases.get(id);
      if (!record) throw new CboError("ERR_NOT_FOUND", `No release ${id}.`);
      const enabled = (record.plan as { analysis?: { enabled?: boolean } }).analysis?.enabled === true;
      return analyses.read(record, store.releases.entries(id), enabled);
    },

    async close() {
      closed = true;
      halt.abort(new ReleaseStop("halt", "the engine is closing"));
      await Promise.all([...active.values()].map((a) => a.done.catch(() => {})));
    },
  };
  return engine;
}
