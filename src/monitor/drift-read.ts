// Drift's reads of the edge: the live deployment of a worker on a target (one request, every
// check), and what a version is (one request per version, once: versions are immutable, so the
// answer is cached for good). Only binding names and types are kept from a version, never a
// value (a plain_text binding's text, say).
import { isCboError } from "../kit/errors.ts";
import { isMissingScript, type Version } from "../cloudflare/index.ts";
import type { TargetRuntime } from "../deploy/types.ts";
import type { Split } from "./drift-desired.ts";
import type { VersionFacts } from "./drift-compare.ts";

/** The live split (newest deployment); empty when the Worker is not deployed there (or was deleted). */
export async function readLiveSplit(runtime: TargetRuntime, worker: string): Promise<Split> {
  try {
    const [live] = await runtime.client.listDeployments(worker);
    return (live?.versions ?? []).map((v) => ({ versionId: v.version_id, percentage: v.percentage }));
  } catch (e) {
    if (isMissingScript(e)) return [];
    throw e;
  }
}

export function factsOf(v: Version): VersionFacts {
  const runtime = v.resources?.script_runtime;
  return {
    bindings: (v.resources?.bindings ?? []).map((b) => ({ name: b.name, type: b.type })).sort((a, b) => a.name.localeCompare(b.name)),
    compatibilityDate: runtime?.compatibility_date ?? null,
    compatibilityFlags: runtime?.compatibility_flags ?? null,
  };
}

const isNotFound = (e: unknown) => isCboError(e) && e.details?.status === 404;

export type VersionFactsCache = {
  /** Cached facts, or undefined when this version was not read yet. */
  peek(runtime: TargetRuntime, worker: string, versionId: string): VersionFacts | "missing" | undefined;
  /** Reads the version (unless cached); "missing" when the edge no longer has it. */
  read(runtime: TargetRuntime, worker: string, versionId: string): Promise<VersionFacts | "missing">;
};

/** Bounded (oldest entry out first): a long-lived daemon sees an unbounded number of versions. */
export function createVersionFactsCache(limit = 1000): VersionFactsCache {
  const cache = new Map<string, VersionFacts | "missing">();
  const key = (runtime: TargetRuntime, worker: string, versionId: string) => `${runtime.accountId}/${worker}/${versionId}`;
  return {
    peek: (runtime, worker, versionId) => cache.get(key(runtime, worker, versionId)),
    async read(runtime, worker, versionId) {
      const k = key(runtime, worker, versionId);
      const hit = cache.get(k);
      if (hit !== undefined) return hit;
      let facts: VersionFacts | "missing";
      try {
        facts = factsOf(await runtime.client.getVersion(worker, versionId));
      } catch (e) {
        // The version (or the whole Worker) is gone; it does not come back under the same id.
        if (!isNotFound(e)) throw e;
        facts = "missing";
      }
      cache.set(k, facts);
      if (cache.size > limit) cache.delete(cache.keys().next().value!);
      return facts;
    },
  };
}
