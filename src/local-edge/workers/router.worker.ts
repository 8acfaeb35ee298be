// Runs inside each region's workerd, bound to the region's public port. It is the only Worker
// workerd is configured with, so deploying never restarts workerd: each Worker version is loaded
// on first use through the Worker Loader binding (cached by version id, which is immutable), and
// the routing table (live deployments + injected faults) is pushed in by the local edge.
//
// Request path: Host -> script name -> version (override header, else weighted random over the
// live deployment's percentages) -> loaded isolate of that version.
// Every invocation it hands to a Worker (fetch, service-binding RPC, queue batch, scheduled event)
// is counted in memory by script, version, minute and status (invocation-counter.ts); the edge
// drains the counts in batches. A script with a tail session open has its versions loaded with a
// tail Worker (tail-sink.ts) under a second cache key, so only tailed Workers pay for tracing.
// Bindings of a version: plain/json/secret values; KV as an RPC stub (KvBinding) reading the
// edge's own store; service bindings as an RPC stub (ServiceBinding) that routes like this router.
// A version's outbound fetch() goes through TunnelOutbound, which plays Cloudflare Tunnel for the
// edge's tunnel hostnames and lets everything else out unchanged.
// Hosts other than workers.dev/localhost reach a Worker through its custom domains and routes.
// Durable Objects run as facets of DoHost (durable-objects.ts); static assets are served per the
// version's assets config before or after the Worker (assets.ts); binding kinds a Worker Loader
// env cannot carry as JS objects are rebuilt inside the Worker by the env shim (env-shim/).
import { WorkerEntrypoint } from "cloudflare:workers";
import { chooseVersion, compileRoutes, matchRoute, overrideFor, scriptFromHost, type CompiledRoute, type Entry } from "./routing.ts";
import { mayBeTunnelHost, type TunnelRoute } from "./tunnel-ingress.ts";
import { configureDurableObjects } from "./durable-objects.ts";
import { serveWithAssets } from "./assets.ts";
import { loaderModules, probeStartup, type ProbeSpec } from "./startup-probe.ts";
import { shimBinding } from "./shim-bindings.ts";
import { dataBinding } from "./data-bindings.ts";
import { installEnvShim } from "./env-shim/install.ts";
import { ALARMS_ENV_KEY, deleteAllDeletesAlarm, withAlarmsSource } from "./do-alarms.ts";
import { capturesAsyncThrows } from "./do-kv-backed.ts";
import { CACHE_ENV_KEY } from "./cache-binding-key.ts";
import type { ShimDescriptor } from "./env-shim/shim.ts";
import { handleEvent, type EventRequest, type EventTarget } from "./events.ts";
import {
  countInvocation,
  countSubrequest,
  drainCells,
  statusOfError,
  statusOfOutcome,
  type InvocationStatus,
} from "./invocation-counter.ts";

export { DoHost, DoGateway, DoAlarms } from "./durable-objects.ts";
export { AssetsBinding } from "./assets.ts";
export { RateLimitBinding, AnalyticsSink } from "./local-bindings.ts";
export { D1Binding, R2Binding, QueueBinding } from "./data-bindings.ts";
export { TailSink } from "./tail-sink.ts";
export { CacheBinding } from "./cache-binding.ts";
export { KvBinding } from "./kv-binding.ts";

