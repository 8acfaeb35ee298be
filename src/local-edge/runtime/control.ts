// The Node side of a region's router: what the router Worker asks for through its CONTROL
// binding. The routing table, a version's code and bindings, and KV reads/writes, all answered
// from the edge's SQLite state and scoped to the region's account.
import type { ScriptStore } from "../state/scripts.ts";
import { kvKeyJson, type KvStore } from "../state/kv.ts";
import type { Fault } from "../types.ts";
import type { TunnelRoute } from "../workers/tunnel-ingress.ts";

export type RouterTable = {
  scripts: Record<string, Array<{ version_id: string; percentage: number }>>;
  fault: Fault;
  subdomain: string;
};

export type ControlDeps = {
  accountId: string;
  scripts: ScriptStore;
  kv: KvStore;
  table: () => RouterTable;
  /** Which tunnel ingress service a Worker's outbound request to host + path goes to (tunnel-routes.ts). */
  tunnelRoute?: (host: string, path: string) => TunnelRoute | undefined;
  /** D1/R2/queue bindings (control-data.ts). */
  data?: (request: Request) => Promise<Response | undefined>;
};

const DATA_PATHS = new Set(["d1", "r2", "queue"]);

const json = (v: unknown, status = 200) => new Response(JSON.stringify(v), { status, headers: { "content-type": "application/json" } });

export function buildTable(scripts: ScriptStore, accountId: string, fault: Fault, subdomain: string): RouterTable {
  const out: RouterTable["scripts"] = {};
  for (const d of scripts.liveDeployments(accountId)) out[d.script] = d.versions;
  return { scripts: out, fault: { outage: fault.outage, latencyMs: fault.latencyMs, errorRate: fault.errorRate }, subdomain };
}

export function createControlHandler(deps: ControlDeps) {
  const { accountId, scripts, kv } = deps;
  return async function control(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const parts = url.pathname.split("/").filter(Boolean);
    try {
      if (parts[0] === "table") return json(deps.table());
      if (deps.data && DATA_PATHS.has(parts[0] ?? "")) {
        const answer = await deps.data(request);
        if (answer) return answer;
      }
      if (parts[0] === "tunnel") {
        const route = deps.tunnelRoute?.(url.searchParams.get("host") ?? "", url.searchParams.get("path") ?? "/");
        return route ? json(route) : new Response(null, { status: 204 });
      }
      if (parts[0] === "version" && parts[1]) {
        const v = scripts.getVersion(parts[1]);
        if (!v || v.account_id !== accountId) return json({ error: "no such version" }, 404);
        const modules = scripts.modules(v.id)
          .filter((m) => m.type !== "sourcemap")
          .map((m) =>
            m.type === "data" || m.type === "wasm"
              ? { name: m.name, type: m.type, base64: Buffer.from(m.content).toString("base64") }
              : { name: m.name, type: m.type, text: new TextDecoder().decode(m.content) },
          );
        return json({
          versionId: v.id, createdOn: v.created_on, compatibilityDate: v.compatibility_date,
          compatibilityFlags: v.compatibility_flags, mainModule: v.main_module, modules, bindings: v.bindings,
        });
      }
      if (parts[0] === "kv" && parts[1]) {
        const ns = kv.getNamespace(accountId, parts[1]);
        if (!ns) return json({ error: `KV namespace ${parts[1]} does not exist in this account` }, 400);
        const key = url.searchParams.get("key") ?? "";
        if (parts[2] === "value") {
          if (request.method === "GET") {
            const e = kv.get(ns.id, key);
            if (!e) return new Response(null, { status: 404 });
            const headers: Record<string, string> = {};
            if (e.metadata != null) headers["x-kv-metadata"] = encodeURIComponent(JSON.stringify(e.metadata));
            return new Response(e.value, { headers });
          }
          if (key === "") return json({ error: "KV keys must not be empty" }, 400);
          if (request.method === "PUT") {
            const value = new Uint8Array(await request.arrayBuffer());
            const exp = url.searchParams.get("expiration");
            const ttl = url.searchParams.get("expiration_ttl");
            const meta = url.searchParams.get("metadata");
            const expiration = exp ? Number(exp) : ttl ? kv.nowSec() + Number(ttl) : null;
            kv.put(ns.id, { key, value, metadata: meta ? JSON.parse(meta) : null, expiration });
            return new Response(null, { status: 204 });
          }
          if (request.method === "DELETE") {
            kv.delete(ns.id, key);
            return new Response(null, { status: 204 });
          }
        }
        if (parts[2] === "list") {
          const limit = Math.min(1000, Math.max(1, Number(url.searchParams.get("limit") ?? 1000) || 1000));
          const prefix = url.searchParams.get("prefix") ?? "";
          const { entries: page, cursor } = kv.listPage(ns.id, prefix, url.searchParams.get("cursor") ?? "", limit);
          const complete = cursor === "";
          return json({
            keys: page.map(kvKeyJson),
            list_complete: complete,
            ...(complete ? {} : { cursor }),
            cacheStatus: null,
          });
        }
      }
      return json({ error: `no control route ${url.pathname}` }, 404);
    } catch (e) {
      return json({ error: e instanceof Error ? e.message : String(e) }, 500);
    }
  };
}
