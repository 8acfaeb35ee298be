// The composition root: the one place that wires config, store, Cloudflare clients, the release
// engine, the monitor and the API together. Nothing here runs at import time; `startDaemon` is
// called by `cbo up` / `cbo daemon` (and tests) with everything passed in.
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { CboError } from "./kit/errors.ts";
import { loadSpec, type ResolvedSpec } from "./config/load.ts";
import type { Target } from "./config/schema.ts";
import { createStore, type Store } from "./store/index.ts";
import { createCloudflareClient } from "./cloudflare/index.ts";
import type { LocalEdge } from "./local-edge/types.ts";
import type { Engine, TargetRuntime } from "./deploy/types.ts";
import { createEngine } from "./deploy/index.ts";
import { createMonitor } from "./monitor/index.ts";
import { createApi, startApiServer } from "./api/index.ts";

export type DaemonOptions = {
  dataDir: string;
  configFile: string;
  host?: string;
  port?: number;
  /** The local edge (embedded, or a running `cbo edge`), required when a target has `api: local`. */
  edge?: Pick<LocalEdge, "apiUrl" | "token" | "regions">;
  /** Token for Cloudflare targets (until the vault holds it): CLOUDFLARE_API_TOKEN. */
  cloudflareToken?: string;
  monitorIntervalMs?: number;
  log?: (line: string) => void;
};

export type Daemon = {
  url: string;
  spec: ResolvedSpec;
  store: Store;
  engine: Engine;
  /** Set only on the first start: the admin token, to be shown once. */
  initialAdminToken?: string;
  adminTokenFile: string;
  close(): Promise<void>;
};

function buildTargets(spec: ResolvedSpec, opts: DaemonOptions): Map<string, TargetRuntime> {
  const map = new Map<string, TargetRuntime>();
  for (const t of spec.targets) map.set(t.name, targetRuntime(t, opts));
  return map;
}

function targetRuntime(t: Target, opts: DaemonOptions): TargetRuntime {
  if (t.api === "local") {
    const edge = opts.edge;
    if (!edge) {
      throw new CboError("ERR_VALIDATION", `Target "${t.name}" uses the local edge (api: local), but none is running.`, {
        hint: "Start everything with `cbo up`, or point the target at Cloudflare (api: https://api.cloudflare.com/client/v4 with account_id).",
      });
    }
    const region = edge.regions.find((r) => r.name === (t.region ?? t.name));
    if (!region) {
      throw new CboError("ERR_VALIDATION", `Target "${t.name}" names local region "${t.region ?? t.name}", which the local edge does not have (it has ${edge.regions.map((r) => r.name).join(", ")}).`, {
        hint: "Set `region:` on the target to one of those, or start the edge with --regions.",
      });
    }
    const client = createCloudflareClient({ baseUrl: edge.apiUrl, apiToken: edge.token, accountId: region.accountId });
    return { name: t.name, accountId: region.accountId, client, endpoint: (worker) => ({ url: `http://127.0.0.1:${region.port}/`, host: `${worker}.localhost` }) };
  }
  if (!opts.cloudflareToken) {
    throw new CboError("ERR_VALIDATION", `Target "${t.name}" talks to ${t.api}, but no Cloudflare API token is set.`, { hint: "Set CLOUDFLARE_API_TOKEN for the daemon." });
  }
  const client = createCloudflareClient({ baseUrl: t.api, apiToken: opts.cloudflareToken, accountId: t.account_id! });
  let subdomain: string | undefined;
  void client.getSubdomain().then((s) => (subdomain = s), () => {});
  return { name: t.name, accountId: t.account_id!, client, endpoint: (worker) => ({ url: `https://${worker}.${subdomain ?? "workers"}.workers.dev/` }) };
}

export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const log = opts.log ?? ((line: string) => process.stderr.write(line + "\n"));
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const spec = loadSpec(opts.configFile);
  const targets = buildTargets(spec, opts);
  const store = createStore(join(dataDir, "orchestrator.sqlite"));
  try {
    for (const t of spec.targets) {
      store.catalog.upsertTarget({
        tenant: spec.tenant, name: t.name, api: t.api, account_id: targets.get(t.name)!.accountId,
        region: t.api === "local" ? (t.region ?? t.name) : null, jurisdiction: t.jurisdiction ?? null, kv_namespace: t.kv_namespace ?? null,
      });
    }
    for (const w of spec.workers) store.catalog.upsertWorker(spec.tenant, w.name, { ...w });

    const engine = createEngine({ store, spec: () => spec, targets: () => targets, log });
    await engine.recover();
    const monitor = createMonitor({ store, spec: () => spec, targets: () => targets, intervalMs: opts.monitorIntervalMs ?? 1000, log });

    const adminTokenFile = join(dataDir, "admin-token");
    // First start: one admin token, shown once by the caller and kept in a 0600 file for the CLI.
    let initialAdminToken: string | undefined;
    if (store.tokens.count() === 0) {
      initialAdminToken = store.tokens.create({ name: "initial admin", role: "admin" }).token;
      writeFileSync(adminTokenFile, initialAdminToken + "\n", { mode: 0o600 });
      chmodSync(adminTokenFile, 0o600);
    }

    const api = createApi({ store, engine, monitor, spec: () => spec, targets: () => targets, log });
    const server = await startApiServer({ api, host: opts.host ?? "127.0.0.1", port: opts.port ?? 0 });
    writeFileSync(join(dataDir, "daemon.json"), JSON.stringify({ url: server.url, pid: process.pid }, null, 2) + "\n");
    monitor.start();

    let closed = false;
    return {
      url: server.url,
      spec,
      store,
      engine,
      adminTokenFile,
      ...(initialAdminToken ? { initialAdminToken } : {}),
      async close() {
        if (closed) return;
        closed = true;
        await monitor.stop();
        await engine.close();
        await server.close();
        store.close();
      },
    };
  } catch (e) {
    store.close();
    throw e;
  }
}
