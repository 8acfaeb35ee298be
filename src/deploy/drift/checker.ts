// The drift checker: on the monitor's interval (with its jitter), for every worker of the spec on
// every one of its targets, compares what the store says should run (the journal's desiredState,
// ../journal.ts) with what the edge runs (src/targets/live-read.ts), keeps the verdict in the
// store and appends drift.* events on transitions only. Level-based: every pass re-reads desired
// and observed state.
//
// The loop is the monitor's (kit/pass-loop.ts): chained passes, a jittered pause between them.
// No pass runs while the disk is full (store.storage.paused()): the first failed write pauses them.
// Per worker and target, each pass:
//   a release/rollback of the worker unfinished ──> pending (no verdict: the engine is moving it)
//   nothing desired yet, or the journal left it uncertain, or the edge unreadable ──> unknown
//   no read allowed by the budget (pace.ts) ──> unchanged, read first next pass (normal for a
//     fleet bigger than the budget share: said at debug; a warning only once a target has waited
//     BEHIND_INTERVALS intervals (at least BEHIND_MIN_MS) for its check, cleared once every wait is
//     under half that)
//   otherwise ──> in_sync | drifted; drift.detected on a new drift, drift.resolved when it is gone
//   drifted and `drift: revert` ──> the desired split deployed again (revert.ts, through the
//     engine's restore path), at most once per interval per target, never while the engine moves
//     the worker ──> drift.reverted, or drift.revert.failed (once per reason) when it cannot be
//     put back
import { toCboError } from "../../kit/errors.ts";
import type { ResolvedSpec, ResolvedWorker } from "../../config/load.ts";
import type { TargetRuntime } from "../../targets/types.ts";
import type { EventPayload, EventType, NewEvent } from "../../contract/index.ts";
import type { DriftKey, Release, Store } from "../../store/index.ts";
import { compareTarget, mainVersion, sameSplit, splitText, transition, type CatalogFacts, type Verdict } from "./compare.ts";
import { desiredState, type DesiredTarget } from "../journal.ts";
import type { Split } from "../../targets/types.ts";
import { createPace } from "./pace.ts";
import { createVersionFactsCache } from "./version-facts.ts";
import { readDeployment } from "../../targets/live-read.ts";
import { withCallScope } from "../../cloudflare/index.ts";
import { cannotRevert, revertTarget } from "./revert.ts";
import { createPassLoop, type PassLoop } from "../../kit/pass-loop.ts";
import { forEachBounded } from "../../kit/bounded-concurrency.ts";
import { type Logger, silentLogger } from "../../telemetry/index.ts";

export type DriftCheckerOptions = {
  store: Store;
  spec: () => ResolvedSpec;
  targets: () => Map<string, TargetRuntime>;
  /** Pause between passes, before jitter: the monitor's interval. */
  intervalMs?: number;
  jitter?: number;
  concurrency?: number;
  /** Share (0..1) of each API token's request budget drift reads may use (default 0.5). */
  budgetShare?: number;
  /** True while something other than a stored release moves the worker; stored unfinished releases always count. */
  busy?: (tenant: string, worker: string) => boolean;
  /** Config versions published (desired) and applied by the agents, from config sync. */
  /**
   * The config versions of a Worker on a target: the latest published, the one its agents applied,
   * and the one in the target's KV (null: none; absent: not known): a publish cut off (a kill -9) or
   * failed on that target leaves it behind, and a publish again is what writes it.
   */
  configVersions?: (worker: string, target: string) => { desired?: number; applied?: number; written?: number | null };
  log?: Logger;
  random?: () => number;
  now?: () => number;
};

export type DriftChecker = PassLoop;

type Job = { worker: ResolvedWorker; runtime: TargetRuntime; desired: DesiredTarget | undefined; head: string };

type DriftEvent = Extract<EventType, `drift.${string}`>;

/** A target unchecked for this many intervals (and at least BEHIND_MIN_MS) makes the budget share worth a warning. */
export const BEHIND_INTERVALS = 10;
/** Drift seen within half a minute is no news: below this, spreading checks is said at debug only. */
export const BEHIND_MIN_MS = 30_000;

