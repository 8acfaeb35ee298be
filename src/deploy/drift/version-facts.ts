// What drift needs to know of a version (binding names and types, settings), read through the one
// reader of the edge (src/targets/live-read.ts) once per version: versions are immutable, so the
// answer is cached for good. Only binding names and types are kept from a version, never a
// value (a plain_text binding's text, say).
import { byCodeUnits } from "../../kit/order.ts";
import type { Version } from "../../cloudflare/index.ts";
import { readVersion } from "../../targets/live-read.ts";
import type { TargetRuntime } from "../../targets/types.ts";
import type { VersionFacts } from "./compare.ts";

export function factsOf(v: Version): VersionFacts {
  const runtime = v.resources?.script_runtime;
  return {
    bindings: (v.resources?.bindings ?? []).map((b) => ({ name: b.name, type: b.type })).sort((a, b) => byCodeUnits(a.name, b.name)),
    compatibilityDate: runtime?.compatibility_date ?? null,
    compatibilityFlags: runtime?.compatibility_flags ?? null,
  };
}

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
      // A version (or the whole Worker) that is gone does not come back under the same id.
      const v = await readVersion(runtime, worker, versionId);
      const facts: VersionFacts | "missing" = v === "missing" ? v : factsOf(v);
      cache.set(k, facts);
      if (cache.size > limit) cache.delete(cache.keys().next().value!);
      return facts;
    },
  };
}
