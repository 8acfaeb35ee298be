// One region's workerd (through Miniflare): a single router Worker on the region's public port.
// Its Miniflare options never change after start (setOptions would restart workerd and drop
// requests to every Worker in the region); deployments reach it as pushed routing tables.
import type { ProbeOutcome, ProbeSpec } from "../workers/startup-probe.ts";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { Miniflare, NoOpLog } from "miniflare";
import { hexId } from "../../kit/ids.ts";
import { blankForChildren, withChildEnv } from "../../config/child-env.ts";
import { ensurePrivateDir, tighten } from "../../config/private-fs.ts";
import { CboError } from "../../kit/errors.ts";
import type { RouterTable } from "./control.ts";
import type { EventRequest } from "../workers/events.ts";

const bundles = new Map<string, Promise<string>>();

/** A file of ../workers bundled into one ES module, once per process. */
function bundleWorkerFile(file: string): Promise<string> {
  let code = bundles.get(file);
  if (!code) {
    code = (async () => {
      const entry = fileURLToPath(new URL(`../workers/${file}`, import.meta.url));
      // The esbuild service process starts here when the edge is the first to bundle: no secrets.
      const out = await withChildEnv(() =>
        build({
          entryPoints: [entry],
          bundle: true,
          format: "esm",
          target: "es2022",
          platform: "neutral",
          external: ["cloudflare:*"],
          write: false,
          logLevel: "silent",
        }),
      );
      return out.outputFiles[0]!.text;
    })();
    bundles.set(file, code);
  }
  return code;
}
/** The router Worker (with its routing module). */
const loadRouterCode = () => bundleWorkerFile("router.worker.ts");
/** The env shim (workers/env-shim/shim.ts), the first module of versions that need it. */
const loadShimCode = () => bundleWorkerFile("env-shim/shim.ts");

/** What `request.cf` says in a region, loosely like the colo a request would land on. */
export function regionCf(region: string): Record<string, unknown> {
  const known: Record<string, Record<string, string>> = {
    eu: { colo: "FRA", country: "DE", continent: "EU", timezone: "Europe/Berlin" },
    us: { colo: "IAD", country: "US", continent: "NA", timezone: "America/New_York" },
    ap: { colo: "SIN", country: "SG", continent: "AS", timezone: "Asia/Singapore" },
  };
  return { asn: 395747, asOrganization: "Local Edge", httpProtocol: "HTTP/1.1", ...(known[region] ?? { colo: "LCL", country: "XX" }) };
}

/**
 * Durable Object storage holds Workers' data, so it is the owner's only like the rest of the edge's
 * state. workerd creates those files itself, with the umask it inherits when Miniflare spawns it:
 * the process umask is 077 while any region starts (counted, as regions start concurrently).
 */
let umaskHolders = 0;
let savedUmask = 0o022;
function holdPrivateUmask(): () => void {
  if (umaskHolders++ === 0) savedUmask = process.umask(0o077);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--umaskHolders === 0) process.umask(savedUmask);
  };
}

/** Creates `dir` 0700 and tightens what an earlier run left wider inside it. */
function privateTree(dir: string): void {
  ensurePrivateDir(dir);
  for (const f of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    tighten(join(f.parentPath, f.name), f.isDirectory() ? 0o700 : 0o600);
  }
}

export type RegionRuntime = {
  port: number;
  url: string;
  push(table: RouterTable): Promise<void>;
  /** Delivers an event the edge starts (a queue batch, a scheduled event) to a Worker (workers/events.ts). */
  event(request: EventRequest): Promise<EventOutcome>;
  /** Starts uploaded code once without serving it (workers/startup-probe.ts). */
  probe(spec: ProbeSpec): Promise<ProbeOutcome>;
  /** What the router counted since the last drain (workers/invocation-counter.ts); unchecked JSON. */
  drainAnalytics(): Promise<unknown>;
  dispose(): Promise<void>;
};

/**
 * The router's answer to an event: `deployed: false` when no version of the script is live,
 * `unavailable` when the region is in an injected outage (neither counts as a delivery attempt).
 */
export type EventOutcome = { ok: boolean; deployed: boolean; unavailable?: boolean; result?: unknown; error?: string };

