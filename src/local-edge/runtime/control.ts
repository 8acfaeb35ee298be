// The Node side of a region's router: what the router Worker asks for through its CONTROL
// binding. The routing table, a version's code and bindings, and KV reads/writes, all answered
// from the edge's SQLite state and scoped to the region's account.
import type { ScriptStore } from "../state/scripts.ts";
import { kvKeyJson, type KvStore } from "../state/kv.ts";
import type { Fault } from "../types.ts";
import { parseHeaders, parseRedirects } from "../../kit/assets-rules.ts";
import type { TunnelRoute } from "../workers/tunnel-ingress.ts";
import type { WorkerStores } from "../state/worker-stores.ts";
import { resolvePreview } from "./preview-resolve.ts";
import { kvPutRefusal } from "../api/kv-put-checks.ts";
import { runnableCompatibilityDate } from "./compat-date.ts";

export type RouterTable = {
  scripts: Record<string, Array<{ version_id: string; percentage: number }>>;
  fault: Fault;
  subdomain: string;
  routes?: Array<{ pattern: string; script: string }>;
  domains?: Record<string, string>;
  workersDevOff?: string[];
  previewsOff?: string[];
  /** `sqlite: false`: a class made by `new_classes` (key-value storage, no SQL API). */
  namespaces?: Record<string, { script: string; class: string; sqlite: boolean }>;
  assets?: Record<string, true>;
  /** Scripts with a tail session open. */
  tails?: Record<string, true>;
  /** `false`: the router counts no invocations. */
  analytics?: boolean;
};

export type ControlDeps = {
  accountId: string;
  scripts: ScriptStore;
  kv: KvStore;
  stores: WorkerStores;
  table: () => RouterTable;
  /** Which tunnel ingress service a Worker's outbound request to host + path goes to (tunnel-routes.ts). */
  tunnelRoute?: (host: string, path: string) => TunnelRoute | undefined;
  /** D1/R2/queue bindings (control-data.ts). */
  data?: (request: Request) => Promise<Response | undefined>;
  /** Traced invocations from the router's tail Worker (unchecked JSON: the receiver validates). */
  tail?: (body: unknown) => void;
};

const DATA_PATHS = new Set(["d1", "r2", "queue"]);

const json = (v: unknown, status = 200) => new Response(JSON.stringify(v), { status, headers: { "content-type": "application/json" } });

/** What the table carries besides the account's Workers: observability switches. */
export type TableExtras = { tailed?: string[]; analytics?: boolean };

export function buildTable(
  scripts: ScriptStore,
  accountId: string,
  fault: Fault,
  subdomain: string,
  stores?: WorkerStores,
  extras: TableExtras = {},
): RouterTable {
  const out: RouterTable["scripts"] = {};
  for (const d of scripts.liveDeployments(accountId)) out[d.script] = d.versions;
  const table: RouterTable = {
    scripts: out,
    fault: { outage: fault.outage, latencyMs: fault.latencyMs, errorRate: fault.errorRate },
    subdomain,
  };
  if (extras.tailed?.length) table.tails = Object.fromEntries(extras.tailed.map((s) => [s, true as const]));
  if (extras.analytics === false) table.analytics = false;
  if (!stores) return table;
  // Only what differs from a plain Worker goes in, so the table of a plain fleet stays small.
  const all = scripts.list(accountId);
  const devOff = all.filter((s) => !s.subdomain_enabled).map((s) => s.name);
  const previewsOff = all.filter((s) => !s.previews_enabled).map((s) => s.name);
  if (devOff.length) table.workersDevOff = devOff;
  if (previewsOff.length) table.previewsOff = previewsOff;
  const routes = stores.routes.routesOfAccount(accountId).map((r) => ({ pattern: r.pattern, script: r.script! }));
  if (routes.length) table.routes = routes;
  const domains = stores.routes.domains(accountId).filter((d) => d.enabled);
  if (domains.length) table.domains = Object.fromEntries(domains.map((d) => [d.hostname, d.service]));
  const namespaces = stores.dos.list(accountId);
  if (namespaces.length)
    table.namespaces = Object.fromEntries(namespaces.map((n) => [n.id, { script: n.script, class: n.class, sqlite: n.use_sqlite }]));
  const withAssets = Object.values(out)
    .flat()
    .filter((e) => stores.extras.get(e.version_id).assets !== null);
  if (withAssets.length) table.assets = Object.fromEntries(withAssets.map((e) => [e.version_id, true as const]));
  return table;
}

/** Cloudflare serves navigations with not_found_handling first from this compatibility date on. */
const NAVIGATION_PREFERS_ASSETS_DATE = "2025-04-01";