type Fault = { outage?: boolean; latencyMs?: number; errorRate?: number };
type Table = {
  scripts: Record<string, Entry[]>;
  fault: Fault;
  subdomain: string;
  /** Workers routes of the account's zones and custom domains (hostname -> script). */
  routes?: Array<{ pattern: string; script: string }>;
  domains?: Record<string, string>;
  /** Scripts whose workers.dev (and preview) URLs are turned off. */
  workersDevOff?: string[];
  previewsOff?: string[];
  /** Durable Object namespace id -> the script and class that implement it. */
  namespaces?: Record<string, { script: string; class: string; sqlite?: boolean }>;
  /** Live versions that carry static assets. */
  assets?: Record<string, true>;
  /** Scripts with a tail session open: their versions load with the tail Worker attached. */
  tails?: Record<string, true>;
  /** `false`: count nothing (the edge was started with analytics off). */
  analytics?: boolean;
};
type Binding = { type: string; name: string; [k: string]: unknown };
type VersionSpec = {
  versionId: string;
  script: string;
  tag: string;
  limits?: { cpu_ms?: number; subrequests?: number };
  createdOn: string;
  compatibilityDate: string;
  compatibilityFlags: string[];
  mainModule: string;
  modules: Array<{ name: string; type: string; text?: string; base64?: string }>;
  bindings: Binding[];
};
type Env = {
  LOADER: {
    get(
      id: string,
      load: () => Promise<unknown>,
    ): {
      getEntrypoint(name?: string): { fetch(r: Request): Promise<Response> } & Record<string, unknown>;
      getDurableObjectClass(name: string): unknown;
    };
  };
  CONTROL: Fetcher;
  ADMIN_SECRET: string;
  DO_HOST: DurableObjectNamespace;
  /** The env shim (env-shim/shim.ts bundled): the first module of every version whose bindings need it. */
  SHIM_CODE: string;
  /** The region's request.cf (colo, country, …): direct sockets get none from Miniflare. */
  CF: Record<string, unknown>;
};
// ctx.exports (loopback stubs with props) is not in every version of the workers types yet.
type Ctx = ExecutionContext & { exports: Record<string, (opts: { props: Record<string, unknown> }) => unknown> };

let table: Table | null = null;
let loadingTable: Promise<Table> | null = null;
let compiled: { for: Table; routes: CompiledRoute[] } | null = null;

/** The table's routes, compiled once per table. */
function routesOf(t: Table): CompiledRoute[] {
  if (compiled?.for !== t) compiled = { for: t, routes: compileRoutes(t.routes ?? []) };
  return compiled.routes;
}

async function getTable(env: Env): Promise<Table> {
  if (table) return table;
  loadingTable ??= env.CONTROL.fetch("http://control/table")
    .then((r) => r.json() as Promise<Table>)
    .then((t) => {
      table = t;
      loadingTable = null;
      return t;
    });
  return loadingTable;
}

/**
 * KV, Durable Object, rate-limit and other bindings are RPC stubs here, and a Worker calls RPC
 * methods only from compatibility date 2024-04-03 on (or with the `rpc` flag); at Cloudflare those
 * bindings are native objects that work at any date, so older Workers get the flag.
 */
function withRpc(date: string, flags: string[]): string[] {
  return date >= "2024-04-03" || flags.includes("rpc") || flags.includes("no_rpc") ? flags : [...flags, "rpc"];
}

