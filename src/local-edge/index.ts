// startLocalEdge: the embedded Cloudflare-API-compatible edge. One API server on 127.0.0.1 for
// every region account, and one workerd per region serving that region's Workers on its own port.
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { serve, type ServerType } from "@hono/node-server";
import { CboError } from "../kit/errors.ts";
import { hexId } from "../kit/ids.ts";
import { ensurePrivateDir, tighten, writePrivateFile } from "../config/private-fs.ts";
import { EDGE_TOKEN_MIN_CHARS, readEdgeToken, writeEdgeToken } from "../config/edge-files.ts";
import { openEdgeDb } from "./state/db.ts";
import { createAccountStore } from "./state/accounts.ts";
import { createScriptStore } from "./state/scripts.ts";
import { createKvStore } from "./state/kv.ts";
import { createTunnelStore } from "./state/tunnels.ts";
import { createWorkerStores } from "./state/worker-stores.ts";
import { createAssetTokens } from "./api/asset-tokens.ts";
import { createFaults } from "./faults.ts";
import { createOps } from "./api/operations.ts";
import { createApiApp } from "./api/app.ts";
import { buildTable, createControlHandler } from "./runtime/control.ts";
import { regionCf, startRegionRuntime, type RegionRuntime } from "./runtime/region-runtime.ts";
import { forgetWorkerd, recordWorkerd, stopLeftoverWorkerd, workerdChildren } from "./runtime/leftover-workerd.ts";
import { createTunnelRoutes } from "./runtime/tunnel-routes.ts";
import { createD1Store } from "./state/d1.ts";
import { createR2Store } from "./state/r2.ts";
import { createQueueStore } from "./state/queues.ts";
import { createD1Pool } from "./d1/pool.ts";
import { createDataBindingCheck } from "./api/data-bindings-check.ts";
import { createDataControl } from "./runtime/control-data.ts";
import { createQueueDispatcher } from "./runtime/queue-dispatcher.ts";
import { createCronScheduler } from "./cron/scheduler.ts";
import { createInvocationStore } from "./state/invocations.ts";
import { createAnalyticsCollector } from "./runtime/analytics-collector.ts";
import { refuseEdgeDirInUse } from "./in-use.ts";
export { refuseEdgeDirInUse } from "./in-use.ts";
import { createTailHub } from "./tail/hub.ts";
import { TailPostSchema } from "./tail/trace.ts";
import type { Fault, LocalEdge, LocalEdgeOptions, RegionInfo } from "./types.ts";

export type { Fault, LocalEdge, LocalEdgeOptions, RegionInfo } from "./types.ts";
export const DEFAULT_REGIONS = ["eu", "us", "ap"];
export { stopLeftoverWorkerd } from "./runtime/leftover-workerd.ts";
const REGION_NAME = /^[a-z][a-z0-9-]{0,30}$/;
const MAX_PORT = 65_535;
const DAY_MS = 86_400_000;
/** `d1 insights` without a database reads this many of the account's databases at most (each opens its file). */
const D1_INSIGHTS_DATABASES = 1000;

function loadOrCreateToken(dataDir: string): string {
  const file = join(dataDir, "token");
  if (existsSync(file)) {
    tighten(file, 0o600);
    // An empty or cut-off token (a disk that filled as it was written, a hand edit) is refused:
    // taken, it would let an empty X-Auth-Key header in.
    return readEdgeToken(dataDir, EDGE_TOKEN_MIN_CHARS);
  }
  const token = `cbo_edge_${hexId(20)}`;
  writeEdgeToken(dataDir, token);
  return token;
}

function listen(app: { fetch: (r: Request) => Response | Promise<Response> }, port: number): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }, () => resolve(server));
    server.once("error", (e) =>
      reject(
        new CboError("ERR_IO", `The local edge API could not listen on 127.0.0.1:${port}: ${(e as Error).message}`, {
          hint: "Pick another port with --port.",
          cause: e,
        }),
      ),
    );
  });
}

