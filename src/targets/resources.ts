// A target's own resources for the logical names Workers bind (src/config/source/resources.ts):
// KV namespaces, D1 databases, R2 buckets and queues are per account, so each target finds its
// own by name, and creates the missing ones, in its jurisdiction where Cloudflare offers one.
//
//   kind   found by                              created with                  jurisdiction
//   kv     the namespace list, by title          POST …/storage/kv/namespaces  none (Cloudflare has none)
//   d1     GET …/d1/database/<name>              POST …/d1/database            eu, fedramp, us
//   r2     GET …/r2/buckets/<name> (+ header)    POST …/r2/buckets (+ header)  eu, fedramp
//   queue  GET …/queues?name=<name>              POST …/queues                 none
//
// Creation is level-based: a name taken by the time we create (someone else, or our own create
// whose answer was lost) is read back instead of failing, so a retried release never makes two.
import type { Resource, ResourceKind } from "../config/source/model.ts";
import { CF_ERROR, hasCloudflareCode, type D1Jurisdiction, type Queue } from "../cloudflare/index.ts";
import { CboError, isCboError } from "../kit/errors.ts";
import type { TargetRuntime } from "./types.ts";

/** Queues: a name already taken (the local edge answers 409 with 11009; Cloudflare's code is unconfirmed). */
const QUEUE_NAME_TAKEN = 11009;

/** The jurisdictions Cloudflare offers per kind (D1 `jurisdiction`, R2's `cf-r2-jurisdiction`). */
export const JURISDICTIONS: Record<ResourceKind, readonly string[]> = {
  kv: [],
  d1: ["eu", "fedramp", "us"],
  r2: ["eu", "fedramp"],
  queue: [],
};

/** One resource as one target holds it: kind, logical name, and the jurisdiction it lives in there. */
export type ResourceRef = { kind: ResourceKind; name: string; jurisdiction?: string };

/** A resource placed in a target: where it goes, and why it has no jurisdiction when the target has one. */
export type PlacedResource = { ref: ResourceRef; note?: string };

export const refKey = (r: ResourceRef): string => `${r.kind}:${r.jurisdiction ?? ""}:${r.name}`;

/**
 * Where a resource lives in a target. The target's jurisdiction wins where Cloudflare offers it
 * for the kind (data sovereignty is the operator's); a jurisdiction the resource names itself
 * (wrangler's R2 `jurisdiction`) applies in targets without one; both given and different is
 * refused rather than guessed.
 */
export function placeResource(resource: Resource, target: { name: string; jurisdiction?: string | undefined }): PlacedResource {
  const offered = JURISDICTIONS[resource.kind];
  const own = resource.jurisdiction;
  const wanted = target.jurisdiction;
  if (own !== undefined && wanted !== undefined && own !== wanted && offered.includes(wanted)) {
    throw new CboError(
      "ERR_VALIDATION",
      `${label(resource.kind)} "${resource.name}" names jurisdiction ${own}, but target ${target.name} keeps its data in ${wanted}.`,
      {
        details: { resource: resource.name, kind: resource.kind, jurisdiction: own, target: target.name, targetJurisdiction: wanted },
        hint: `Remove the resource's jurisdiction (each target then creates it in its own), or release this Worker only to targets in ${own}.`,
      },
    );
  }
  const j = wanted !== undefined && offered.includes(wanted) ? wanted : own !== undefined && offered.includes(own) ? own : undefined;
  const ref: ResourceRef = { kind: resource.kind, name: resource.name, ...(j === undefined ? {} : { jurisdiction: j }) };
  if (wanted === undefined || j === wanted) return { ref };
  const note =
    offered.length === 0
      ? `no jurisdiction: Cloudflare has none for ${label(resource.kind)}s`
      : `no jurisdiction: Cloudflare offers no ${wanted} jurisdiction for ${label(resource.kind)}s (only ${offered.join(", ")})`;
  return { ref, note };
}

/** What a lookup found: the id bindings use (an R2 bucket's is its name), the jurisdiction it is in, a queue's consumers. */
export type FoundResource = { id: string; jurisdiction: string | null; queue?: Queue };