export function createControlHandler(deps: ControlDeps) {
  const { accountId, scripts, kv } = deps;
  const { dos, extras, assets, ae } = deps.stores;
  return async function control(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const parts = url.pathname.split("/").filter(Boolean);
    try {
      if (parts[0] === "table") return json(deps.table());
      if (parts[0] === "tail" && request.method === "POST") {
        deps.tail?.(await request.json());
        return new Response(null, { status: 204 });
      }
      if (deps.data && DATA_PATHS.has(parts[0] ?? "")) {
        const answer = await deps.data(request);
        if (answer) return answer;
      }
      if (parts[0] === "tunnel") {
        const route = deps.tunnelRoute?.(url.searchParams.get("host") ?? "", url.searchParams.get("path") ?? "/");
        return route ? json(route) : new Response(null, { status: 204 });
      }
      if (parts[0] === "preview" && parts[1]) {
        const target = resolvePreview(scripts, deps.stores, accountId, decodeURIComponent(parts[1]));
        return target ? json(target) : new Response(null, { status: 204 });
      }
      if (parts[0] === "version" && parts[1]) {
        const v = scripts.getVersion(parts[1]);
        if (!v || v.account_id !== accountId) return json({ error: "no such version" }, 404);
        const modules = scripts
          .modules(v.id)
          .filter((m) => m.type !== "sourcemap")
          .map((m) =>
            m.type === "data" || m.type === "wasm"
              ? { name: m.name, type: m.type, base64: Buffer.from(m.content).toString("base64") }
              : { name: m.name, type: m.type, text: new TextDecoder().decode(m.content) },
          );
        // A binding to a Durable Object class carries its namespace's id, resolved now: the id is
        // what object ids and storage hang off, and it outlives renames and transfers of the class.
        const bindings = v.bindings.map((b) => {
          if (b.type !== "durable_object_namespace") return b;
          const owner = typeof b.script_name === "string" && b.script_name !== "" ? b.script_name : v.script;
          return { ...b, script_name: owner, namespace_id: dos.byClass(accountId, owner, b.class_name as string)?.id };
        });
        const limits = extras.get(v.id).settings.limits as { cpu_ms?: number; subrequests?: number } | undefined;
        return json({
          versionId: v.id,
          script: v.script,
          tag: v.annotations["workers/tag"] ?? "",
          createdOn: v.created_on,
          compatibilityDate: runnableCompatibilityDate(v.compatibility_date),
          compatibilityFlags: v.compatibility_flags,
          mainModule: v.main_module,
          modules,
          bindings,
          ...(limits ? { limits } : {}),
        });
      }
      if (parts[0] === "assets" && parts[1]) {
        const v = scripts.getVersion(parts[1]);
        if (!v || v.account_id !== accountId) return json({ error: "no such version" }, 404);
        const a = extras.get(v.id).assets;
        const config = a?.config ?? {};
        return json({
          manifest: Object.fromEntries(Object.entries(a?.manifest ?? {}).map(([path, e]) => [path, e.hash])),
          config: {
            html_handling: config.html_handling ?? "auto-trailing-slash",
            not_found_handling: config.not_found_handling ?? "none",
            run_worker_first: config.run_worker_first ?? false,
          },
          rules: {
            redirects: parseRedirects(
              typeof config._redirects === "string" ? config._redirects : "",
              config.html_handling as string | undefined,
            ),
            headers: parseHeaders(typeof config._headers === "string" ? config._headers : ""),
          },
          hasWorker: v.main_module !== "",
          navigationPrefersAssets:
            v.compatibility_date >= NAVIGATION_PREFERS_ASSETS_DATE ||
            v.compatibility_flags.includes("assets_navigation_prefers_asset_serving"),
        });
      }
      if (parts[0] === "asset" && parts[1]) {
        const blob = assets.get(accountId, parts[1]);
        if (!blob) return new Response(null, { status: 404 });
        return new Response(blob.content, { headers: blob.content_type ? { "x-asset-type": blob.content_type } : {} });
      }
      if (parts[0] === "ae" && request.method === "POST") {
        const point = (await request.json()) as { index1: string | null; blobs: Array<string | null>; doubles: number[] };
        ae.write(accountId, {
          dataset: url.searchParams.get("dataset") ?? "",
          script: url.searchParams.get("script") ?? "",
          timestamp: new Date().toISOString(),
          index1: point.index1 ?? null,
          blobs: point.blobs ?? [],
          doubles: point.doubles ?? [],
        });
        return new Response(null, { status: 204 });
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
            const refusal = kvPutRefusal({ expiration: exp, expirationTtl: ttl, metadata: meta }, value.byteLength, kv.nowSec());
            if (refusal) return new Response(refusal.message, { status: refusal.status });
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
