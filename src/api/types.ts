// What the API is built from (handed in by daemon.ts) and who is calling it. The engine and the
// monitor are used through their contracts only; nothing here knows how a release is carried out.
import type { ResolvedSpec } from "../config/load.ts";
import type { Engine } from "../deploy/types.ts";
import type { TargetRuntime } from "../targets/types.ts";
import type { Store } from "../store/index.ts";
import type { ConfigSync, HeartbeatSink } from "../sync/index.ts";
import type { MasterKey } from "../vault/index.ts";
import type { RateLimitOptions } from "./rate-limit.ts";
import type { Security } from "../security/index.ts";
import type { TunnelManager } from "../tunnel/index.ts";
import type { SessionOptions } from "./dashboard/session.ts";
import type { CboMetrics, Logger, Tracer } from "../telemetry/index.ts";
import type { FleetLogs } from "../fleet-logs/index.ts";
import type { FleetMetrics } from "../fleet-metrics/index.ts";
import type { SpecRefusal } from "../contract/index.ts";

/** What the routes need of the monitor: a probe pass on demand. */
export type ApiMonitor = { checkNow(): Promise<void> };

export type ApiDeps = {
  store: Store;
  engine: Engine;
  /**
   * The vault, the audit log and the orchestrator's key (openSecurity over the same store). Required:
   * there is no API without an audit log, since every mutation through it is recorded.
   */
  security: Security;
  /** Failed-authentication limit (default: 10 failures in 60 s lock for 60 s). */
  authLimits?: RateLimitOptions;
  /**
   * Host names the API answers besides loopback and the tunnel's hostnames (host-allowlist.ts):
   * CBO_ALLOWED_HOSTS, e.g. the name of a public interface the daemon listens on with allowPublic.
   */
  allowedHosts?: string[];
  monitor?: ApiMonitor;
  /** The current desired state, re-read on every request. */
  spec: () => ResolvedSpec;
  /** Set while orchestrator.yaml on disk is refused and `spec` is the previous one (config/watch.ts). */
  specRefusal?: () => SpecRefusal | undefined;
  /** Looks at the spec files now (else at most every 250 ms): a release takes an edit saved just before it. */
  refreshSpec?: () => void;
  /**
   * The target runtimes (as the engine gets them), to read what each target serves now for
   * /v1/status and the versions list. Without them `live` is empty and `liveError` says why.
   */
  targets?: () => Map<string, TargetRuntime>;
  /**
   * How long one observation of a worker is reused as a whole (ms; default 0). The targets' own
   * read reuse (src/targets/read-reuse.ts, `reuseReadsMs`) is what keeps /v1/status polls from
   * spending the Cloudflare API budget, and unlike this it forgets a read when the daemon writes.
   */
  observeCacheMs?: number;
  /** How long the targets reuse a read for plan, diff and status (ms), as the daemon built them: reported with each plan and diff. */
  reuseReadsMs?: number;
  /** How long /v1/status waits for the edge before answering without `live` (ms). */
  observeTimeoutMs?: number;
  /** Where unexpected errors and the access log are written (never returned to the caller). */
  log?: Logger;
  /** The daemon's metrics: GET /metrics serves them; requests, heartbeats and relay fetches are counted. */
  metrics?: CboMetrics;
  /** Root spans of requests (continuing a caller's traceparent); without it requests are not traced. */
  tracer?: Tracer;
  /** Parse every response with its schema before sending it (tests): the OpenAPI document then cannot drift from what is sent. */
  checkResponses?: boolean;
  /** WebSocket stream tuning (tests and benchmarks). */
  stream?: StreamOptions;
  /** How long a Worker may cache a relayed secret (s); default 300. */
  relayTtlSec?: number;
  /** Config publishing (src/sync); the config routes answer ERR_INTERNAL without it. */
  configSync?: ConfigSync;
  /** Where accepted heartbeats go (src/sync/heartbeats.ts). */
  heartbeats?: HeartbeatSink;
  /** The daemon's upkeep of its own state (master key, backups); without it those routes answer ERR_CONFLICT. */
  admin?: DaemonAdmin;
  /** The daemon's Cloudflare Tunnel (src/tunnel); without it the tunnel routes answer ERR_CONFLICT. */
  tunnel?: TunnelManager;
  /** What no Worker bundle may read, and no kit carry, even inside a Worker's project: the daemon's data and key files. */
  protectedPaths?: string[];
  /** The URL the API listens at, once it does (the deployment kit takes the daemon's port from it). */
  daemonUrl?: () => string | undefined;
  /** The local edge's API URL when the daemon drives one (the deployment kit takes its port, as it takes the daemon's). */
  edgeApiUrl?: string;
  /** Fleet logs (src/fleet-logs): kept lines, the live stream, status; the log routes answer ERR_CONFLICT without them. */
  fleetLogs?: FleetLogs;
  /** The metrics page's series (src/fleet-metrics); GET /v1/metrics/series answers ERR_CONFLICT without it. */
  fleetMetrics?: FleetMetrics;
  /** Dashboard sessions (expiry, how many) and where its files are (tests); defaults otherwise. */
  dashboard?: { sessions?: SessionOptions; dir?: string };
};

/** What the vault and backup routes need of the daemon (daemon.ts provides it). */
export type DaemonAdmin = {
  /** The master key in use; it changes when it is rotated online. */
  masterKey(): MasterKey;
  /** The key file it was read from, when it came from one: only such a key can be rotated online. */
  masterKeyFile?: string;
  /** After an online rotation: from now on backups are sealed with `next`. */
  masterKeyRotated(next: MasterKey): void;
  /**
   * One encrypted backup now (src/backup): into `out`, or a new archive in `dir` (default: the
   * daemon's backup directory), then `written` (which may refuse it: the archive is removed), then
   * all but the `keep` newest archives in that directory are removed.
   */
  backup(
    o: { out?: string; dir?: string; keep?: number },
    written: (b: BackupWritten) => void,
  ): Promise<BackupWritten & { removed: string[] }>;
};

export type BackupWritten = {
  file: string;
  bytes: number;
  createdAt: string;
  masterKeyId: string;
  files: Array<{ name: string; bytes: number }>;
  audit: { entries: number; checkpoints: number };
};

export type StreamOptions = {
  /** Ping interval; a client that has not answered the previous ping is dropped. Default 30 s. */
  heartbeatMs?: number;
  /** A client whose unsent data exceeds this is dropped as too slow. Default 8 MiB. */
  maxBufferedBytes?: number;
  /** Events read from the store per replay page. Default 500. */
  pageSize?: number;
  /** Open streams per token or dashboard session. Default 32. */
  maxPerPrincipal?: number;
  /** Open streams per client address (an IPv6 client by its /64). Default 128. */
  maxPerAddress?: number;
};

/** The caller (src/security/principal.ts). */
export type { Principal } from "../security/index.ts";
