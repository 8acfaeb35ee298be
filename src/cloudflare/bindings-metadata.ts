// A Worker's bindings as the upload metadata carries them, for one target: WorkerSource's
// bindings and vars (src/config/source/model.ts) with that target's resource ids, in the shapes
// and the order wrangler's createWorkerUploadForm writes them (CLOUDFLARE-API-FLEET §7):
//   vars      a string -> plain_text {text}; anything else -> json {json}
//   secrets   secret_text {text}
//   kv        kv_namespace {namespace_id: the target's id of the namespace}
//   d1        d1 {id: the target's uuid of the database}
//   r2        r2_bucket {bucket_name, jurisdiction?}   queue  queue {queue_name, delivery_delay?}
//             (buckets and queues are named the same in every target)
//   the rest  as configured: durable_object_namespace, service, analytics_engine, ai,
//             hyperdrive, ratelimit, version_metadata, assets
// Keys that are not set are left out; wrangler groups bindings by type, and so do we.
import type { WorkerBinding } from "../config/source/model.ts";
import { CboError } from "../kit/errors.ts";
import type { UploadBinding } from "./upload.ts";

/** The target's ids of the resources that have one, by the resource's logical name. */
export type ResourceIds = {
  /** KV namespace id by namespace title (the resource name). */
  kv?: Record<string, string>;
  /** D1 database uuid by database name. */
  d1?: Record<string, string>;
};

export type BindingsMetadataInput = {
  /** Plain vars (WorkerSource.vars). */
  vars?: Record<string, unknown>;
  bindings: WorkerBinding[];
  ids?: ResourceIds;
  /** Secret values to upload as secret_text (normally secrets live server-side, set through …/secrets). */
  secrets?: Record<string, string>;
};

/** wrangler's extraction order (createWorkerUploadForm), for the kinds a WorkerSource has. */
const ORDER = [
  "plain_text",
  "json",
  "secret_text",
  "kv_namespace",
  "durable_object_namespace",
  "queue",
  "r2_bucket",
  "d1",
  "hyperdrive",
  "ratelimit",
  "service",
  "analytics_engine",
  "ai",
  "version_metadata",
  "assets",
];

export function bindingsMetadata(input: BindingsMetadataInput): UploadBinding[] {
  const out: UploadBinding[] = [];
  for (const [name, value] of Object.entries(input.vars ?? {})) {
    out.push(typeof value === "string" ? { name, type: "plain_text", text: value } : { name, type: "json", json: value });
  }
  for (const [name, text] of Object.entries(input.secrets ?? {})) out.push({ name, type: "secret_text", text });
  for (const b of input.bindings) out.push(one(b, input.ids ?? {}));
  const seen = new Set<string>();
  for (const b of out) {
    if (seen.has(b.name)) {
      throw new CboError(
        "ERR_VALIDATION",
        `Binding name ${b.name} is used twice (vars, secrets and bindings share one namespace in a Worker's env).`,
        { hint: "Rename one of them." },
      );
    }
    seen.add(b.name);
  }
  // A stable sort: wrangler's grouping by type, each group in configuration order.
  return out
    .map((b, i) => ({ b, i, rank: ORDER.indexOf(b.type) }))
    .sort((x, y) => x.rank - y.rank || x.i - y.i)
    .map((x) => x.b);
}

function one(b: WorkerBinding, ids: ResourceIds): UploadBinding {
  const name = b.binding;
  switch (b.kind) {
    case "kv":
      return { name, type: "kv_namespace", namespace_id: idOf(ids.kv, b.resource.name, name, "KV namespace") };
    case "d1":
      return { name, type: "d1", id: idOf(ids.d1, b.resource.name, name, "D1 database") };
    case "r2":
      return {
        name,
        type: "r2_bucket",
        bucket_name: b.resource.name,
        ...(b.resource.jurisdiction === undefined ? {} : { jurisdiction: b.resource.jurisdiction }),
      };
    case "queue":
      return {
        type: "queue",
        name,
        queue_name: b.resource.name,
        ...(b.deliveryDelay === undefined ? {} : { delivery_delay: b.deliveryDelay }),
      };
    case "durable_object":
      return {
        name,
        type: "durable_object_namespace",
        class_name: b.className,
        ...(b.scriptName ? { script_name: b.scriptName } : {}),
        ...(b.environment ? { environment: b.environment } : {}),
      };
    case "service":
      return {
        name,
        type: "service",
        service: b.service,
        ...(b.environment ? { environment: b.environment } : {}),
        ...(b.entrypoint ? { entrypoint: b.entrypoint } : {}),
        ...(b.props ? { props: b.props } : {}),
      };
    case "analytics_engine":
      return { name, type: "analytics_engine", ...(b.dataset === undefined ? {} : { dataset: b.dataset }) };
    case "ai":
      return { name, ...(b.staging === undefined ? {} : { staging: b.staging }), type: "ai" };
    case "hyperdrive":
      return { name, type: "hyperdrive", id: b.id };
    case "ratelimit":
      return { name, type: "ratelimit", namespace_id: b.namespaceId, simple: { limit: b.simple.limit, period: b.simple.period } };
    case "version_metadata":
      return { name, type: "version_metadata" };
    case "assets":
      return { name, type: "assets" };
  }
}

function idOf(ids: Record<string, string> | undefined, resource: string, binding: string, what: string): string {
  const id = ids?.[resource];
  if (id === undefined || id === "") {
    throw new CboError("ERR_VALIDATION", `Binding ${binding} names ${what} "${resource}", which has no id in this target.`, {
      details: { binding, resource },
      hint: `Find or create the ${what} in the target first and pass its id.`,
    });
  }
  return id;
}
