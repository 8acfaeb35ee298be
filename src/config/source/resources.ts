// Resource identity. Each KV namespace, D1 database, R2 bucket and queue a Worker uses has a
// logical name; each target finds or creates its own resource by that name (resources are per
// account, so the wrangler file's ids are never uploaded). The default name:
//
//   D1  database_name          R2  bucket_name          queue  the queue's name
//   KV  <worker>-<binding>     (and any binding without a name: wrangler's auto-provisioning
//                              name, `<script name>-<binding lowercased, _ -> ->`)
//
// Two bindings share a resource exactly when their names are equal. So two Workers that bind
// CACHE to different namespaces get different ones (ads-api-cache, billing-cache), and bindings
// that name the same wrangler id share the first one's name across the whole spec. Users see the
// names in the plan and can rename with `resources:` in orchestrator.yaml.
import { CboError } from "../../kit/errors.ts";
import type { Resource, WorkerSource } from "./model.ts";

export function derivedResourceName(scriptName: string, binding: string): string {
  return `${scriptName}-${binding.toLowerCase().replaceAll("_", "-")}`;
}

/** Every Resource object inside a source, in order (bindings, then consumers and their dead-letter queues). */
function* resourceSlots(source: WorkerSource): Generator<{ resource: Resource; binding?: string }> {
  for (const b of source.bindings) if ("resource" in b) yield { resource: b.resource, binding: b.binding };
  for (const c of source.queueConsumers) {
    yield { resource: c.queue };
    if (c.deadLetterQueue) yield { resource: c.deadLetterQueue };
  }
}

/**
 * orchestrator.yaml `resources:` for one worker: `BINDING: name` renames the resource of that
 * binding, `queue:<queue name>: name` renames a queue (producer, consumer and dead-letter
 * alike) by its wrangler name. A consumer follows its producer's rename when both use the same
 * queue. A key that matches nothing is refused.
 */
export function applyResourceOverrides(source: WorkerSource, overrides: Record<string, string>, where: string): WorkerSource {
  if (Object.keys(overrides).length === 0) return source;
  const next = structuredClone(source);
  const used = new Set<string>();
  const renamedQueues = new Map<string, string>();
  for (const { resource, binding } of resourceSlots(next)) {
    const byBinding = binding !== undefined ? overrides[binding] : undefined;
    if (byBinding !== undefined) {
      used.add(binding!);
      if (resource.kind === "queue") renamedQueues.set(resource.name, byBinding);
      rename(resource, byBinding);
    }
  }
  for (const { resource } of resourceSlots(next)) {
    const key = `${resource.kind}:${resource.name}`;
    const byName = resource.kind === "queue" ? overrides[key] : undefined;
    if (byName !== undefined) {
      used.add(key);
      rename(resource, byName);
    } else if (resource.kind === "queue" && resource.nameFrom !== "override" && renamedQueues.has(resource.name)) {
      rename(resource, renamedQueues.get(resource.name)!);
    }
  }
  const unused = Object.keys(overrides).filter((k) => !used.has(k));
  if (unused.length > 0) {
    const known = [...new Set([...resourceSlots(source)].map(({ resource, binding }) => binding ?? `${resource.kind}:${resource.name}`))];
    throw new CboError(
      "ERR_VALIDATION",
      `${where}.resources: ${unused.map((k) => `"${k}"`).join(", ")} ${unused.length > 1 ? "match" : "matches"} no KV, D1, R2 or queue binding of this worker.`,
      {
        hint: known.length
          ? `Use a binding name (${known.join(", ")}), or queue:<queue name> for a consumed queue.`
          : "This worker binds no KV, D1, R2 or queue; remove `resources:`.",
      },
    );
  }
  return next;
}

function rename(r: Resource, name: string): void {
  r.name = name;
  r.nameFrom = "override";
}

/**
 * Across all sources of a spec: resources of one kind that name the same wrangler id get the
 * name the first of them has (a renamed one keeps its override).
 */
export function shareSameIds(sources: WorkerSource[]): void {
  const first = new Map<string, string>();
  for (const s of sources) {
    for (const { resource } of resourceSlots(s)) {
      if (!resource.wranglerId) continue;
      const key = `${resource.kind}:${resource.wranglerId}`;
      const name = first.get(key);
      if (name === undefined) first.set(key, resource.name);
      else if (name !== resource.name && resource.nameFrom === "derived") {
        resource.name = name;
        resource.nameFrom = "shared-id";
      }
    }
  }
}
