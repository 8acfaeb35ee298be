// What one account of the local edge holds for a Worker, read through the Cloudflare API the way a
// person comparing two deploys would (script settings, the live version's bindings and metadata,
// triggers, queue consumers, Durable Object namespaces), with account-specific ids replaced by the
// names of what they point at, so that a `cbo release` and a `wrangler deploy` of the same project
// into two accounts can be compared with one toEqual.
import { createHash } from "node:crypto";
import type { LocalEdge } from "../../src/local-edge/types.ts";

type Json = Record<string, unknown>;

export type WorkerSnapshot = {
  script: Json;
  settings: Json;
  scriptSettings: Json;
  subdomain: Json | null;
  schedules: string[];
  routes: Array<{ pattern: string; zone: string | null }>;
  domains: string[];
  bindings: Json[];
  version: Json;
  consumers: Json[];
  durableObjects: Json[];
  /** The live version's modules: name, content type and a hash of the bytes. */
  modules: Array<{ name: string; type: string; sha256: string }>;
};

export function createEdgeReader(edge: LocalEdge, accountId: string) {
  const call = async (p: string): Promise<unknown> => {
    const res = await fetch(`${edge.apiUrl}/accounts/${accountId}${p}`, { headers: { authorization: `Bearer ${edge.token}` } });
    const body = (await res.json()) as { success: boolean; result: unknown; errors: unknown };
    if (!body.success) throw new Error(`GET ${p}: ${res.status} ${JSON.stringify(body.errors)}`);
    return body.result;
  };
  const callOrNull = (p: string) => call(p).catch(() => null);

  /** Resource ids -> names, so that two accounts' bindings compare by what they point at. */
  const names = async () => {
    const map = new Map<string, string>();
    for (const ns of (await call("/storage/kv/namespaces?per_page=100")) as Array<{ id: string; title: string }>)
      map.set(ns.id, `kv:${ns.title}`);
    for (const db of (await call("/d1/database?per_page=100")) as Array<{ uuid: string; name: string }>) map.set(db.uuid, `d1:${db.name}`);
    for (const q of (await call("/queues?per_page=100")) as Array<{ queue_id: string; queue_name: string }>)
      map.set(q.queue_id, `queue:${q.queue_name}`);
    return map;
  };

  const modulesOf = async (name: string, version: string) => {
    const res = await fetch(`${edge.apiUrl}/accounts/${accountId}/workers/scripts/${name}/content/v2?version=${version}`, {
      headers: { authorization: `Bearer ${edge.token}` },
    });
    const out: WorkerSnapshot["modules"] = [];
    for (const [field, part] of await res.formData()) {
      const blob = part as Blob;
      out.push({
        name: field,
        type: blob.type,
        sha256: createHash("sha256")
          .update(Buffer.from(await blob.arrayBuffer()))
          .digest("hex"),
      });
    }
    return out;
  };
  const strip = (o: Json, keys: string[]): Json => Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));

  async function worker(name: string): Promise<WorkerSnapshot> {
    const ids = await names();
    const rename = (v: unknown): unknown =>
      typeof v === "string" && ids.has(v)
        ? ids.get(v)
        : Array.isArray(v)
          ? v.map(rename)
          : v && typeof v === "object"
            ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, rename(x)]))
            : v;
    const scripts = (await call("/workers/scripts")) as Json[];
    const script = scripts.find((s) => s["id"] === name);
    if (!script) throw new Error(`no script ${name} in ${accountId}`);
    const deployments = (await call(`/workers/scripts/${name}/deployments`)) as { deployments: Array<{ versions: Json[] }> };
    const live = deployments.deployments[0]!.versions[0]!["version_id"] as string;
    const version = (await call(`/workers/scripts/${name}/versions/${live}`)) as Json & { resources: Json; metadata: Json };
    const settings = (await call(`/workers/scripts/${name}/settings`)) as Json;
    const routes = (await call(`/workers/scripts/${name}/routes`)) as Array<{ pattern: string; zone_name?: string; zone_id?: string }>;
    const domains = ((await call("/workers/domains")) as Array<{ hostname: string; service: string }>)
      .filter((d) => d.service === name)
      .map((d) => d.hostname)
      .sort();
    const queues = (await call("/queues?per_page=100")) as Array<{ queue_id: string; queue_name: string }>;
    const consumers: Json[] = [];
    for (const q of queues)
      for (const c of (await call(`/queues/${q.queue_id}/consumers`)) as Json[])
        if (c["script"] === name || c["service"] === name)
          consumers.push({ queue: q.queue_name, ...(strip(c, ["consumer_id", "created_on", "queue_id", "queue_name"]) as Json) });
    // The queue list is in creation order, which differs between accounts; a Worker's consumers have none.
    consumers.sort((a, b) => String(a["queue"]).localeCompare(String(b["queue"])));
    const namespaces = ((await call("/workers/durable_objects/namespaces?per_page=100")) as Json[])
      .filter((n) => n["script"] === name)
      .map((n) => strip(n, ["id"]));
    const bindings = ((version.resources["bindings"] as Json[] | undefined) ?? [])
      .map((b) => rename(b) as Json)
      .sort((a, b) => String(a["name"]).localeCompare(String(b["name"])));
    return {
      script: strip(script, ["created_on", "modified_on", "etag", "id", "tag", "last_deployed_from"]),
      settings: rename(strip(settings, ["bindings"])) as Json,
      scriptSettings: ((await callOrNull(`/workers/scripts/${name}/script-settings`)) as Json | null) ?? {},
      subdomain: (await callOrNull(`/workers/scripts/${name}/subdomain`)) as Json | null,
      schedules: (((await call(`/workers/scripts/${name}/schedules`)) as { schedules: Array<{ cron: string }> }).schedules ?? [])
        .map((s) => s.cron)
        .sort(),
      routes: routes.map((r) => ({ pattern: r.pattern, zone: r.zone_name ?? null })).sort((a, b) => a.pattern.localeCompare(b.pattern)),
      domains,
      bindings,
      version: rename({
        ...strip(version, ["id", "number", "created_on", "modified_on", "metadata", "resources"]),
        metadata: strip(version.metadata, ["created_on", "modified_on", "author_id", "author_email", "hasPreview"]),
        resources: { ...strip(version.resources, ["bindings", "script"]), script: strip(version.resources["script"] as Json, ["etag"]) },
      }) as Json,
      consumers,
      durableObjects: namespaces,
      modules: await modulesOf(name, live),
    };
  }
  return { call, worker, names };
}