const headOf = (r: Release | undefined) => (r ? `${r.id}:${r.status}` : "none");

export function createDriftChecker(opts: DriftCheckerOptions): DriftChecker {
  const { store, intervalMs = 1000, jitter = 0.2, concurrency = 8, log = silentLogger } = opts;
  const now = opts.now ?? Date.now;
  const pace = createPace({ share: opts.budgetShare ?? 0.5, now });
  const facts = createVersionFactsCache();
  const lastRead = new Map<string, number>();
  const lastRevert = new Map<string, number>();
  const reverted = new Set<string>();
  const revertFailure = new Map<string, string>();
  const configLagSince = new Map<string, { desired: number; at: number }>();
  let deferring = false;
  // The longest a target has waited for its check this pass (read or deferred), and whether
  // "running behind" was said. The warning clears only once every wait is under half its threshold:
  // a fleet whose waits hover at the threshold (the example fleet's do, at ~10 s) would otherwise
  // print "running behind" and "keep up again" every few seconds.
  let behindMs = 0;
  let warnedBehind = false;
  const behindLimitMs = Math.max(BEHIND_INTERVALS * intervalMs, BEHIND_MIN_MS);
  const startedAt = now();

  const keyOf = (k: DriftKey) => `${k.tenant}/${k.worker}/${k.target}`;
  const headNow = (w: ResolvedWorker) => store.releases.head(w.name, w.tenant);
  // Per worker: the desired state as of the release store's stamp. An idle daemon writes no
  // release, so its passes reuse it instead of reading and checking every record's plan and
  // journal again each second (most of what a pass allocated).
  const desiredCache = new Map<string, { stamp: string; targets: string; head: string; desired: Map<string, DesiredTarget> }>();
  const moved = (job: Job) => headNow(job.worker) !== job.head || (opts.busy?.(job.worker.tenant, job.worker.name) ?? false);
  const emit = <T extends DriftEvent>(k: DriftKey, type: T, data: EventPayload<T>) =>
    store.events.append({ tenant: k.tenant, type, worker: k.worker, target: k.target, data } as NewEvent);

  function catalogFacts(k: DriftKey, versionId: string): CatalogFacts {
    const row = store.catalog.version(k.tenant, k.target, versionId);
    return { known: row !== undefined, secrets: row?.secrets?.secrets ?? null };
  }

  /** Applied < desired counts once it has lasted longer than one interval (the agents poll and apply). */
  function configLag(k: DriftKey): { desired: number; applied: number | null; written?: number | null } | undefined {
    const v = opts.configVersions?.(k.worker, k.target);
    const key = keyOf(k);
    if (!v || v.desired === undefined || (v.applied ?? 0) >= v.desired) return void configLagSince.delete(key);
    const since = configLagSince.get(key);
    if (!since || since.desired !== v.desired) return void configLagSince.set(key, { desired: v.desired, at: now() });
    if (now() - since.at <= intervalMs) return undefined;
    return { desired: v.desired, applied: v.applied ?? null, ...(v.written !== undefined ? { written: v.written } : {}) };
  }

  async function check(job: Job): Promise<void> {
    const { worker, runtime, desired } = job;
    const k: DriftKey = { tenant: worker.tenant, worker: worker.name, target: runtime.name };
    if (!desired) return void store.drift.mark(k, "unknown", "no release or rollback has put a version here yet");
    if (desired.state === "uncertain") return void store.drift.mark(k, "unknown", desired.why);
    if (!pace.take(runtime.client.budget)) {
      deferring = true;
      behindMs = Math.max(behindMs, now() - (lastRead.get(keyOf(k)) ?? startedAt));
      return;
    }
    const prev = lastRead.get(keyOf(k));
    if (prev !== undefined) behindMs = Math.max(behindMs, now() - prev);
    lastRead.set(keyOf(k), now());
    let observed: Split;
    try {
      // Background reads: last in the budget queue, behind people's plans and the releases.
      observed = await withCallScope({ priority: "background" }, async () => {
        const split = await readDeployment(runtime, worker.name);
        // Bindings and settings are read only when the split differs: versions are immutable.
        if (!sameSplit(desired.split, split)) {
          for (const id of new Set([...desired.split, ...split].map((v) => v.versionId))) {
            if (facts.peek(runtime, worker.name, id) !== undefined) continue;
            pace.spend(runtime.client.budget, 1);
            await facts.read(runtime, worker.name, id);
          }
        }
        return split;
      });
    } catch (e) {
      return void store.drift.mark(k, "unknown", `the edge could not be read: ${describe(e)}`);
    }
    const lag = configLag(k);
    const verdict = compareTarget({
      desired: desired.split,
      observed,
      facts: (id) => facts.peek(runtime, worker.name, id),
      catalog: (id) => catalogFacts(k, id),
      spec: worker,
      ...(lag ? { configLag: lag } : {}),
    });
    // A release that started while this check read the edge would make the verdict stale.
    if (moved(job)) return;
    const { previous, row } = store.drift.record({
      ...k,
      drifted: verdict.drifted,
      kinds: verdict.kinds,
      detail: verdict.detail,
      desired: desired.split,
      observed,
      differences: verdict.differences,
      signature: verdict.signature,
    });
    const event = transition(previous, verdict);
    if (event === "detected") {
      const versionId =
        observed.find((v) => !desired.split.some((d) => d.versionId === v.versionId))?.versionId ?? mainVersion(observed) ?? null;
      emit(k, "drift.detected", {
        kinds: verdict.kinds,
        reason: verdict.detail,
        versionId,
        desired: desired.split,
        observed,
        differences: verdict.differences,
        policy: worker.drift,
        desiredFrom: desired.source.releaseId,
        since: row.since,
      });
      log.warn(`drift ${k.worker}@${k.target}: detected (${verdict.kinds.join(", ")}): ${verdict.detail}`);
    } else if (event === "resolved") {
      const key = keyOf(k);
      emit(k, "drift.resolved", {
        kinds: previous?.kinds ?? [],
        reason: "serves the desired versions again",
        versionId: mainVersion(desired.split) ?? null,
        reverted: reverted.has(key),
        since: previous?.since ?? null,
      });
      log.info(`drift ${k.worker}@${k.target}: resolved`);
      reverted.delete(key);
      revertFailure.delete(key);
    }
    if (verdict.drifted && worker.drift === "revert") await revert(job, k, desired.split, observed, verdict);
  }

  async function revert(job: Job, k: DriftKey, desired: Split, observed: Split, verdict: Verdict): Promise<void> {
    // A config lag is the agents' to close; a deployment cannot revert it.
    if (!verdict.kinds.some((kind) => kind !== "config")) return;
    const key = keyOf(k);
    const last = lastRevert.get(key);
    if (last !== undefined && now() - last < intervalMs) return;
    const cannot = cannotRevert(desired, (id) => facts.peek(job.runtime, k.worker, id));
    if (cannot) return failed(k, cannot, desired);
    if (moved(job)) return; // the last look before writing: never while the engine moves the worker
    lastRevert.set(key, now());
    const r = await revertTarget(job.runtime, k.worker, desired);
    if (!r.ok) return failed(k, r.why, desired);
    reverted.add(key);
    store.drift.noteRevert(k, `reverted ${new Date(now()).toISOString()}: ${splitText(desired)} deployed again`);
    emit(k, "drift.reverted", {
      reason: verdict.detail,
      versionId: mainVersion(desired) ?? null,
      to: splitText(desired),
      from: observed,
      desired,
    });
    log.info(`drift ${k.worker}@${k.target}: reverted to ${splitText(desired)}`);
  }

  function failed(k: DriftKey, why: string, desired: Split): void {
    store.drift.noteRevert(k, `not reverted: ${why}`);
    const key = keyOf(k);
    if (revertFailure.get(key) === why) return;
    revertFailure.set(key, why);
    emit(k, "drift.revert.failed", { reason: why, desired });
    log.warn(`drift ${k.worker}@${k.target}: not reverted: ${why}`);
  }

  function jobs(): Job[] {
    const spec = opts.spec();
    const runtimes = opts.targets();
    const out: Job[] = [];
    const unfinished = store.releases.unfinished();
    const stamp = store.releases.stamp();
    for (const worker of spec.workers) {
      const names = worker.targets.filter((t) => runtimes.has(t));
      const moving = unfinished.find((r) => r.tenant === worker.tenant && r.worker === worker.name);
      if (moving || opts.busy?.(worker.tenant, worker.name)) {
        const why = moving
          ? `${moving.kind} ${moving.id} is ${moving.status}: no verdict while the engine moves the worker`
          : "the engine is moving the worker: no verdict";
        for (const target of names) store.drift.mark({ tenant: worker.tenant, worker: worker.name, target }, "pending", why);
        continue;
      }
      const { desired, head } = desiredOf(worker, names, stamp);
      for (const name of names) out.push({ worker, runtime: runtimes.get(name)!, desired: desired.get(name), head });
    }
    // Workers gone from the spec leave the cache with their entries.
    for (const key of desiredCache.keys()) if (!spec.workers.some((w) => `${w.tenant}/${w.name}` === key)) desiredCache.delete(key);
    // Checked longest ago first: when the budget allows only some reads, the others come next pass.
    const at = (j: Job) => lastRead.get(keyOf({ tenant: j.worker.tenant, worker: j.worker.name, target: j.runtime.name })) ?? 0;
    return out.sort((a, b) => at(a) - at(b));
  }

  function desiredOf(worker: ResolvedWorker, names: string[], stamp: string): { desired: Map<string, DesiredTarget>; head: string } {
    const key = `${worker.tenant}/${worker.name}`;
    const cached = desiredCache.get(key);
    if (cached && cached.stamp === stamp && cached.targets === names.join("\n")) return cached;
    // The newest few records decide almost always; older ones are read only when they do not.
    const list = (limit: number) => store.releases.list({ worker: worker.name, tenant: worker.tenant, limit });
    let records = list(5);
    let desired = desiredState(records, (id) => store.releases.entries(id), names);
    if (records.length === 5 && names.some((n) => !desired.has(n)))
      desired = desiredState((records = list(50)), (id) => store.releases.entries(id), names);
    const fresh = { stamp, targets: names.join("\n"), head: headOf(records[0]), desired };
    desiredCache.set(key, fresh);
    return fresh;
  }

  // Spreading checks over passes is the normal state of a fleet larger than drift's budget share
  // (the example fleet is one): said at debug. Only a target left unchecked for many intervals is
  // news to an operator.
  function reportPace(wasDeferring: boolean): void {
    if (deferring && !wasDeferring) log.debug("drift: checks are spread over several passes to stay within their API budget share");
    if (wasDeferring && !deferring) log.debug("drift: every target checked in one pass again");
    const behind = warnedBehind ? behindMs >= behindLimitMs / 2 : deferring && behindMs >= behindLimitMs;
    if (behind && !warnedBehind)
      log.warn(
        `drift: checks are running behind: a target waited ${Math.round(behindMs / 1000)}s for its check (interval ${intervalMs}ms) ` +
          "because drift reads may use only their share of each token's API budget (CBO_CF_BUDGET); fewer workers or targets per token would keep up",
      );
    if (!behind && warnedBehind) log.info("drift: checks keep up with their interval again");
    warnedBehind = behind;
  }

  async function pass(): Promise<void> {
    // Backs off while the disk is full: verdicts and reverts could not be recorded (store/storage.ts).
    if (store.storage.paused()) return;
    try {
      const list = jobs();
      const wasDeferring = deferring;
      deferring = false;
      behindMs = 0;
      await forEachBounded(list, concurrency, check);
      reportPace(wasDeferring);
    } catch (e) {
      // A broken spec() or store write must not end the loop: the next pass tries again.
      log.error(`drift pass failed: ${describe(store.storage.classify(e))}`);
    }
  }

  return createPassLoop(pass, { intervalMs, jitter, ...(opts.random ? { random: opts.random } : {}) });
}

function describe(e: unknown): string {
  const err = toCboError(e);
  return `${err.code}: ${err.message.split("\n")[0]}`;
}
