// What a worker's targets serve now, read from the edge (never from our records), for /v1/status
// and the versions list. Each read costs one Cloudflare API request per target, from the same
// budget as running releases; the targets' read reuse (read-reuse.ts) answers repeated polls from
// a read made moments ago and shares one read between concurrent ones. A target that fails or does
// not answer in time (the budget full: ERR_CF_BUDGET says when it has room) gets an error text
// instead of holding up the whole answer, and its queued read is dropped.
import type { ResolvedSpec } from "../config/load.ts";
import { currentCallScope, withCallScope } from "../cloudflare/index.ts";
import { CboError } from "../kit/errors.ts";
import { readDeployment } from "./live-read.ts";
import type { Split, TargetRuntime } from "./types.ts";

export type Observation = {
  /** The live deployment per target that could be read. */
  live: Map<string, Split>;
  /** Why a target could not be read. */
  errors: Map<string, string>;
};

export const NOT_OBSERVED = "Live deployments are not observed: the API was started without target runtimes.";

export type ObserverDeps = {
  spec: () => ResolvedSpec;
  /** Without them nothing is read, and every target's error says so. */
  targets?: (() => Map<string, TargetRuntime>) | undefined;
  /** How long one observation of a worker is reused as a whole (ms); default 0 (the targets' read reuse does it). */
  observeCacheMs?: number | undefined;
  /** How long a read may take before the target is answered without it (ms); default 3 s. */
  observeTimeoutMs?: number | undefined;
};

export function createObserver(deps: ObserverDeps): (worker: string) => Promise<Observation> {
  const ttlMs = deps.observeCacheMs ?? 0;
  const timeoutMs = deps.observeTimeoutMs ?? 3_000;
  const cache = new Map<string, { value: Promise<Observation>; expires: number }>();

  async function readTarget(worker: string, target: string): Promise<Split> {
    const runtime = deps.targets!().get(target);
    if (!runtime) throw new CboError("ERR_VALIDATION", `Target "${target}" is not configured in this daemon.`);
    // The read is cancelled (and leaves the budget queue) when the time is up or the caller goes.
    const outer = currentCallScope();
    const expired = new AbortController();
    const timer = setTimeout(
      () => expired.abort(new CboError("ERR_CF_UNAVAILABLE", `The edge did not answer within ${timeoutMs} ms.`)),
      timeoutMs,
    );
    const signal = outer?.signal ? AbortSignal.any([outer.signal, expired.signal]) : expired.signal;
    const read = withCallScope(
      { priority: "interactive", ...outer, signal, maxWaitMs: Math.min(outer?.maxWaitMs ?? timeoutMs, timeoutMs) },
      () => readDeployment(runtime, worker),
    );
    const timeout = new Promise<never>((_, reject) =>
      expired.signal.addEventListener("abort", () => reject(expired.signal.reason), { once: true }),
    );
    try {
      return await Promise.race([read, timeout]);
    } finally {
      clearTimeout(timer);
      read.catch(() => {});
    }
  }

  async function read(worker: string): Promise<Observation> {
    const targets = deps.spec().workers.find((w) => w.name === worker)?.targets ?? [];
    const out: Observation = { live: new Map(), errors: new Map() };
    if (!deps.targets) {
      for (const t of targets) out.errors.set(t, NOT_OBSERVED);
      return out;
    }
    const results = await Promise.allSettled(targets.map((t) => readTarget(worker, t)));
    results.forEach((r, i) => {
      const t = targets[i]!;
      if (r.status === "fulfilled") out.live.set(t, r.value);
      // Our errors carry messages written for people; anything else may not, so it is not passed on.
      else out.errors.set(t, r.reason instanceof CboError ? r.reason.message : "The edge could not be read.");
    });
    return out;
  }

  return (worker) => {
    if (ttlMs <= 0) return read(worker);
    const hit = cache.get(worker);
    if (hit && hit.expires > Date.now()) return hit.value;
    const entry = { value: read(worker), expires: Number.POSITIVE_INFINITY };
    cache.set(worker, entry);
    void entry.value.then(() => (entry.expires = Date.now() + ttlMs));
    return entry.value;
  };
}
