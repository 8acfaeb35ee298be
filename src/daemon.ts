// The composition root: the one place that wires config, store, vault, audit log, Cloudflare
// clients, the release engine, the monitor and the API together. Nothing here runs at import
// time; `startDaemon` is called by `cbo up` / `cbo daemon` (and tests) with everything passed in.
//
// Start order: store -> master key -> vault, signing key, audit log (openSecurity) -> engine
// (recovery is audited) -> monitor -> first admin token (audited) -> API -> checkpoint timer ->
// backup schedule. close() stops them in reverse and signs a last checkpoint before the store closes.
import { existsSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { transaction } from "./kit/transaction.ts";
import { loadSpec, type ResolvedSpec } from "./config/load.ts";
import { resolveBackupSchedule, type BackupFlags, type BackupSchedule } from "./config/backup.ts";
import { ensurePrivateDir, tighten, writePrivateFile } from "./config/private-fs.ts";
import { createStore, type Store } from "./store/index.ts";
import { classifyStorageError } from "./store/storage-errors.ts";
import { refuseLostStore } from "./store/lost-store.ts";
import { refuseDataDirInUse } from "./store/in-use.ts";
import { listArchives } from "./backup/retention.ts";
import { refuseInterruptedRestore } from "./backup/interrupted-restore.ts";
import type { LocalEdge } from "./local-edge/types.ts";
import type { Engine } from "./deploy/types.ts";
import { buildTarget, buildTargets, createReadReuseRegistry, type TargetRuntime, type TargetSources } from "./targets/index.ts";
import { createBudgetRegistry, parseBudgetSetting } from "./cloudflare/index.ts";
import { CboError, isCboError } from "./kit/errors.ts";
import { createDriftChecker, createEngine, createEventMetrics, vaultSecretSource } from "./deploy/index.ts";
import { createMonitor } from "./monitor/index.ts";
import { specSource } from "./config/watch.ts";
import { createConfigSync, createHeartbeatSink, type ConfigSync, type HeartbeatSink } from "./sync/index.ts";
import type { MasterKey } from "./vault/index.ts";
import { completeKeyFileRotation } from "./vault/key-file-rotation.ts";
import { API_VERSION, createApi, parseAllowedHosts, startApiServer, type RateLimitOptions } from "./api/index.ts";
import { openSecurity, type DenialOptions, type OrchestratorKeyInfo, type Security } from "./security/index.ts";
import { configuredDaemonMasterKey, openDaemonMasterKey } from "./security/master-key.ts";
import type { DaemonAdmin } from "./api/types.ts";
import { assertPortsFree } from "./api/port-check.ts";
import { checkBind, createTunnelManager, PROCESS_STATES, type TunnelManager } from "./tunnel/index.ts";
import { createTelemetry, startMemoryReducer, type LogFormat, type LogLevel, type Telemetry } from "./telemetry/index.ts";
import { createFleetLogs, createSecretValues, type FleetLogs, type FleetLogsDeps } from "./fleet-logs/index.ts";
import { createFleetMetrics } from "./fleet-metrics/index.ts";

export type DaemonOptions = {
  dataDir: string;
  configFile: string;
  host?: string;
  /** Required (and warned about on every start) to listen on a host that is not loopback, e.g. 0.0.0.0. */
  allowPublic?: boolean;
  /** The cloudflared to supervise for the tunnel: a path, or false for none (it runs elsewhere); default CBO_CLOUDFLARED, else PATH. */
  cloudflared?: string | false;
  /** Restart backoff of the supervised cloudflared (default 1 s doubling to 60 s; a 60 s run resets it). */
  cloudflaredRestart?: { baseMs?: number; maxMs?: number; stableMs?: number };
  /** The URL Workers reach the orchestrator at (relay, heartbeats); default: where the API listens. */
  orchestratorUrl?: string;
  port?: number;
  /** The local edge (embedded, or a running `cbo edge`), required when a target has `api: local`. */
  edge?: Pick<LocalEdge, "apiUrl" | "token" | "regions">;
  /** Token for Cloudflare targets without their own (`api_token_secret`); default CLOUDFLARE_API_TOKEN from `env`. */
  cloudflareToken?: string;
  /** The account of a Cloudflare target without `account_id`; default CLOUDFLARE_ACCOUNT_ID from `env`. */
  cloudflareAccountId?: string;
  monitorIntervalMs?: number;
  /** Where the daemon's log lines go (default stderr), in `logFormat` at `logLevel` and up; `entry` lets a sink route them. */
  log?: (line: string, entry: { level: LogLevel; msg: string }) => void;
  /** text (default) or json lines; default CBO_LOG_FORMAT. */
  logFormat?: LogFormat;
  /** debug, info (default), warn or error; default CBO_LOG_LEVEL. */
  logLevel?: LogLevel;
  /**
   * The vault's master key. Without it, exactly one source is read: CBO_MASTER_KEY (env), a key
   * file (`masterKeyFile`, else CBO_MASTER_KEY_FILE), or `passphrase`. When none is configured,
   * `fallbackMasterKeyFile` is used, and created (0600) if missing: `cbo up`'s local convenience.
   * Without any, startDaemon fails with ERR_VALIDATION.
   */
  masterKey?: MasterKey;
  masterKeyFile?: string;
  passphrase?: string;
  fallbackMasterKeyFile?: string;
  /** Where CBO_MASTER_KEY, CBO_MASTER_KEY_FILE and CBO_ALLOWED_HOSTS are read (default process.env). */
  env?: Record<string, string | undefined>;
  /** Where signed audit checkpoints are shipped: a file (appended) or an http(s) URL (POSTed). Default <data>/audit-checkpoints.jsonl. */
  auditExport?: string;
  /** Checkpoint cadence (default every 1,000 entries or 60 s). */
  auditCheckpointEvery?: { entries?: number; ms?: number };
  /** Failed-authentication limit (default: 10 failures in 60 s lock the client or token prefix for 60 s). */
  authLimits?: RateLimitOptions;
  /**
   * More paths no Worker bundle may read (e.g. a separate local edge's data directory). The data
   * directory, the master key file(s) and the backup directory are always protected.
   */
  protectedPaths?: string[];
  /**
   * Host names the API answers besides loopback and the tunnel's hostnames (DNS-rebinding guard),
   * added to those in CBO_ALLOWED_HOSTS (comma-separated). A non-loopback `host` it listens on is
   * allowed as well.
   */
  allowedHosts?: string[];
  /** How refused requests are grouped and counted in the audit log (default: 10 in full per client and kind per 60 s, then counted). */
  denials?: DenialOptions;
  /** Retries of each Cloudflare API request (default 5, backoff 250 ms doubling to 20 s); tests holding a region out shorten the backoff. */
  cloudflareRetry?: TargetSources["retry"];
  /** Between attempts at a rollback that did not land (a region out, a full disk): default 1 s doubling to 30 s, jittered. */
  restoreBackoff?: { baseMs: number; maxMs: number };
  /**
   * Scheduled encrypted backups (src/backup) every `everyMs`, keeping the newest `keep` in `dir`
   * (default <data>/backups). Without it: orchestrator.yaml's `backup:` with `backupFlags` over it
   * key by key (src/config/backup.ts); neither: no schedule.
   */
  backup?: BackupSchedule;
  /** `cbo daemon --backup-every/--backup-keep/--backup-dir`, as given. */
  backupFlags?: BackupFlags;
  /** A full disk: room wanted beyond the WAL before writing again (default 8 MiB), and how often it is looked at (default 2 s). */
  storage?: { headroomBytes?: number; probeMs?: number };
  /** Fleet logs tuning (tests): how often orchestrator.yaml's `logs:` is looked at, tail sessions' backoff and renewal, shipping's backoff. */
  fleetLogs?: Pick<FleetLogsDeps, "reconcileMs" | "tail" | "shipBackoff">;
  /** The metrics page's series: how often Cloudflare's analytics are read at most (default 10 s). */
  metricsFreshMs?: number;
  /**
   * Give idle memory back to the OS (src/telemetry/memory-reducer.ts): the daemon's own process only
   * (`cbo daemon`, `cbo up`), never a process it shares, such as a test runner's. Default off.
   */
  reduceMemory?: boolean;
  /**
   * Cloudflare API requests each token may start per window (default CBO_CF_BUDGET from `env`,
   * else 960 per 5 minutes: 80% of Cloudflare's 1,200; src/cloudflare/budget.ts).
   */
  cloudflareBudget?: { limit?: number; windowMs?: number };
  /** How long plan, diff and status reuse a target's reads (ms; default 5 s; src/targets/read-reuse.ts). */
  reuseReadsMs?: number;
};

export type Daemon = {
  url: string;
  /** The spec in use (re-read when orchestrator.yaml changes; see config/watch.ts). */
  readonly spec: ResolvedSpec;
  store: Store;
  engine: Engine;
  /** The vault, the audit log and the orchestrator's signing key. */
  security: Security;
  /** Config publishing and the agents' heartbeats (flush() stores the buffered ones now). */
  configSync: ConfigSync;
  heartbeats: HeartbeatSink;
  /** The orchestrator's public key (also written to <data>/orchestrator-key.json). */
  orchestratorKey: OrchestratorKeyInfo;
  /** The master key in use (it prints as its id only; it changes when rotated online); backups are encrypted under it. */
  readonly masterKey: MasterKey;
  /** Where checkpoints are shipped (file path or URL). */
  auditExport: string;
  /** Set only on the first start: the admin token, to be shown once. */
  initialAdminToken?: string;
  adminTokenFile: string;
  /** The daemon's Cloudflare Tunnel and its cloudflared (src/tunnel). */
  tunnel: TunnelManager;
  /** Its logger, metrics registry (GET /metrics) and tracer. */
  telemetry: Telemetry;
  /** Fleet logs: tail sessions, the raw local copy, the redacted shipping (src/fleet-logs). */
  fleetLogs: FleetLogs;
  close(): Promise<void>;
};

export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const env = opts.env ?? process.env;
  // Logger, metrics and tracer first: everything below logs, counts and traces through them.
  const telemetry = await createTelemetry({ sink: opts.log, format: opts.logFormat, level: opts.logLevel, env, version: API_VERSION });
  const log = telemetry.log;
  // What must never show in a line, whatever a message interpolates.
  for (const v of [opts.cloudflareToken, env.CLOUDFLARE_API_TOKEN, env.CBO_MASTER_KEY, opts.passphrase])
    if (v) telemetry.redactor.register(v);
  // Loopback only unless told otherwise: refused before anything is opened.
  const bind = checkBind(opts.host ?? "127.0.0.1", opts.allowPublic === true);
  if (bind.warning) log.warn(bind.warning);
  const dataDir = resolve(opts.dataDir);
  // Before anything is written (the data directory, a master key file, the database): a daemon
  // already serving this data directory, or a busy port, leaves it as it was.
  await refuseDataDirInUse(dataDir);
  await assertPortsFree(opts.host ?? "127.0.0.1", [{ port: opts.port ?? 0, what: "the daemon's API", flag: "--port" }]);
  const spec = loadSpec(opts.configFile);
  const { metrics } = telemetry;
  const targetSources = {
    edge: opts.edge,
    cloudflareToken: opts.cloudflareToken ?? (env.CLOUDFLARE_API_TOKEN || undefined),
    defaultAccountId: opts.cloudflareAccountId ?? (env.CLOUDFLARE_ACCOUNT_ID || undefined),
    // Every target's Cloudflare requests are counted (GET /metrics).
    metrics,
    // One budget per token: the process-wide one, unless this daemon is given its own limits.
    budgets: budgetRegistry(opts.cloudflareBudget, env.CBO_CF_BUDGET),
    // Reads that plan, diff and status share for a few seconds, dropped on any write to the target.
    reuse: createReadReuseRegistry(opts.reuseReadsMs === undefined ? {} : { ttlMs: opts.reuseReadsMs }),
    retry: opts.cloudflareRetry,
  };
  // Checked now, before anything is opened; a target with its own token (`api_token_secret`) gets
  // it once the vault is open (readTargetTokens below).
  const targets = buildTargets(spec.targets, { ...targetSources, targetToken: () => undefined });
  // The vault, token hashes and the audit log live here: 0700 (an older, wider one is tightened).
  // Made once the spec and its targets are known good: a start refused above leaves no directory.
  if (ensurePrivateDir(dataDir)) log.warn(`cbo: ${dataDir} was open to other users; it is 0700 now`);
  // Workers and config follow edits of orchestrator.yaml (config/watch.ts); targets need a restart.
  // Each reload also reads the targets' own tokens from the vault again (a rotated token).
  const loadedSpec = specSource(opts.configFile, spec, log);
  let seenSpec = spec;
  let readTargetTokens: (() => void) | undefined;
  const currentSpec = () => {
    const s = loadedSpec();
    if (s !== seenSpec) {
      seenSpec = s;
      readTargetTokens?.();
    }
    return s;
  };
  const dbFile = join(dataDir, "orchestrator.sqlite");
  const auditExport = opts.auditExport ?? join(dataDir, "audit-checkpoints.jsonl");
  // The backup schedule: an explicit one, else the flags over orchestrator.yaml's `backup:`.
  const schedule = opts.backup ?? resolveBackupSchedule(spec.backup, opts.backupFlags);
  const backupDir = schedule?.dir ?? join(dataDir, "backups");
  // Nor a start on what a stopped `cbo restore` left: files never verified (backup/interrupted-restore.ts).
  refuseInterruptedRestore(dataDir);
  // Never a silent reset: a lost database in a directory that held one is refused (store/lost-store.ts).
  // The master key file is not a trace: `cbo init` and deployment kits create it before the first start.
  refuseLostStore({
    file: dbFile,
    traces: ["admin-token", "daemon.json", "orchestrator-key.json", "audit-checkpoints.jsonl", "tunnel", "backups"]
      .map((f) => join(dataDir, f))
      .concat(/^https?:\/\//i.test(auditExport) ? [] : [auditExport]),
    newestBackup: listArchives(backupDir).at(-1),
    checkpointFile: /^https?:\/\//i.test(auditExport) ? undefined : auditExport,
  });
  const store = createStore(dbFile, { check: true, storage: { log, ...opts.storage } });
  let security: Security | undefined;
  let fleetLogsOpen: FleetLogs | undefined;
  try {
    // A WAL that a full disk kept from its checkpoint is folded in first, or the room it needs named.
    store.storage.settle();
    // Which master key opens the vault is decided in one place (src/security/master-key.ts).
    const keyConfig = {
      env: opts.env ?? process.env,
      key: opts.masterKey,
      keyFile: opts.masterKeyFile,
      passphrase: opts.passphrase,
      fallbackKeyFile: opts.fallbackMasterKeyFile,
    };
    const configured = configuredDaemonMasterKey(keyConfig);
    const keyFile = configured.kind === "file" ? configured.file : undefined;
    // A rotation interrupted between its commit and its rename is finished before the key is read.
    if (keyFile) completeKeyFileRotation(keyFile, store.db, log);
    let masterKey = openDaemonMasterKey(keyConfig, store.db, log);
    const startedAt = Date.now();
    // Signed checkpoints are public, but the file is 0600 like the rest: one an older version left 0644 is tightened.
    if (opts.auditExport === undefined && existsSync(auditExport)) tighten(auditExport, 0o600);
    const sec = (security = await openSecurity({
      db: store.db,
      storage: store.storage,
      masterKey,
      log,
      metrics,
      redactor: telemetry.redactor,
      checkpointExport: auditExport,
      ...(opts.auditCheckpointEvery ? { checkpointEvery: opts.auditCheckpointEvery } : {}),
      ...(opts.denials ? { denials: opts.denials } : {}),
    }));
    // Offline verifiers (cbo audit verify) find the public key beside the data; it is public.
    writePrivateFile(join(dataDir, "orchestrator-key.json"), JSON.stringify(sec.orchestratorKey, null, 2) + "\n");
    // Before the engine recovers anything: its lifecycle events go into the audit log too.
    const unfollow = sec.followEngine(store.events);
    // Releases, gates, rollbacks, steps, drift and publishes are counted off the same events.
    const uncount = store.events.subscribe(createEventMetrics(metrics));

    // Targets with their own Cloudflare token: read from the vault (each read on the audit record,
    // the value never logged), and the target rebuilt when it changed.
    const tokenHashes = new Map<string, string>();
    readTargetTokens = () => {
      for (const t of spec.targets) {
        if (!t.api_token_secret) continue;
        let token: string | undefined;
        try {
          token = sec.vault.getText(t.api_token_secret, { tenant: spec.tenant, purpose: "cloudflare", by: "daemon" }).value;
        } catch (e) {
          const why = isCboError(e) ? e.code : "an error";
          log.warn(
            `targets: ${t.name}'s Cloudflare token (vault secret ${t.api_token_secret}) is not readable (${why}); its calls are refused until it is set`,
          );
        }
        const digest = token === undefined ? "" : sec.vault.keyedHash(token);
        if (tokenHashes.get(t.name) === digest) continue;
        tokenHashes.set(t.name, digest);
        targets.set(t.name, buildTarget(t, { ...targetSources, targetToken: () => token }));
      }
    };
    readTargetTokens();

    for (const t of spec.targets) {
      store.catalog.upsertTarget({
        tenant: spec.tenant,
        name: t.name,
        api: t.api,
        account_id: targets.get(t.name)!.accountId,
        region: t.api === "local" ? (t.region ?? t.name) : null,
        jurisdiction: t.jurisdiction ?? null,
        kv_namespace: t.kv_namespace ?? null,
      });
    }
    for (const w of spec.workers) store.catalog.upsertWorker(spec.tenant, w.name, { ...w });

    // The agents' heartbeats, stored in batches; gates read a canary's own traffic from them.
    const heartbeats = createHeartbeatSink({ store, log });
    // Known once the server listens; Workers get it with their relay secrets (a tunnel URL later).
    let listening: string | undefined;
    // Cloudflare Tunnel: once created, Workers reach the daemon at its public hostname (the local
    // edge routes it like Cloudflare would); cloudflared is supervised when it is installed.
    const tunnel = createTunnelManager({
      dataDir,
      log,
      env: opts.env ?? process.env,
      accounts: () =>
        spec.targets.map((t) => ({
          target: t.name,
          accountId: targets.get(t.name)!.accountId,
          client: targets.get(t.name)!.client,
          local: t.api === "local",
        })),
      ...(opts.cloudflared === undefined ? {} : { cloudflared: opts.cloudflared }),
      ...(opts.cloudflaredRestart ? { restartPolicy: opts.cloudflaredRestart } : {}),
    });
    const engine = createEngine({
      store,
      spec: currentSpec,
      targets: () => targets,
      log,
      tracer: telemetry.tracer,
      protectedPaths: protectedPaths(opts, dataDir, backupDir),
      ...(opts.restoreBackoff ? { restoreBackoff: opts.restoreBackoff } : {}),
      secrets: vaultSecretSource(sec.vault, sec.workerKeys),
      orchestratorUrl: () => opts.orchestratorUrl ?? tunnel.workersUrl() ?? listening,
      publicKey: () => sec.orchestratorKey.publicKey,
      agentTraffic: (tenant, worker, target, versionId, sinceMs) => {
        heartbeats.flush();
        return store.agents.traffic(tenant, worker, versionId, sinceMs, target);
      },
    });
    await engine.recover();
    const monitor = createMonitor({
      store,
      spec: currentSpec,
      targets: () => targets,
      intervalMs: opts.monitorIntervalMs ?? 1000,
      log,
      metrics,
    });
    // Drift: the store's desired versions against what the edge runs, on the monitor's interval
    // (drift.* events reach the audit log through followEngine above).
    const drift = createDriftChecker({
      store,
      spec: currentSpec,
      targets: () => targets,
      intervalMs: opts.monitorIntervalMs ?? 1000,
      log,
      // Config drift: a target whose agents have not reported running the latest published version.
      configVersions: (worker, target) => {
        const desired = store.configs.latest(spec.tenant, worker)?.version;
        const given = store.configs.targets(spec.tenant, worker).find((x) => x.target === target);
        return {
          ...(desired ? { desired } : {}),
          ...(given?.applied_at && given.version === desired ? { applied: given.version } : {}),
          written: given?.version ?? null,
        };
      },
    });

    const adminTokenFile = join(dataDir, "admin-token");
    // First start: one admin token, shown once by the caller and kept in a 0600 file for the CLI.
    let initialAdminToken: string | undefined;
    if (store.tokens.count() === 0) {
      initialAdminToken = transaction(store.db, () => {
        const { token, row } = store.tokens.create({ name: "initial admin", role: "admin" });
        sec.trail.record({
          actor: "daemon",
          action: "token.create",
          target: `token:${row.id}`,
          tenant: spec.tenant,
          outcome: "ok",
          details: { name: row.name, role: row.role, scope: null, expiresAt: null },
        });
        // Written before the transaction commits: a token that never reached its file (a full disk,
        // a kill -9 here) is not kept, so the next start issues one again instead of none ever.
        writeAdminTokenFile(adminTokenFile, token);
        return token;
      });
    }

    // Config sync (signed bundles to each target's KV); the agents' heartbeats are above.
    const configSync = createConfigSync({
      store,
      spec: currentSpec,
      targets: () => targets,
      log,
      signer: { privateKey: sec.signingKey, keyId: sec.orchestratorKey.keyId },
      workerKeys: (tenant, worker, target) => sec.workerKeys.verifying({ tenant, worker, target }, "config-sync").map((k) => k.key),
      audit: (e) =>
        sec.trail.record({
          actor: e.by,
          action: e.rollbackOf === null ? "config.publish" : "config.rollback",
          target: `worker:${e.worker}`,
          tenant: spec.tenant,
          outcome: "ok",
          // The changed values per target (config is not secret: see sync/config-changes.ts).
          details: {
            version: e.version,
            hash: e.hash,
            rollbackOf: e.rollbackOf,
            targets: e.targets,
            changes: e.changes,
            ...(e.moreChanges ? { moreChanges: e.moreChanges } : {}),
          },
        }),
    });
    // What the vault and backup routes need of the daemon: the master key (it follows an online
    // rotation, and backups are sealed with the one in use) and a backup on request.
    const admin: DaemonAdmin = {
      masterKey: () => masterKey,
      ...(keyFile && masterKey.source === "file" && !opts.masterKey ? { masterKeyFile: keyFile } : {}),
      masterKeyRotated: (next) => void (masterKey = next),
      async backup(o, written) {
        // Loaded on first use, like the schedule: an idle daemon does not pay for it.
        const { backupNow, DEFAULT_BACKUP_DIR } = await import("./backup/index.ts");
        const { checkArchivePlace } = await import("./backup/paths.ts");
        // Only where the daemon keeps its own things (its backup directory, or its user's), before anything is created.
        checkArchivePlace({ ...o, dataDir, backupDir: schedule?.dir ?? join(dataDir, DEFAULT_BACKUP_DIR) });
        const dir = o.dir ?? schedule?.dir;
        // A signed checkpoint at the archive's head, in the archive and in the checkpoint file.
        return backupNow({
          dataDir,
          db: store.db,
          masterKey,
          checkpoint: () => sec.audit.checkpoint(),
          ...(o.out ? { out: o.out } : {}),
          ...(dir ? { dir } : {}),
          ...(o.keep ? { keep: o.keep } : {}),
          written,
        });
      },
    };
    // Fleet logs (tail sessions, the raw local copy, redacted shipping) and the metrics page's series.
    const fleetLogs = createFleetLogs({
      dataDir,
      spec: currentSpec,
      targets: () => targets,
      secrets: createSecretValues({ vault: sec.vault, workerKeys: sec.workerKeys, spec: currentSpec, log }),
      log,
      ...opts.fleetLogs,
    });
    fleetLogsOpen = fleetLogs;
    const fleetMetrics = createFleetMetrics({
      spec: currentSpec,
      targets: () => targets,
      agentMinutes: (tenant, sinceSec) => {
        heartbeats.flush();
        return store.agents.minutes(tenant, sinceSec);
      },
      log,
      ...(opts.metricsFreshMs !== undefined ? { freshMs: opts.metricsFreshMs } : {}),
    });
    const listenHost = opts.host ?? "127.0.0.1";
    const allowedHosts = [
      ...parseAllowedHosts(env.CBO_ALLOWED_HOSTS),
      ...(opts.allowedHosts ?? []),
      ...(["0.0.0.0", "::", "[::]"].includes(listenHost) ? [] : [listenHost]),
    ];
    const api = createApi({
      admin,
      store,
      engine,
      monitor,
      security: sec,
      spec: currentSpec,
      specRefusal: () => (currentSpec(), loadedSpec.refusal()),
      refreshSpec: () => {
        loadedSpec.fresh();
        currentSpec();
      },
      targets: () => targets,
      ...(opts.reuseReadsMs === undefined ? {} : { reuseReadsMs: opts.reuseReadsMs }),
      log,
      metrics,
      tracer: telemetry.tracer,
      configSync,
      heartbeats,
      tunnel,
      daemonUrl: () => listening,
      ...(opts.edge ? { edgeApiUrl: opts.edge.apiUrl } : {}),
      protectedPaths: protectedPaths(opts, dataDir, backupDir),
      allowedHosts,
      fleetLogs,
      fleetMetrics,
      ...(opts.authLimits ? { authLimits: opts.authLimits } : {}),
    });
    const server = await startApiServer({
      api,
      host: opts.host ?? "127.0.0.1",
      port: opts.port ?? 0,
      allowPublic: opts.allowPublic === true,
    });
    listening = server.url;
    // On the record before anyone is told where the daemon listens: a daemon whose start cannot be
    // recorded does not serve (the audit path fails closed).
    try {
      sec.trail.record({
        actor: "daemon",
        action: "daemon.start",
        target: "daemon",
        tenant: spec.tenant,
        outcome: "ok",
        details: { version: API_VERSION, url: server.url, pid: process.pid, masterKeyId: masterKey.id },
      });
    } catch (e) {
      await server.close();
      throw e;
    }
    collectDaemonMetrics(telemetry, { targets, audit: sec.audit, tunnel });
    // `config`: the spec it reads, so that a CLI finding this daemon gone says how to start it again on it (cli/daemon-gone.ts).
    writePrivateFile(
      join(dataDir, "daemon.json"),
      JSON.stringify({ url: server.url, pid: process.pid, config: resolve(opts.configFile) }, null, 2) + "\n",
    );
    monitor.start();
    await tunnel.start(server.url);
    drift.start();
    sec.start();
    // A publish cut off by a kill (or a write that failed) left some targets on an older config
    // version: the latest is written to them again now, in the background (a target that does not
    // answer must not hold up the start), as a recovery of the publish, whatever the drift policy.
    const resumingConfig = configSync
      .resumeLagging()
      .catch((e: unknown) => log.error(`config: could not finish an earlier publish: ${e instanceof Error ? e.message : String(e)}`));
    const memory = opts.reduceMemory
      ? startMemoryReducer({
          log,
          busy: () => store.releases.unfinished().length > 0,
          onReduced: (r) => telemetry.metrics.memoryReductions.inc({ reason: r.reason }),
        })
      : undefined;
    const backups = schedule
      ? // Loaded only when a schedule is configured: an idle daemon without one does not pay for it.
        (await import("./backup/index.ts")).startBackupSchedule({
          dataDir,
          db: store.db,
          masterKey: () => masterKey,
          every: schedule.everyMs,
          keep: schedule.keep,
          log,
          ...(schedule.dir ? { dir: schedule.dir } : {}),
          checkpoint: () => sec.audit.checkpoint(),
          paused: () => store.storage.paused(),
          onBackup: (b) =>
            sec.trail.note({
              actor: "daemon",
              action: "backup.create",
              target: `backup:${basename(b.file)}`,
              tenant: spec.tenant,
              outcome: "ok",
              details: {
                bytes: b.bytes,
                masterKeyId: b.masterKeyId,
                entries: b.audit.entries,
                checkpoints: b.audit.checkpoints,
                pruned: b.removed.length,
              },
            }),
          onError: (e) =>
            sec.trail.note({
              actor: "daemon",
              action: "backup.create",
              target: null,
              tenant: spec.tenant,
              outcome: "error",
              details: { code: e.code },
            }),
        })
      : undefined;

    let closed = false;
    return {
      url: server.url,
      get spec() {
        return currentSpec();
      },
      store,
      engine,
      security: sec,
      configSync,
      heartbeats,
      orchestratorKey: sec.orchestratorKey,
      get masterKey() {
        return masterKey;
      },
      auditExport,
      adminTokenFile,
      tunnel,
      telemetry,
      fleetLogs,
      ...(initialAdminToken ? { initialAdminToken } : {}),
      async close() {
        if (closed) return;
        closed = true;
        memory?.stop();
        await backups?.stop();
        await monitor.stop();
        await drift.stop();
        await resumingConfig;
        await engine.close();
        await server.close();
        await fleetLogs.close();
        await tunnel.stop();
        heartbeats.close();
        unfollow();
        uncount();
        // Best effort: stopping cannot be refused; the last checkpoint below covers this entry.
        sec.trail.note({
          actor: "daemon",
          action: "daemon.stop",
          target: "daemon",
          tenant: spec.tenant,
          outcome: "ok",
          details: { version: API_VERSION, url: server.url, pid: process.pid, uptimeS: Math.round((Date.now() - startedAt) / 1000) },
        });
        // A last signed checkpoint over everything recorded, shipped like the others.
        await sec.stop().catch((e: unknown) => log.error(`audit: last checkpoint failed: ${e instanceof Error ? e.message : String(e)}`));
        store.close();
        await telemetry.close();
      },
    };
  } catch (e) {
    await fleetLogsOpen?.close().catch(() => {});
    await security?.stop({ checkpoint: false }).catch(() => {});
    // A full disk or a damaged file met on the way is named as such, not as the write it broke.
    const named = store.storage.name(e);
    store.close();
    throw named;
  }
}

/** What no Worker bundle may read (src/deploy/confine.ts): the daemon's own files and keys. */
function protectedPaths(opts: DaemonOptions, dataDir: string, backupDir: string): string[] {
  const env = opts.env ?? process.env;
  const files = [
    opts.masterKeyFile,
    env.CBO_MASTER_KEY_FILE || undefined,
    opts.fallbackMasterKeyFile,
    backupDir,
    ...(opts.protectedPaths ?? []),
  ];
  return [dataDir, ...files.filter((f): f is string => f !== undefined).map((f) => resolve(f))];
}

/** Gauges read at each scrape from the state they mirror: budgets, the newest checkpoint, the tunnel. */
function collectDaemonMetrics(
  telemetry: Telemetry,
  o: {
    targets: Map<string, TargetRuntime>;
    audit: Security["audit"];
    tunnel: TunnelManager;
  },
): void {
  const m = telemetry.metrics;
  m.registry.collect(() => {
    // One budget per token; targets on one account share it.
    for (const t of o.targets.values()) {
      const b = t.client.budget.stats();
      m.budgetRemaining.set({ account: t.accountId }, Math.max(0, b.limit - b.inWindow));
      m.budgetQueued.set({ account: t.accountId }, b.queued);
    }
  });
  m.registry.collect(() => {
    const at = o.audit.lastCheckpointAt();
    m.checkpointAge.set(at === undefined ? -1 : Math.max(0, (Date.now() - Date.parse(at)) / 1000));
    m.auditEntries.set(o.audit.head().seq);
  });
  m.registry.collect(() => {
    const h = o.tunnel.health();
    m.tunnelRestarts.set(h.restarts);
    m.tunnelState.reset();
    for (const state of PROCESS_STATES) m.tunnelState.set({ state }, state === h.process ? 1 : 0);
  });
}

function budgetRegistry(given: DaemonOptions["cloudflareBudget"], setting: string | undefined) {
  if (given) return createBudgetRegistry(given);
  return setting ? createBudgetRegistry(parseBudgetSetting(setting)) : undefined;
}

/** The first start's admin token, whole in its 0600 file; a failed write named (ERR_DISK_FULL, else ERR_IO). */
function writeAdminTokenFile(file: string, token: string): void {
  try {
    writePrivateFile(file, token + "\n");
  } catch (e) {
    throw (
      classifyStorageError(e, { path: file, neededBytes: 64 * 1024 }) ??
      new CboError("ERR_IO", `The admin token file ${file} could not be written (${(e as Error).message}); no token was kept.`, {
        details: { path: file },
        hint: "Check the data directory's disk and permissions, then start the daemon again: it issues the admin token then.",
        cause: e,
      })
    );
  }
}
