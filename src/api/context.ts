// What every route module receives, and the lookups several of them share.
import type { ResolvedSpec, ResolvedWorker } from "../config/load.ts";
import { shownText } from "../contract/index.ts";
import { CboError } from "../kit/errors.ts";
import type { Release, Store } from "../store/index.ts";
import type { AuthGate } from "./auth-gate.ts";
import type { Observation } from "../targets/live-cache.ts";
import type { ApiDeps } from "./types.ts";

export type RouteContext = {
  deps: ApiDeps;
  /** The auth gate: signed routes report their refusals through it (refuseSigned). */
  gate: AuthGate;
  /** The cached observation of a worker's targets (src/targets/live-cache.ts). */
  observed: (worker: string) => Promise<Observation>;
  /** The OpenAPI document of every route (built once, on first use). */
  openapi: () => Record<string, unknown>;
};

/** The worker as the spec declares it, or ERR_NOT_FOUND listing the ones that exist. */
export function requireWorker(spec: ResolvedSpec, name: string): ResolvedWorker {
  const w = spec.workers.find((x) => x.name === name);
  if (w) return w;
  const known = spec.workers.map((x) => x.name);
  throw new CboError("ERR_NOT_FOUND", `No worker named "${shownText(name)}" in ${spec.file}.`, {
    details: { worker: shownText(name), known },
    hint: known.length ? `Known workers: ${known.join(", ")}.` : "Declare it under `workers:` in orchestrator.yaml.",
  });
}

/** The release of this tenant, or ERR_NOT_FOUND (another tenant's release does not exist for the caller). */
export function requireRelease(store: Store, id: string, tenant: string): Release {
  const r = store.releases.get(id);
  if (!r || r.tenant !== tenant)
    throw new CboError("ERR_NOT_FOUND", `No release with id "${shownText(id)}".`, { details: { release: shownText(id) } });
  return r;
}
