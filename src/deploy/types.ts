// The release engine's contract: what the daemon hands it, and what the API and CLI call.
// Implementations live beside this file; the API depends on this shape only.
import type { CloudflareClient } from "../cloudflare/index.ts";
import type { ResolvedSpec } from "../config/load.ts";
import type { Gate } from "../config/schema.ts";
import type { Release, Store } from "../store/index.ts";

/** Where one target's Workers are reached over HTTP, for probes. */
export type Endpoint = { url: string; host?: string };

/** One target as the engine drives it: a Cloudflare client bound to the target's account. */
export type TargetRuntime = {
  name: string;
  accountId: string;
  client: CloudflareClient;
  /** e.g. `{url: "http://127.0.0.1:8781/", host: "hello.localhost"}` on the local edge. */
  endpoint(worker: string): Endpoint;
};

/** What a target runs now, read from the edge (not from our records). */
export type ObservedTarget = {
  target: string;
  /** Live deployment, newest first as the API returns it; empty when the Worker is not deployed. */
  deployment: Array<{ versionId: string; percentage: number }>;
  /** Versions known on the edge for this Worker, newest first (up to 100). */
  versions: string[];
  /** KV namespace titles in the target's account, when they were read (for the API-call estimate). */
  kvNamespaces?: string[];
};

export type PlannedAction =
  | { kind: "upload"; target: string }
  | { kind: "deploy"; target: string; percent: number }
  | { kind: "gate"; target: string; percent: number };

/** A vault secret as planning needs it: never its value. */
export type SecretPolicy = { version: number; mode: "binding" | "relay"; jurisdictions: string[] };

/** One secret on one target in a release: the version it ships with, or why it is withheld. */
export type PlannedSecret = { target: string; name: string; version: number; mode: SecretPolicy["mode"]; delivered: boolean; reason?: string };

/** What the engine needs from the vault (src/deploy/secret-source.ts adapts the real one). */
export type SecretSource = {
  /** Current version and policy per name; undefined for a secret that is missing or deleted. */
  describe(tenant: string, names: string[]): Map<string, SecretPolicy | undefined>;
  /** A value to ship as a binding (audited as a delivery by `by`). */
  read(tenant: string, name: string, version: number, by: string): string;
  /** This Worker's key on this target, made on first use. */
  workerKey(tenant: string, worker: string, target: string, by: string): { version: number; key: Uint8Array };
  /** A release shipped key `version` to this target and it serves there: older keys stop verifying. */
  shipped(tenant: string, worker: string, target: string, version: number): void;
};

/** The pure result of planning a release: shown by `cbo plan`, stored with the release. */
export type ReleasePlan = {
  worker: string;
  tenant: string;
  bundleHash: string;
  waves: string[][];
  steps: number[];
  gate: Gate;
  targets: Array<{ name: string; accountId: string; previousVersionId: string | null; live: ObservedTarget["deployment"] }>;
  actions: PlannedAction[];
  /** Secret versions per target (absent: the worker uses no secrets, or the plan predates them). */
  secrets?: PlannedSecret[];
  /** Cloudflare API requests the release will spend when every gate passes (retries excluded). */
  apiCalls: number;
};

export type EngineDeps = {
  store: Store;
  /** The current desired state (re-read on every call: reconcile is level-based). */
  spec: () => ResolvedSpec;
  targets: () => Map<string, TargetRuntime>;
  /** The vault, for Workers that use secrets. */
  secrets?: SecretSource;
  /** Where Workers reach the orchestrator (relay, heartbeats), given to Workers that use relay secrets. */
  orchestratorUrl?: () => string | undefined;
  /** Requests and errors the edge agents of a version reported since `sinceMs` (heartbeats), for gates. */
  agentTraffic?: (tenant: string, worker: string, target: string, versionId: string, sinceMs: number) => { requests: number; errors: number };
  /** The orchestrator's Ed25519 public key (base64url raw), given to Workers running the edge agent. */
  publicKey?: () => string | undefined;
  /**
   * Paths no Worker bundle may read, even inside its project: the daemon's data directory, the
   * master key file, the local edge's state (src/deploy/confine.ts).
   */
  protectedPaths?: string[];
  log?: (line: string) => void;
  /** Between attempts at a restore that is owed (a region out, a full disk): jittered, capped. Default 1 s doubling to 30 s. */
  restoreBackoff?: { baseMs: number; maxMs: number };
};

/** A touched target a release could not put back yet: the engine retries it until it lands. */
export type PendingRestore = {
  releaseId: string;
  tenant: string;
  worker: string;
  target: string;
  /** The version it goes back to; null while the edge must be read to know it. */
  versionId: string | null;
  /** When the first attempt failed (ISO). */
  since: string;
  attempts: number;
  /** Why the last attempt did not land (`ERR_CF_UNAVAILABLE: …`). */
  lastError: string;
  nextAttemptAt: string | null;
};

export type Engine = {
  /** What a release of this worker would do, from the spec and what the edge runs now. */
  plan(worker: string): Promise<ReleasePlan>;
  /** Starts a release and returns its record at once (status `running`); it proceeds in the background. */
  release(worker: string, opts?: { by?: string }): Promise<Release>;
  /** Stops a running release and rolls back every touched target. */
  abort(releaseId: string, opts?: { by?: string }): Promise<Release>;
  /**
   * Fast-track every target of the worker to an earlier version, without gates. `to` is a
   * release id or a version id; default: the versions live before the newest succeeded release.
   */
  rollback(worker: string, opts?: { to?: string; by?: string }): Promise<Release>;
  /** Resolves when the release is in a terminal status. */
  wait(releaseId: string): Promise<Release>;
  /**
   * On start: finish or roll back every release the journal shows unfinished. Resolves once each
   * is finished or has a restore owed (which goes on in the background until it lands).
   */
  recover(): Promise<void>;
  /** The restores owed now ("restore pending"): what status and the dashboard show. */
  restores(): PendingRestore[];
  /** Stops background work (does not abort releases: the journal lets the next start recover). */
  close(): Promise<void>;
};
