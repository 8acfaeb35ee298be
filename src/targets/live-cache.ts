// What a worker's targets serve now, read from the edge (never from our records), for /v1/status
// and the versions list. Each read costs one Cloudflare API request per target, from the same
// budget as running releases, so one observation per worker is reused for a short while and
// concurrent requests share it. A target that fails or does not answer in time gets an error text
// instead of holding up the whole answer.
import type { ResolvedSpec } from "../config/load.ts";
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
  /** How long one observation of a worker is reused (ms); default 1 s. */
  observeCacheMs?: number | undefined;
  /** How long a read may take before the target is answered without it (ms); default 3 s. */
  observeTimeoutMs?: number | undefined;
};

export function createObserver(deps: ObserverDeps): (worker: string) => Promise<Observation> {
  const ttlMs = deps.observeCacheMs ?? 1_000;
  const timeoutMs = deps.observeTimeoutMs ?? 3_000;
  const cache = new Map<string, { value: Promise<Observation>; expires: number }>();

  async function readTarget(worker: string, target: string): Promise<Split> {
    const runtime = deps.targets!().get(target);
    if (!runtime) throw new CboError("ERR_VALIDATION", `Target "${target}" is not configured in this daemon.`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CboError("ERR_CF_UNAVAILABLE", `The edge did not answer within ${timeoutMs} ms.`)), timeoutMs);
    });
    try {
      return await Promise.race([readDeployment(runtime, worker), timeout]);
    } finally {
      clearTimeout(timer);
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
    const hit = cache.get(worker);
    if (hit && hit.expires > Date.now()) return hit.value;
    const entry = { value: read(worker), expires: Number.POSITIVE_INFINITY };
    cache.set(worker, entry);
    void entry.value.then(() => (entry.expires = Date.now() + ttlMs));
    return entry.value;
  };
}