async function loadVersion(env: Env, ctx: Ctx, versionId: string, tailed = false): Promise<unknown> {
  const res = await env.CONTROL.fetch(`http://control/version/${versionId}`);
  if (!res.ok) throw new Error(`version ${versionId} could not be loaded (${res.status})`);
  const spec = (await res.json()) as VersionSpec;
  const modules = loaderModules(spec.modules);
  const workerEnv: Record<string, unknown> = {};
  // Env shim descriptors: bindings rebuilt as JS objects inside the Worker (env-shim/shim.ts).
  const shim: Record<string, ShimDescriptor> = {};
  for (const b of spec.bindings) {
    if (b.type === "plain_text" || b.type === "secret_text") workerEnv[b.name] = b.text;
    else if (b.type === "json") workerEnv[b.name] = b.json;
    else if (b.type === "kv_namespace") workerEnv[b.name] = ctx.exports.KvBinding!({ props: { ns: b.namespace_id } });
    else if (b.type === "service")
      workerEnv[b.name] = ctx.exports.ServiceBinding!({
        props: { script: b.service, ...(b.entrypoint ? { entrypoint: b.entrypoint } : {}) },
      });
    else if (b.type === "version_metadata") workerEnv[b.name] = { id: spec.versionId, tag: spec.tag, timestamp: spec.createdOn };
    else if (b.type === "ratelimit") {
      const simple = b.simple as { limit: number; period: number };
      workerEnv[b.name] = ctx.exports.RateLimitBinding!({ props: { ns: b.namespace_id, limit: simple.limit, period: simple.period } });
    } else if (b.type === "assets") workerEnv[b.name] = ctx.exports.AssetsBinding!({ props: { versionId: spec.versionId } });
    else {
      // D1, R2 and queues (data-bindings.ts); Durable Objects, Analytics Engine, unavailable products (shim-bindings.ts).
      const descriptor = dataBinding(b, spec, ctx) ?? shimBinding(b, spec, ctx);
      if (descriptor) shim[b.name] = descriptor;
    }
  }
  // The Cache API, which workerd gives loaded Workers none of (cache-binding.ts), for code that names it.
  const usesCache = spec.modules.some((m) => typeof m.text === "string" && m.text.includes("caches"));
  if (usesCache) workerEnv[CACHE_ENV_KEY] = ctx.exports.CacheBinding!({ props: {} });
  const mainModule = installEnvShim({
    mainModule: spec.mainModule,
    modules,
    env: workerEnv,
    descriptors: shim,
    code: env.SHIM_CODE,
    always: usesCache,
  });
  // The Durable Object classes this script implements get their alarms through the host (do-alarms.ts).
  const t = await getTable(env);
  const mine = Object.values(t.namespaces ?? {}).filter((n) => n.script === spec.script);
  const classes = [...new Set(mine.map((n) => n.class))];
  // Key-value-backed classes (`new_classes`): their objects run as facets, which workerd always gives
  // SQLite storage, so the SQLite-only APIs are taken away in the wrapper, as Cloudflare has none for them.
  const kvBacked = mine.filter((n) => n.sqlite === false).map((n) => n.class);
  const main = modules[mainModule] as { js?: string } | undefined;
  if (classes.length > 0 && typeof main?.js === "string") {
    modules[mainModule] = {
      js:
        main.js +
        withAlarmsSource(mainModule, classes, {
          deletesAlarm: deleteAllDeletesAlarm(spec.compatibilityDate, spec.compatibilityFlags),
          kvBacked,
          rejectsAsync: capturesAsyncThrows(spec.compatibilityDate, spec.compatibilityFlags),
        }),
    };
    workerEnv[ALARMS_ENV_KEY] = ctx.exports.DoAlarms!({ props: { script: spec.script } });
  }
  const limits = spec.limits && {
    ...(spec.limits.cpu_ms !== undefined ? { cpuMs: spec.limits.cpu_ms } : {}),
    ...(spec.limits.subrequests !== undefined ? { subRequests: spec.limits.subrequests } : {}),
  };
  return {
    compatibilityDate: spec.compatibilityDate,
    compatibilityFlags: withRpc(spec.compatibilityDate, spec.compatibilityFlags),
    mainModule,
    modules,
    env: workerEnv,
    // Its fetch() calls are the version's subrequests (counted by TunnelOutbound).
    globalOutbound: ctx.exports.TunnelOutbound!({ props: { script: spec.script, versionId } }) as Fetcher,
    ...(tailed ? { tails: [ctx.exports.TailSink!({ props: { script: spec.script, versionId } })] } : {}),
    ...(limits && Object.keys(limits).length > 0 ? { limits } : {}),
  };
}

/**
 * The loaded Worker of a version, for invocations the router counts. While the script has a tail
 * session open the version runs in a second isolate, loaded with the tail Worker.
 */
