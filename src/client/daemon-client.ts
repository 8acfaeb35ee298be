// The one daemon client: every route of the daemon's REST API as a typed call, validated with the
// contract's schemas, plus its event stream. The CLI, the MCP server, `cbo up` and the dashboard
// all talk to the daemon through it (each with its own token, or the dashboard's session), so a
// route, its shape and its errors are handled once. Browser-safe: fetch and an injected socket.
import * as z from "zod";
import {
  AnyEventPageSchema,
  AuditCheckpointSchema,
  AuditPageSchema,
  AuditVerifySchema,
  BackupSchema,
  ConfigDiffSchema,
  ConfigHistorySchema,
  ConfigPublishSchema,
  ControlResultSchema,
  ReleaseAnalysisSchema,
  ReleaseControlSchema,
  CreatedTokenSchema,
  DaemonHealthSchema,
  DeliverySchema,
  HealthRowSchema,
  KeyRotationSchema,
  LogLineSchema,
  LogsStatusSchema,
  MetricsSeriesSchema,
  MasterKeyRotationSchema,
  OrchestratorKeySchema,
  ReleaseDetailSchema,
  ReleasePageSchema,
  ReleasePlanSchema,
  WorkerDiffSchema,
  ReleaseSchema,
  RollbackPreviewSchema,
  D1RestorePreviewSchema,
  D1RestoreResultSchema,
  SecretDeletedSchema,
  SecretDestroyedSchema,
  SecretSchema,
  SecretUndeletedSchema,
  SecretValueSchema,
  SecretVersionSchema,
  withOlderCreatedBy,
  SecretWrittenSchema,
  SetupSchema,
  SetupStepRunSchema,
  StatusSchema,
  TargetSummarySchema,
  TokenRevokedSchema,
  TokenSchema,
  TunnelConfigSchema,
  TunnelCreatedSchema,
  TunnelStatusSchema,
  VersionPageSchema,
  WorkerKeySchema,
  WorkerSummarySchema,
  type ApplyTunnelConfigBody,
  type AuditQuery,
  type BackupBody,
  type CreateTokenBody,
  type CreateTunnelBody,
  type KitOverrides,
  type LogsQuery,
  type LogStreamQuery,
  type MetricsSeriesQuery,
  type PutSecretBody,
  type SetupStepId,
} from "../contract/index.ts";
import { connectEvents, followEvents, streamEvents, type EventHandlers, type FollowOptions } from "./event-stream.ts";
import { connectLogs, followLogs, type FollowLogsOptions, type LogHandlers } from "./log-stream.ts";
import { globalSocket, type OpenSocket, type StreamSource } from "./stream-socket.ts";
import { pages } from "./pages.ts";
import { newTraceparent, query, readAnswer, requestJson, requestRaw, type Connection } from "./request.ts";

export type DaemonClientOptions = Connection & {
  /** How the event stream's socket is opened (default: the global WebSocket, authenticated by the session cookie). */
  socket?: OpenSocket | undefined;
  /** The hint when the daemon refuses the stream's token or role. */
  refusedHint?: string | undefined;
  /**
   * What this client's Idempotency-Keys start with: one invocation (a CLI command, an MCP tool
   * call) = one client = one random prefix; each mutation it sends gets `<prefix>.<n>`, the same on
   * that mutation's retries. Default: a random UUID.
   */
  idempotencyPrefix?: string | undefined;
};

type EventsQuery = { after?: number; release?: string; limit?: number; order?: "asc" | "desc" };

/** A backup of a large store takes a while: its request waits this long at least. */
const BACKUP_TIMEOUT_MS = 30 * 60_000;