export async function startRegionRuntime(opts: {
  region: string;
  port: number;
  /** Where workerd keeps the region's Durable Object storage (Miniflare persistence); in memory if unset. */
  persistDir?: string;
  control: (request: Request) => Promise<Response>;
  log?: (line: string) => void;
}): Promise<RegionRuntime> {
  const adminSecret = hexId();
  const name = `router-${opts.region}`;
  if (opts.persistDir) privateTree(opts.persistDir);
  const releaseUmask = holdPrivateUmask();
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    log: new NoOpLog(),
    telemetry: { enabled: false },
    // workerd is spawned with process.env merged with this (and Miniflare takes strings only):
    // everything but the allowlist of src/config/child-env.ts is emptied, so no value of the
    // daemon's environment (a key, a token) reaches workerd's /proc/<pid>/environ.
    unsafeRuntimeEnv: blankForChildren(),
    enableDevRegistry: false,
    // A fixed request.cf; without one Miniflare downloads cf.json from the internet. (The router
    // gives Workers the region's own cf object, since direct sockets bypass Miniflare's entry.)
    cf: regionCf(opts.region),
    // Workers' console output goes to our log (stderr), never to stdout, which `cbo edge` keeps
    // for its one JSON line.
    handleStructuredLogs: (entry) => opts.log?.(`[${opts.region}] ${entry.message}`),
    ...(opts.persistDir ? { resourcePersistencePath: opts.persistDir } : {}),
    workers: [
      {
        config: {
          name,
          compatibilityDate: "2025-09-01",
          // service_binding_extra_handlers: the loaded Workers' queue() and scheduled() (events.ts).
          compatibilityFlags: ["enable_ctx_exports", "service_binding_extra_handlers"],
          manifest: { mainModule: "router.js", modules: { "router.js": { type: "esm", contents: await loadRouterCode() } } },
          // One host object per (namespace, object id); the user's class runs as its facet.
          exports: { DoHost: { type: "durable-object", storage: "sqlite" } },
          env: {
            LOADER: { type: "worker-loader" },
            DO_HOST: { type: "durable-object", worker: name, exportName: "DoHost" },
            SHIM_CODE: { type: "text", value: await loadShimCode() },
            CONTROL: { type: "fetcher", handler: (req) => opts.control(req as unknown as Request) as never },
            ADMIN_SECRET: { type: "text", value: adminSecret },
            CF: { type: "json", value: regionCf(opts.region) as never },
          },
        },
        dev: { unsafeDirectSockets: [{ host: "127.0.0.1", port: opts.port }] },
      },
    ],
  });
  try {
    await mf.ready;
  } catch (e) {
    await mf.dispose().catch(() => {});
    throw new CboError(
      "ERR_EDGE_RUNTIME",
      `Region ${opts.region} could not start workerd on port ${opts.port}: ${e instanceof Error ? e.message : String(e)}`,
      {
        hint: "Is the port already in use? Pick others with --port.",
        cause: e,
      },
    );
  } finally {
    releaseUmask();
  }
  const url = (await mf.unsafeGetDirectURL(name)).href;
  return {
    port: Number(new URL(url).port),
    url,
    async push(table) {
      const res = await fetch(new URL("/__cbo/table", url), {
        method: "POST",
        headers: { "x-cbo-admin": adminSecret, "content-type": "application/json" },
        body: JSON.stringify(table),
      });
      if (!res.ok) throw new CboError("ERR_EDGE_RUNTIME", `Region ${opts.region} refused its routing table (${res.status}).`);
      await res.arrayBuffer();
    },
    async event(request) {
      const res = await fetch(new URL("/__cbo/event", url), {
        method: "POST",
        headers: { "x-cbo-admin": adminSecret, "content-type": "application/json" },
        body: JSON.stringify(request),
      });
      if (!res.ok) throw new CboError("ERR_EDGE_RUNTIME", `Region ${opts.region} refused an event (${res.status}).`);
      return (await res.json()) as EventOutcome;
    },
    async probe(spec) {
      const res = await fetch(new URL("/__cbo/probe", url), {
        method: "POST",
        headers: { "x-cbo-admin": adminSecret, "content-type": "application/json" },
        body: JSON.stringify(spec),
      });
      if (!res.ok) throw new CboError("ERR_EDGE_RUNTIME", `Region ${opts.region} refused a startup probe (${res.status}).`);
      return (await res.json()) as ProbeOutcome;
    },
    async drainAnalytics() {
      const res = await fetch(new URL("/__cbo/analytics", url), { method: "POST", headers: { "x-cbo-admin": adminSecret } });
      if (!res.ok)
        throw new CboError("ERR_EDGE_RUNTIME", `Region ${opts.region} refused to hand over its invocation counts (${res.status}).`);
      return await res.json();
    },
    dispose: () => mf.dispose(),
  };
}
