// The env shim. Runs INSIDE a loaded Worker version, as its first module: the router adds it as
// `__cbo_env.js` beside the main module and prepends `import "./__cbo_env.js";` to the main module,
// so it evaluates before any user code (install.ts).
//
// Why: a Worker Loader env can only carry values and RPC stubs, but some bindings are neither. A
// Durable Object namespace's idFromName() is synchronous and its stubs take any method name;
// Analytics Engine's writeDataPoint() is synchronous; D1's prepare() is synchronous; R2's get()
// hands out objects with methods (text(), writeHttpMetadata()); a queue producer encodes bodies
// by content type; a product the edge does not run must still be a binding, one that throws when
// used. For such a binding the router puts a descriptor {kind, …} under
// env.__CBO_SHIM[<binding name>], usually carrying an RPC stub to the router, and this module
// replaces each with the real binding object built by FACTORIES[kind]. It patches the env object
// of `cloudflare:workers`, which is the env every handler (fetch, queue, scheduled, …), every
// WorkerEntrypoint and Durable Object constructor and every `import { env }` sees, so patching it
// once, before user code runs, covers them all.
//
// To shim another binding kind: add a factory to FACTORIES, and have the router's loadVersion put
// a descriptor with that kind under __CBO_SHIM (see ../shim-bindings.ts, and ../data-bindings.ts
// for D1, R2 and queues).
import { env } from "cloudflare:workers";
import { durableObjectNamespace } from "./durable-objects.ts";
import { analyticsEngineDataset } from "./analytics-engine.ts";
import { unavailableBinding } from "./unavailable.ts";
import { D1Database, type D1RawStub } from "./d1.ts";
import { R2Bucket, type R2RawStub } from "./r2.ts";
import { Queue, type QueueRawStub } from "./queue.ts";
import { SHIM_ENV_KEY } from "./install.ts";
import type { ShimDescriptor, ShimFactory } from "./descriptor.ts";
import { installCaches } from "./cache.ts";
import { CACHE_ENV_KEY } from "../cache-binding-key.ts";

export type { ShimDescriptor, ShimFactory } from "./descriptor.ts";

export const FACTORIES: Record<string, ShimFactory> = {
  durable_object_namespace: durableObjectNamespace,
  analytics_engine: analyticsEngineDataset,
  unavailable: unavailableBinding,
  d1: (d) => new D1Database(d.raw as D1RawStub),
  r2_bucket: (d) => new R2Bucket(d.raw as R2RawStub),
  queue: (d) => new Queue(d.raw as QueueRawStub, d.jsonDefault === true),
};

/** Replaces every descriptor under env.__CBO_SHIM by its binding object, then removes the key. */
export function applyShims(target: Record<string, unknown>, factories: Record<string, ShimFactory> = FACTORIES): void {
  const descriptors = target[SHIM_ENV_KEY] as Record<string, ShimDescriptor> | undefined;
  if (!descriptors) return;
  for (const [name, d] of Object.entries(descriptors)) {
    const factory = factories[d.kind];
    if (!factory) throw new Error(`The local edge has no shim for binding ${name} of kind "${d.kind}".`);
    target[name] = factory(d, name);
  }
  try {
    delete target[SHIM_ENV_KEY];
  } catch {
    // a frozen env keeps the descriptors; they do no harm
  }
}

applyShims(env as unknown as Record<string, unknown>);

// The Cache API, for a Worker whose code names `caches` (cache.ts): its stub is taken out of env.
{
  const e = env as unknown as Record<string, unknown>;
  const stub = e[CACHE_ENV_KEY];
  if (stub) {
    installCaches(stub as Parameters<typeof installCaches>[0]);
    try {
      delete e[CACHE_ENV_KEY];
    } catch {
      // a frozen env keeps the stub; it does no harm
    }
  }
}