function workerStub(env: Env, ctx: Ctx, t: Table, script: string, versionId: string) {
  const tailed = t.tails?.[script] === true;
  return env.LOADER.get(tailed ? `${versionId}+tail` : versionId, () => loadVersion(env, ctx, versionId, tailed));
}

configureDurableObjects({
  table: (env) => getTable(env as Env),
  loadVersion: (env, ctx, versionId) => loadVersion(env as Env, ctx as Ctx, versionId),
});

/** A version a preview host names that is not live (preview-resolve.ts answers on the Node side). */
type Pinned = { script: string; versionId: string; assets: boolean };

async function previewOf(env: Env, label: string): Promise<Pinned | undefined> {
  const res = await env.CONTROL.fetch(`http://control/preview/${encodeURIComponent(label)}`);
  return res.status === 200 ? ((await res.json()) as Pinned) : undefined;
}

async function dispatch(
  env: Env,
  ctx: Ctx,
  script: string,
  request: Request,
  preview?: string,
  entrypoint?: string,
  pinned?: Pinned,
): Promise<Response> {
  const t = await getTable(env);
  const entries = t.scripts[script] ?? [];
  if (!pinned && entries.length === 0) {
    return new Response(`There is nothing here yet: no Worker named "${script}" is deployed in this region.`, { status: 404 });
  }
  const override = overrideFor(request.headers.get("Cloudflare-Workers-Version-Overrides"), script);
  const versionId = pinned?.versionId ?? chooseVersion(entries, { override, random: Math.random(), ...(preview ? { preview } : {}) });
  if (!versionId) return new Response(`No version of "${script}" starts with ${preview}.`, { status: 404 });
  const runWorker = async () => {
    // Wall time as the router sees it: until the response headers (workerd's clock moves on I/O).
    const start = Date.now();
    let status: InvocationStatus = "success";
    try {
      const stub = workerStub(env, ctx, t, script, versionId);
      const withCf = request.cf ? request : new Request(request, { cf: env.CF } as RequestInit);
      return await stub.getEntrypoint(entrypoint).fetch(withCf);
    } catch (e) {
      status = statusOfError(e);
      // Cloudflare's answer to a client: the error code alone, never the exception's text, which
      // may hold anything the code put in it. The text goes to the edge's log (and `wrangler tail`).
      console.error(`${script}@${versionId}: uncaught ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      return new Response(`error code: ${status === "exceededResources" ? 1102 : 1101}`, {
        status: 500,
        headers: { "content-type": "text/plain; charset=UTF-8" },
      });
    } finally {
      if (t.analytics !== false) countInvocation(script, versionId, start, Date.now() - start, status);
    }
  };
  return (pinned ? pinned.assets : t.assets?.[versionId]) ? serveWithAssets(env, versionId, request, runWorker) : runWorker();
}

/** The live version's default entrypoint for a queue batch or scheduled event (chosen by percentage). */
async function eventTarget(env: Env, ctx: Ctx, script: string): Promise<EventTarget | undefined> {
  const t = await getTable(env);
  const entries = t.scripts[script];
  if (!entries || entries.length === 0) return undefined;
  const versionId = chooseVersion(entries, { random: Math.random() })!;
  const target = workerStub(env, ctx, t, script, versionId).getEntrypoint() as unknown as EventTarget;
  if (t.analytics === false) return target;
  // Crons and queue batches are invocations too; workerd reports their outcome in the result.
  const counted = async <T>(run: () => Promise<T>): Promise<T> => {
    const start = Date.now();
    let status: InvocationStatus = "internalError";
    try {
      const result = await run();
      status = statusOfOutcome((result as { outcome?: unknown } | undefined)?.outcome);
      return result;
    } catch (e) {
      status = statusOfError(e);
      throw e;
    } finally {
      countInvocation(script, versionId, start, Date.now() - start, status);
    }
  };
  return {
    queue: (queue, messages) => counted(() => target.queue(queue, messages)),
    scheduled: (opts) => counted(() => target.scheduled(opts)),
  };
}

/**
 * Every loaded version's globalOutbound. A request whose host is a tunnel hostname (a rule of a
 * tunnel's ingress names it, see tunnel-ingress.ts) goes to the matching rule's service, as
 * cloudflared would send it: same method, path, query, headers and body, with X-Forwarded-Host
 * and -Proto saying what the Worker asked for. `http_status:N` answers N. Anything else goes out
 * as it came, so Workers reach the orchestrator by its tunnel URL exactly as at Cloudflare.
 */
export class TunnelOutbound extends WorkerEntrypoint<Env> {
  override async fetch(request: Request): Promise<Response> {
    const props = (this.ctx as unknown as { props: { script?: string; versionId?: string } }).props;
    if (props.script !== undefined && props.versionId !== undefined && table?.analytics !== false)
      countSubrequest(props.script, props.versionId, Date.now());
    const url = new URL(request.url);
    if (!mayBeTunnelHost(url.host)) return fetch(request);
    const lookup = await this.env.CONTROL.fetch(`http://control/tunnel?${new URLSearchParams({ host: url.host, path: url.pathname })}`);
    if (lookup.status === 204) return fetch(request);
    if (!lookup.ok) return new Response(`The local edge could not look up tunnel routes (${lookup.status}).`, { status: 502 });
    const route = (await lookup.json()) as TunnelRoute;
    const status = /^http_status:(\d{3})$/.exec(route.service);
    if (status) return new Response(null, { status: Number(status[1]) });
    if (!/^https?:\/\//.test(route.service)) {
      return new Response(`The local edge forwards tunnel traffic to http(s) services only, not "${route.service}".`, { status: 502 });
    }
    const origin = new URL(route.service);
    const headers = new Headers(request.headers);
    headers.set("x-forwarded-host", url.host);
    headers.set("x-forwarded-proto", url.protocol.slice(0, -1));
    try {
      return await fetch(new URL(url.pathname + url.search, origin), {
        method: request.method,
        headers,
        body: request.body,
        redirect: "manual",
      });
    } catch {
      // What cloudflared answers when its origin is down.
      return new Response(`Bad gateway: the tunnel's origin ${origin.origin} did not answer.`, { status: 502 });
    }
  }
}

type ServiceProps = { script: string; entrypoint?: string };

/** An RPC call over a service binding: the target's live version (weighted), its named or default entrypoint. */
async function callService(env: Env, ctx: Ctx, props: ServiceProps, method: string, args: unknown[]): Promise<unknown> {
  const t = await getTable(env);
  const entries = t.scripts[props.script];
  if (!entries || entries.length === 0) throw new Error(`No Worker named "${props.script}" is deployed in this region.`);
  const versionId = chooseVersion(entries, { random: Math.random() })!;
  const target = workerStub(env, ctx, t, props.script, versionId).getEntrypoint(props.entrypoint) as unknown as Record<
    string,
    (...a: unknown[]) => Promise<unknown>
  >;
  const start = Date.now();
  let status: InvocationStatus = "success";
  try {
    // Called as a method of the stub: anything else (fn.apply…) would itself be an RPC property.
    return await target[method]!(...args);
  } catch (e) {
    status = statusOfError(e);
    throw e;
  } finally {
    if (t.analytics !== false) countInvocation(props.script, versionId, start, Date.now() - start, status);
  }
}

/**
 * A service binding: fetch() routes like the public router (assets included), and any other
 * method is forwarded as an RPC call to the target's entrypoint. The instance is wrapped in a
 * Proxy so that workerd's RPC finds every method name, not only those this class declares.
 */
export class ServiceBinding extends WorkerEntrypoint<Env> {
  constructor(ctx: ExecutionContext, env: Env) {
    super(ctx, env);
    return new Proxy(this, {
      get(t, p, r) {
        if (typeof p === "symbol" || p in t) return Reflect.get(t, p, r);
        const props = (t.ctx as unknown as { props: ServiceProps }).props;
        return (...args: unknown[]) => callService(t.env, t.ctx as Ctx, props, p, args);
      },
    });
  }
  override async fetch(request: Request): Promise<Response> {
    const props = (this.ctx as unknown as { props: ServiceProps }).props;
    return dispatch(this.env, this.ctx as Ctx, props.script, request, undefined, props.entrypoint);
  }
}

export default {
  async fetch(request: Request, env: Env, ctx: Ctx): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/__cbo/table" && request.method === "POST") {
      if (request.headers.get("x-cbo-admin") !== env.ADMIN_SECRET) return new Response("forbidden", { status: 403 });
      table = (await request.json()) as Table;
      return new Response("ok");
    }
    if (url.pathname === "/__cbo/analytics" && request.method === "POST") {
      if (request.headers.get("x-cbo-admin") !== env.ADMIN_SECRET) return new Response("forbidden", { status: 403 });
      return Response.json({ cells: drainCells() });
    }
    if (url.pathname === "/__cbo/probe" && request.method === "POST") {
      if (request.headers.get("x-cbo-admin") !== env.ADMIN_SECRET) return new Response("forbidden", { status: 403 });
      const spec = (await request.json()) as ProbeSpec;
      return Response.json(await probeStartup(env.LOADER, spec, withRpc(spec.compatibilityDate, spec.compatibilityFlags)));
    }
    if (url.pathname === "/__cbo/event" && request.method === "POST") {
      if (request.headers.get("x-cbo-admin") !== env.ADMIN_SECRET) return new Response("forbidden", { status: 403 });
      // A region in an injected outage runs no queue consumers and no crons either.
      if ((await getTable(env)).fault.outage)
        return Response.json({ ok: false, deployed: true, unavailable: true, error: "Region unavailable (injected outage)." });
      return handleEvent((await request.json()) as EventRequest, (script) => eventTarget(env, ctx, script));
    }
    const t = await getTable(env);
    const fault = t.fault;
    if (fault.outage) return new Response("Region unavailable (injected outage).", { status: 503, headers: { connection: "close" } });
    if (fault.latencyMs) await new Promise((r) => setTimeout(r, fault.latencyMs));
    if (fault.errorRate && Math.random() < fault.errorRate) return new Response("Injected error.", { status: 500 });
    const host = request.headers.get("host") ?? url.host;
    const target = scriptFromHost(host, t.subdomain);
    if (target) {
      // x.localhost stands in for x.<subdomain>.workers.dev, so both follow the workers.dev switch.
      if ((target.preview ? t.previewsOff : t.workersDevOff)?.includes(target.script)) {
        return new Response(
          `There is nothing here yet: ${target.preview ? "preview URLs are" : "workers.dev is"} turned off for "${target.script}".`,
          { status: 404 },
        );
      }
      // Not a live version: a preview URL of an uploaded one, or a preview alias (`<alias>-<worker>`).
      const live = t.scripts[target.script] ?? [];
      if (!live.some((e) => !target.preview || e.version_id.startsWith(target.preview))) {
        const pinned = await previewOf(env, target.preview ? `${target.preview}-${target.script}` : target.script);
        if (pinned) return dispatch(env, ctx, pinned.script, request, undefined, undefined, pinned);
      }
      return dispatch(env, ctx, target.script, request, target.preview);
    }
    const hostname = host.toLowerCase().replace(/:\d+$/, "");
    const routed = t.domains?.[hostname] ?? (t.routes?.length ? matchRoute(routesOf(t), hostname, url.pathname) : undefined);
    if (routed) return dispatch(env, ctx, routed, request);
    return new Response(
      `This is a local edge region. Address a Worker by host: http://<worker>.localhost:${url.port}/, or by one of its routes or custom domains.`,
      { status: 404 },
    );
  },
} satisfies ExportedHandler<Env>;