export async function startLocalEdge(opts: LocalEdgeOptions): Promise<LocalEdge> {
  const regionNames = opts.regions ?? DEFAULT_REGIONS;
  if (regionNames.length === 0) throw new CboError("ERR_VALIDATION", "The local edge needs at least one region.");
  for (const r of regionNames) {
    if (!REGION_NAME.test(r))
      throw new CboError(
        "ERR_VALIDATION",
        `Region name "${r}" is not valid: use lowercase letters, digits and dashes, starting with a letter.`,
      );
  }
  if (new Set(regionNames).size !== regionNames.length) throw new CboError("ERR_VALIDATION", "Region names must be unique.");
  const retentionDays = opts.analyticsRetentionDays ?? 7;
  if (!(retentionDays > 0 && retentionDays <= 90)) {
    throw new CboError(
      "ERR_VALIDATION",
      `analyticsRetentionDays must be more than 0 and at most 90 (Cloudflare keeps Workers metrics for three months), not ${retentionDays}.`,
    );
  }
  // Regions take the ports right after the API's (unless given); the last must still be a port.
  const lastPort = (opts.port ?? 0) + regionNames.length;
  if (opts.port && lastPort > MAX_PORT && regionNames.some((r) => opts.regionPorts?.[r] === undefined)) {
    throw new CboError(
      "ERR_VALIDATION",
      `Port ${opts.port} leaves no room for the ${regionNames.length} region port(s) after it (up to ${lastPort}; ports end at ${MAX_PORT}).`,
      {
        hint: `Use a port up to ${MAX_PORT - regionNames.length}, or 0 for free ports.`,
      },
    );
  }
  const log = opts.log ?? ((line: string) => process.stderr.write(line.endsWith("\n") ? line : line + "\n"));
  // Before anything is opened or written there: an edge already serving this directory.
  await refuseEdgeDirInUse(opts.dataDir);
  // What it holds is what Cloudflare would hold for these accounts (per-Worker keys, binding
  // secrets, the API token): its owner's only.
  if (ensurePrivateDir(opts.dataDir)) log(`local-edge: ${opts.dataDir} was open to other users; it is 0700 now`);
  // Durable Object storage, one directory per region (runtime/region-runtime.ts keeps it private too).
  ensurePrivateDir(join(opts.dataDir, "workerd"));
  // Before any state is opened: a damaged token file stops the start here, with nothing changed.
  const token = opts.token ?? loadOrCreateToken(opts.dataDir);
  // A killed edge's workerd processes still hold its ports and serve its old state (leftover-workerd.ts).
  await stopLeftoverWorkerd(opts.dataDir, log);
  const workerdBefore = workerdChildren();

  const db = openEdgeDb(opts.dataDir);
  const accounts = createAccountStore(db);
  const scripts = createScriptStore(db);
  const kv = createKvStore(db);
  const tunnels = createTunnelStore(db);
  const stores = createWorkerStores(db);
  const d1 = createD1Store(db);
  const r2 = createR2Store(db, join(opts.dataDir, "r2"));
  const swept = r2.sweep();
  if (swept.uploads + swept.files > 0)
    log(`local-edge: R2: ${swept.uploads} multipart upload(s) past 7 days aborted, ${swept.files} file(s) of cut-off writes removed`);
  const queues = createQueueStore(db);
  const invocations = createInvocationStore(db);
  const d1Pool = createD1Pool(join(opts.dataDir, "d1"), (id) => {
    const region = accounts.get(d1.byId(id)?.account_id ?? "")?.region ?? "";
    return ({ eu: "WEUR", us: "ENAM", ap: "APAC" } as Record<string, string>)[region] ?? "WNAM";
  });
  const faults = createFaults();
  const assetTokens = createAssetTokens(token);

  for (const region of regionNames) {
    if (!accounts.byRegion(region)) {
      accounts.insert({
        id: hexId(),
        name: `Local edge (${region})`,
        region,
        subdomain: `${region}-local`,
        created_on: new Date().toISOString(),
      });
    }
  }

  const runtimes = new Map<string, RegionRuntime>();
  const pushChains = new Map<string, Promise<void>>();
  const requestCounts = new Map<string, number>();

  const tails = createTailHub({
    changed: (accountId) => pushRegion(accounts.get(accountId)?.region ?? ""),
    version: (id) => {
      const annotations = scripts.getVersion(id)?.annotations ?? {};
      const tag = annotations["workers/tag"];
      const message = annotations["workers/message"];
      return { id, ...(tag ? { tag } : {}), ...(message ? { message } : {}) };
    },
    log,
  });
  const tableOf = (region: string, account: { id: string; subdomain: string }) =>
    buildTable(scripts, account.id, faults.get(region), account.subdomain, stores, {
      tailed: tails.tailedScripts(account.id),
      analytics: opts.analytics !== false,
    });

  /** Pushes the region's current table; chained per region so tables never arrive out of order. */
  const pushRegion = (region: string): Promise<void> => {
    const runtime = runtimes.get(region);
    const account = accounts.byRegion(region);
    if (!runtime || !account) return Promise.resolve();
    const next = (pushChains.get(region) ?? Promise.resolve()).catch(() => {}).then(() => runtime.push(tableOf(region, account)));
    pushChains.set(region, next);
    return next;
  };
  const collector = createAnalyticsCollector({
    store: invocations,
    drainers: () =>
      [...runtimes].flatMap(([region, runtime]) => {
        const account = accounts.byRegion(region);
        return account ? [{ accountId: account.id, region, drain: () => runtime.drainAnalytics() }] : [];
      }),
    retentionMs: retentionDays * DAY_MS,
    log,
  });
  const notify = async (accountId: string) => {
    const a = accounts.get(accountId);
    if (a) await pushRegion(a.region);
    // A consumer Worker may just have gone live.
    dispatcher.poke();
  };
  const invoke = (accountId: string, request: Parameters<RegionRuntime["event"]>[0]) => {
    const runtime = runtimes.get(accounts.get(accountId)?.region ?? "");
    if (!runtime) return Promise.reject(new CboError("ERR_EDGE_RUNTIME", `No runtime for account ${accountId}.`));
    return runtime.event(request);
  };
  const dispatcher = createQueueDispatcher({
    queues,
    isLive: (accountId, script) => (scripts.currentDeployment(accountId, script)?.versions.length ?? 0) > 0,
    invoke,
    log,
  });
  const fire = (region: string, script: string, cron: string, scheduledTime: number) =>
    invoke(accounts.byRegion(region)?.id ?? "", { type: "scheduled", script, cron, scheduledTime });
  const crons = createCronScheduler({
    targets: () =>
      accounts.list().flatMap((a) =>
        scripts.liveDeployments(a.id).flatMap((d) => {
          const s = scripts.get(a.id, d.script);
          return s && s.schedules.length > 0 ? [{ accountId: a.id, script: s.name, crons: s.schedules.map((x) => x.cron) }] : [];
        }),
      ),
    fire: async (t, cron, time) => {
      const out = await invoke(t.accountId, { type: "scheduled", script: t.script, cron, scheduledTime: time });
      if (out.ok && (out.result as { outcome?: string } | undefined)?.outcome !== "ok")
        log(`local-edge: cron "${cron}" of ${t.script}: ${JSON.stringify(out.result)}`);
      if (!out.ok && out.deployed) log(`local-edge: cron "${cron}" of ${t.script} failed: ${out.error}`);
    },
    log,
  });
  const setFault = async (region: string, fault: Fault | null) => {
    if (!accounts.byRegion(region) || !regionNames.includes(region)) throw new CboError("ERR_NOT_FOUND", `No region named "${region}".`);
    faults.set(region, fault);
    await pushRegion(region);
  };

  const ops = createOps({
    db,
    scripts,
    kv,
    notify,
    stores,
    assetTokens,
    checkBindings: createDataBindingCheck({ d1, r2, queues }),
    checkStartup: async (accountId, spec) => (await runtimes.get(accounts.get(accountId)?.region ?? "")?.probe(spec)) ?? { ok: true },
  });
  let regionInfos: RegionInfo[] = [];
  const app = createApiApp({
    token,
    accounts,
    scripts,
    kv,
    tunnels,
    ops,
    faults,
    setFault,
    log,
    stores,
    assetTokens,
    db,
    dataDir: opts.dataDir,
    info: () => ({ regions: regionInfos }),
    countRequest: (id) => requestCounts.set(id, (requestCounts.get(id) ?? 0) + 1),
    data: { d1, d1Pool, r2, queues, queuesChanged: () => dispatcher.poke(), fire },
    analytics: {
      invocations,
      drain: (accountId) => collector.drain(accountId),
      retentionMs: retentionDays * DAY_MS,
      coloCode: (region) => String(regionCf(region)["colo"]),
      d1Usage: (accountId, id, fromMs, toMs) => (d1.byId(id)?.account_id === accountId ? d1Pool.get(id).usage(fromMs, toMs) : undefined),
      d1Queries: (accountId, id, fromMs, toMs) => {
        const dbs =
          id === undefined
            ? d1.list(accountId, { limit: D1_INSIGHTS_DATABASES, offset: 0 })
            : [d1.byId(id)].filter((x) => x?.account_id === accountId);
        return dbs.flatMap((x) =>
          d1Pool
            .get(x!.uuid)
            .queries(fromMs, toMs)
            .map((q) => ({ ...q, databaseId: x!.uuid })),
        );
      },
      // `<jurisdiction>_<name>` names a bucket in a jurisdiction (R2 bucket names have no "_").
      r2Storage: (accountId, bucketName) => {
        const [jurisdiction, name] = bucketName.includes("_") ? bucketName.split("_", 2) : ["default", bucketName];
        const bucket = r2.getBucket(accountId, jurisdiction!, name!);
        return bucket ? r2.storage(bucket.id) : undefined;
      },
    },
    tails: { hub: tails, notify: (accountId) => pushRegion(accounts.get(accountId)?.region ?? "") },
  });

  const server = await listen(app, opts.port ?? 0);
  // The only upgrades the API serves are tail sessions' WebSockets.
  server.on("upgrade", (req, socket, head) => tails.upgrade(req, socket, head));
  const apiPort = (server.address() as AddressInfo).port;
  try {
    const started = await Promise.all(
      regionNames.map(async (region, i) => {
        const account = accounts.byRegion(region)!;
        const port = opts.regionPorts?.[region] ?? (opts.port ? opts.port + i + 1 : 0);
        const runtime = await startRegionRuntime({
          region,
          port,
          log,
          persistDir: join(opts.dataDir, "workerd", region),
          control: createControlHandler({
            accountId: account.id,
            scripts,
            kv,
            stores,
            table: () => tableOf(region, account),
            tail: (body) => {
              const parsed = TailPostSchema.safeParse(body);
              if (parsed.success) tails.publish(account.id, parsed.data.script, parsed.data.versionId, parsed.data.events);
              else log(`local-edge: a traced invocation the edge cannot read: ${parsed.error.issues[0]?.message}`);
            },
            // Tunnel hostnames are global, like DNS: any account's tunnel routes any region's Workers.
            tunnelRoute: createTunnelRoutes(() => accounts.list().flatMap((a) => tunnels.list(a.id))),
            data: createDataControl({ accountId: account.id, d1, d1Pool, r2, queues, queued: () => dispatcher.poke() }),
          }),
        });
        runtimes.set(region, runtime);
        return {
          name: region,
          accountId: account.id,
          accountName: account.name,
          subdomain: account.subdomain,
          port: runtime.port,
          publicUrl: `http://localhost:${runtime.port}/`,
        } satisfies RegionInfo;
      }),
    );
    regionInfos = started;
  } catch (e) {
    await Promise.all([...runtimes.values()].map((r) => r.dispose().catch(() => {})));
    tails.close();
    server.close();
    d1Pool.closeAll();
    db.close();
    throw e;
  }
  await Promise.all(regionNames.map(pushRegion));
  // Messages queued before a restart are delivered now; crons fire from the next minute on.
  dispatcher.poke();
  if (opts.crons) crons.start();
  collector.start();

  const apiUrl = `http://127.0.0.1:${apiPort}/client/v4`;
  const adminUrl = `http://127.0.0.1:${apiPort}/__edge`;
  writePrivateFile(
    join(opts.dataDir, "edge.json"),
    JSON.stringify({ apiUrl, adminUrl, pid: process.pid, regions: regionInfos }, null, 2) + "\n",
  );
  recordWorkerd(opts.dataDir, workerdBefore);

  let closed = false;
  return {
    apiUrl,
    adminUrl,
    token,
    regions: regionInfos,
    region(name) {
      const r = regionInfos.find((x) => x.name === name);
      if (!r) throw new CboError("ERR_NOT_FOUND", `No region named "${name}" (regions: ${regionNames.join(", ")}).`);
      return r;
    },
    setFault: (region, fault) => setFault(region, fault),
    getFault: (region) => faults.get(region),
    apiRequestCount(accountId) {
      if (accountId !== undefined) return requestCounts.get(accountId) ?? 0;
      let n = 0;
      for (const v of requestCounts.values()) n += v;
      return n;
    },
    async close() {
      if (closed) return;
      closed = true;
      crons.stop();
      await dispatcher.stop();
      // What the routers counted since the last drain is kept, and tail clients see a clean end.
      await collector.stop();
      tails.close();
      // Let routing-table pushes in flight land before workerd goes away.
      await Promise.all([...pushChains.values()].map((p) => p.catch(() => {})));
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
      await Promise.all([...runtimes.values()].map((r) => r.dispose().catch(() => {})));
      forgetWorkerd(opts.dataDir);
      d1Pool.closeAll();
      db.close();
    },
  };
}