/** Finds each resource by name in the target's account: one request per resource, one KV list for all KV. */
export async function lookupResources(runtime: TargetRuntime, refs: ResourceRef[]): Promise<Map<string, FoundResource | null>> {
  const out = new Map<string, FoundResource | null>();
  const kv = refs.filter((r) => r.kind === "kv");
  const titles = kv.length > 0 ? new Map((await runtime.client.listKvNamespaces()).map((n) => [n.title, n.id])) : new Map<string, string>();
  for (const r of kv) out.set(refKey(r), titles.has(r.name) ? { id: titles.get(r.name)!, jurisdiction: null } : null);
  await Promise.all(refs.filter((r) => r.kind !== "kv").map(async (r) => out.set(refKey(r), await findOne(runtime, r))));
  return out;
}

export async function findOne(runtime: TargetRuntime, r: ResourceRef): Promise<FoundResource | null> {
  const c = runtime.client;
  switch (r.kind) {
    case "kv": {
      const ns = (await c.listKvNamespaces()).find((n) => n.title === r.name);
      return ns ? { id: ns.id, jurisdiction: null } : null;
    }
    case "d1": {
      const db = await c.getD1Database(r.name);
      return db ? { id: db.uuid, jurisdiction: db.jurisdiction ?? null } : null;
    }
    case "r2": {
      const bucket = await c.getR2Bucket(r.name, r.jurisdiction === undefined ? {} : { jurisdiction: r.jurisdiction });
      return bucket ? { id: bucket.name, jurisdiction: r.jurisdiction ?? null } : null;
    }
    case "queue": {
      const q = await c.getQueueByName(r.name);
      return q ? { id: q.queue_id, jurisdiction: null, queue: q } : null;
    }
  }
}

/** Creates the resource; a name taken meanwhile is read back (never a second resource). */
export async function createResource(runtime: TargetRuntime, r: ResourceRef): Promise<{ found: FoundResource; created: boolean }> {
  const c = runtime.client;
  try {
    switch (r.kind) {
      case "kv":
        return { found: { id: (await c.createKvNamespace(r.name)).id, jurisdiction: null }, created: true };
      case "d1": {
        const db = await c.createD1Database(r.name, r.jurisdiction === undefined ? {} : { jurisdiction: r.jurisdiction as D1Jurisdiction });
        return { found: { id: db.uuid, jurisdiction: r.jurisdiction ?? null }, created: true };
      }
      case "r2":
        await c.createR2Bucket(r.name, r.jurisdiction === undefined ? {} : { jurisdiction: r.jurisdiction });
        return { found: { id: r.name, jurisdiction: r.jurisdiction ?? null }, created: true };
      case "queue": {
        const q = await c.createQueue(r.name);
        return { found: { id: q.queue_id, jurisdiction: null, queue: q }, created: true };
      }
    }
  } catch (e) {
    const taken =
      hasCloudflareCode(e, CF_ERROR.KV_TITLE_TAKEN, CF_ERROR.D1_NAME_TAKEN, CF_ERROR.R2_BUCKET_EXISTS, QUEUE_NAME_TAKEN) ||
      (r.kind === "queue" && isCboError(e) && e.details?.status === 409);
    if (!taken) throw e;
    const found = await findOne(runtime, r);
    if (!found) throw e;
    return { found, created: false };
  }
}

/**
 * A found resource in another jurisdiction than the one this target wants is refused: binding it
 * would put the target's data outside its jurisdiction (or an `eu` database into a target without
 * one). Only D1 says where a database lives; R2 buckets are looked up in the jurisdiction itself.
 */
export function checkJurisdiction(target: string, r: ResourceRef, found: FoundResource): void {
  if (r.kind !== "d1") return;
  const want = r.jurisdiction ?? null;
  const have = found.jurisdiction ?? null;
  if (want === have) return;
  throw new CboError(
    "ERR_CONFLICT",
    `D1 database "${r.name}" in target ${target} is ${have ? `in jurisdiction ${have}` : "in no jurisdiction"}, but the target wants ${want ? `jurisdiction ${want}` : "none"}.`,
    {
      details: { target, database: r.name, jurisdiction: have, wanted: want },
      hint: "A database cannot move between jurisdictions: give the binding another name in this worker's `resources:` (a new database is created there), or export and re-import the data.",
    },
  );
}

function label(kind: ResourceKind): string {
  return { kv: "KV namespace", d1: "D1 database", r2: "R2 bucket", queue: "queue" }[kind];
}

export { label as resourceLabel };