export function createDaemonClient(opts: DaemonClientOptions) {
  // One trace per client unless told otherwise: the CLI makes one client per command.
  const conn: Connection = { ...opts, url: opts.url.replace(/\/+$/, ""), traceparent: opts.traceparent ?? newTraceparent() };
  const get = <S extends z.ZodType>(path: string, schema: S) => requestJson(conn, "GET", path, schema);
  // Every mutation carries its own Idempotency-Key, so a retry of it (request.ts) never does it twice.
  const prefix = opts.idempotencyPrefix ?? globalThis.crypto.randomUUID();
  let sent = 0;
  const nextKey = () => `${prefix}.${++sent}`;
  const send = <S extends z.ZodType>(method: "POST" | "PUT" | "DELETE", path: string, schema: S, body?: unknown) =>
    requestJson(conn, method, path, schema, body, { idempotencyKey: nextKey() });
  const enc = encodeURIComponent;
  const worker = (name: string) => `/v1/workers/${enc(name)}`;
  const secret = (name: string) => `/v1/secrets/${enc(name)}`;
  const stream: StreamSource = { ...conn, socket: opts.socket ?? globalSocket, refusedHint: opts.refusedHint };

  return {
    url: conn.url,
    token: conn.token,
    /**
     * The same client acting through `via` (`x-cbo-via`, e.g. `mcp:release`): a detail of its audit
     * entries. A new invocation (an MCP tool call): its own Idempotency-Key prefix.
     */
    via: (via: string) => createDaemonClient({ ...opts, via, idempotencyPrefix: undefined }),

    // --- the daemon and its fleet ---------------------------------------------------------------
    health: () => get("/v1/health", DaemonHealthSchema),
    status: () => get("/v1/status", StatusSchema),
    targets: () => get("/v1/targets", z.array(TargetSummarySchema)),
    workers: () => get("/v1/workers", z.array(WorkerSummarySchema)),
    /** One page of a worker's versions, newest first; versionPages() walks them all. */
    versions: (name: string, q: { limit?: number; cursor?: string } = {}) => get(`${worker(name)}/versions${query(q)}`, VersionPageSchema),
    versionPages: (name: string, q: { limit?: number } = {}) =>
      pages((cursor) => get(`${worker(name)}/versions${query({ ...q, cursor })}`, VersionPageSchema)),
    plan: (name: string) => get(`${worker(name)}/plan`, ReleasePlanSchema),
    diff: (name: string) => get(`${worker(name)}/diff`, WorkerDiffSchema),
    healthRows: (q: { fresh?: boolean } = {}) =>
      get(`/v1/health/workers${query({ fresh: q.fresh ? "1" : undefined })}`, z.array(HealthRowSchema)),

    // --- releases -----------------------------------------------------------------------------
    /**
     * `force`: release even when nothing would change; `overrideWindow`: outside orchestrator.yaml's
     * `windows`, with a reason (audited); `allow_non_gradual` / `confirm_class_deletion`: the opt-ins a
     * Durable Object migration needs.
     */
    release: (
      name: string,
      opts: { force?: boolean; overrideWindow?: { reason: string }; allow_non_gradual?: boolean; confirm_class_deletion?: boolean } = {},
    ) =>
      send("POST", "/v1/releases", ReleaseSchema, {
        worker: name,
        ...(opts.force ? { force: true } : {}),
        ...(opts.overrideWindow ? { overrideWindow: opts.overrideWindow } : {}),
        ...(opts.allow_non_gradual !== undefined ? { allow_non_gradual: opts.allow_non_gradual } : {}),
        ...(opts.confirm_class_deletion !== undefined ? { confirm_class_deletion: opts.confirm_class_deletion } : {}),
      }),
    /** One page of releases, newest first; releasePages() walks them all. */
    releases: (q: { worker?: string; limit?: number; cursor?: string } = {}) => get(`/v1/releases${query(q)}`, ReleasePageSchema),
    releasePages: (q: { worker?: string; limit?: number } = {}) =>
      pages((cursor) => get(`/v1/releases${query({ ...q, cursor })}`, ReleasePageSchema)),
    getRelease: (id: string) => get(`/v1/releases/${enc(id)}`, ReleaseDetailSchema),
    abortRelease: (id: string, reason?: string) =>
      send("POST", `/v1/releases/${enc(id)}/abort`, ReleaseSchema, reason === undefined ? {} : { reason }),
    pauseRelease: (id: string, reason?: string) =>
      send("POST", `/v1/releases/${enc(id)}/pause`, ControlResultSchema, reason === undefined ? {} : { reason }),
    resumeRelease: (id: string, reason?: string) =>
      send("POST", `/v1/releases/${enc(id)}/resume`, ControlResultSchema, reason === undefined ? {} : { reason }),
    promoteRelease: (id: string, reason?: string) =>
      send("POST", `/v1/releases/${enc(id)}/promote`, ControlResultSchema, reason === undefined ? {} : { reason }),
    releaseControl: (id: string) => get(`/v1/releases/${enc(id)}/control`, ReleaseControlSchema),
    /** The canary analysis of every step (the dashboard's release chart). */
    releaseAnalysis: (id: string) => get(`/v1/releases/${enc(id)}/analysis`, ReleaseAnalysisSchema),
    rollback: (name: string, to?: string, opts: { confirm_secret_downgrade?: boolean; force?: boolean } = {}) =>
      send("POST", `${worker(name)}/rollback`, ReleaseSchema, { ...(to === undefined ? {} : { to }), ...opts }),
    /** What `cbo d1 restore` would do: the bookmark, when it was taken, the minutes of writes lost. */
    d1RestorePreview: (q: { binding: string; target: string; release: string; worker?: string }) =>
      get(`/v1/d1/restore${query(q)}`, D1RestorePreviewSchema),
    d1Restore: (body: { binding: string; target: string; release: string; worker?: string; confirm: boolean }) =>
      send("POST", "/v1/d1/restore", D1RestoreResultSchema, body),
    /** What a rollback would do per target (code, secrets, config, schema) and the confirmations it needs. */
    rollbackPreview: (name: string, to?: string) => get(`${worker(name)}/rollback/preview${query({ to })}`, RollbackPreviewSchema),

    // --- events -------------------------------------------------------------------------------
    /**
     * One page of events of any type (a daemon newer than this client may send new ones: narrow with
     * eventOf()), oldest first or, with order "desc", newest first; eventPages() walks them all.
     */
    events: (q: EventsQuery & { cursor?: string } = {}) => get(`/v1/events${query(q)}`, AnyEventPageSchema),
    eventPages: (q: EventsQuery = {}) => pages((cursor) => get(`/v1/events${query({ ...q, cursor })}`, AnyEventPageSchema)),
    /** One connection to the event stream from `after` (the dashboard's, with its own reconnects). */
    connectEvents: (after: number, on: EventHandlers) => connectEvents(stream, after, on),
    /** One connection as an async iterator. */
    streamEvents: (after: number, o: { signal?: AbortSignal; onOpen?: () => void } = {}) => streamEvents(stream, after, o),
    /** Every event after `after`, across reconnections, until `signal` aborts. */
    followEvents: (after: number, o: FollowOptions = {}) => followEvents(stream, after, o),

    // --- fleet logs and metrics ------------------------------------------------------------------
    /** Kept log lines, oldest first (the newest `limit`). */
    logs: (q: LogsQuery = {}) => get(`/v1/logs${query(q as Record<string, string | number | undefined>)}`, z.array(LogLineSchema)),
    logsStatus: () => get("/v1/logs/status", LogsStatusSchema),
    /** One connection to the live log stream. */
    connectLogs: (filter: LogStreamQuery, on: LogHandlers) => connectLogs(stream, filter, on),
    /** Live log lines across reconnections, until `signal` aborts. */
    followLogs: (filter: LogStreamQuery, o: FollowLogsOptions = {}) => followLogs(stream, filter, o),
    metricsSeries: (q: MetricsSeriesQuery = {}) =>
      get(`/v1/metrics/series${query(q as Record<string, string | number | undefined>)}`, MetricsSeriesSchema),

    // --- secrets ------------------------------------------------------------------------------
    listSecrets: () => get("/v1/secrets", z.array(SecretSchema)),
    secretVersions: (name: string) => get(`${secret(name)}/versions`, z.array(withOlderCreatedBy(SecretVersionSchema))),
    putSecret: (name: string, body: PutSecretBody) => send("PUT", secret(name), SecretWrittenSchema, body),
    getSecret: (name: string, version?: number) => get(`${secret(name)}/value${query({ version })}`, SecretValueSchema),
    rollbackSecret: (name: string, to: number, cas?: number) =>
      send("POST", `${secret(name)}/rollback`, SecretWrittenSchema, { to, ...(cas === undefined ? {} : { cas }) }),
    deleteSecret: (name: string, cas?: number) => send("DELETE", `${secret(name)}${query({ cas })}`, SecretDeletedSchema),
    undeleteSecret: (name: string) => send("POST", `${secret(name)}/undelete`, SecretUndeletedSchema, {}),
    destroySecret: (name: string, versions?: number[]) =>
      send("POST", `${secret(name)}/destroy`, SecretDestroyedSchema, versions === undefined ? {} : { versions }),
    deliverSecret: (name: string) => send("POST", `${secret(name)}/deliver`, DeliverySchema, {}),

    // --- tokens, keys, the vault, backups -------------------------------------------------------
    listTokens: () => get("/v1/tokens", z.array(TokenSchema)),
    createToken: (body: CreateTokenBody) => send("POST", "/v1/tokens", CreatedTokenSchema, body),
    revokeToken: (id: string) => send("DELETE", `/v1/tokens/${enc(id)}`, TokenRevokedSchema),
    listWorkerKeys: () => get("/v1/keys/workers", z.array(WorkerKeySchema)),
    rotateWorkerKey: (name: string, body: { target?: string; release: boolean }) =>
      send("POST", `/v1/keys/workers/${enc(name)}/rotate`, KeyRotationSchema, body),
    rotateMasterKey: () => send("POST", "/v1/vault/rotate-master-key", MasterKeyRotationSchema, {}),
    /** Paths are on the daemon's host. */
    createBackup: (body: BackupBody) =>
      requestJson({ ...conn, timeoutMs: Math.max(conn.timeoutMs ?? 0, BACKUP_TIMEOUT_MS) }, "POST", "/v1/backups", BackupSchema, body, {
        idempotencyKey: nextKey(),
      }),

    // --- the audit log ------------------------------------------------------------------------
    /** One page of matching entries, newest first, as the daemon answers; auditPages() walks them all. */
    audit: (q: AuditQuery = {}) => get(`/v1/audit${query(q as Record<string, string | number | undefined>)}`, AuditPageSchema),
    auditPages: (q: Omit<AuditQuery, "cursor"> = {}) =>
      pages((cursor) => get(`/v1/audit${query({ ...(q as Record<string, string | number | undefined>), cursor })}`, AuditPageSchema)),
    auditCheckpoints: () => get("/v1/audit/checkpoints", z.array(AuditCheckpointSchema)),
    verifyAudit: () => send("POST", "/v1/audit/verify", AuditVerifySchema),
    orchestratorKey: () => get("/v1/keys/orchestrator", OrchestratorKeySchema),

    // --- config sync --------------------------------------------------------------------------
    configDiff: (name: string) => get(`${worker(name)}/config/diff`, z.array(ConfigDiffSchema)),
    configHistory: (name: string) => get(`${worker(name)}/config/history`, z.array(withOlderCreatedBy(ConfigHistorySchema))),
    configPublish: (name: string, body: { force?: boolean } = {}) =>
      send("POST", `${worker(name)}/config/publish`, ConfigPublishSchema, body),
    configRollback: (name: string, to: number) => send("POST", `${worker(name)}/config/rollback`, ConfigPublishSchema, { to }),

    // --- the tunnel, setup, the deployment kit -------------------------------------------------
    tunnelStatus: () => get("/v1/tunnel/status", TunnelStatusSchema),
    createTunnel: (body: CreateTunnelBody) => send("POST", "/v1/tunnel", TunnelCreatedSchema, body),
    tunnelConfig: () => get("/v1/tunnel/config", TunnelConfigSchema),
    applyTunnelConfig: (body: ApplyTunnelConfigBody) => send("PUT", "/v1/tunnel/config", TunnelConfigSchema, body),
    setup: () => get("/v1/setup", SetupSchema),
    runSetupStep: (id: SetupStepId, body: { input?: { worker?: string } } = {}) =>
      send("POST", `/v1/setup/${enc(id)}`, SetupStepRunSchema, body),
    /** The deployment kit, a .tar.gz built by the daemon from its configuration. */
    async downloadKit(q: KitOverrides = {}): Promise<Uint8Array> {
      const res = await requestRaw(conn, "GET", `/v1/kit${query(q as Record<string, string | number | undefined>)}`);
      return readAnswer(conn, res, "GET /v1/kit");
    },
  };
}
export type DaemonClient = ReturnType<typeof createDaemonClient>;
