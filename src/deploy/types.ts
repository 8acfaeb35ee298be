// The release engine's contract: what the daemon hands it, and what the API and CLI call.
// Implementations live beside this file; the API depends on this shape only.
import type { ResolvedSpec } from "../config/load.ts";
import type { Analysis, Gate } from "../config/schema.ts";
import type {
  AnalysisSpec,
  ControlResult,
  D1RestorePreview,
  D1RestoreResult,
  Gate as WireGate,
  PlannedAction,
  PlannedSecret,
  ReleaseAnalysis,
  ReleaseControl,
  ReleasePlan,
  RollbackPreview,
  SecretMode,
  WorkerDiff,
} from "../contract/index.ts";
import type { D1RestoreRequest } from "./d1-restore.ts";
import type { Release, Store } from "../store/index.ts";
import type { TargetRuntime } from "../targets/types.ts";
import type { Logger, Tracer } from "../telemetry/index.ts";

// The plan is the contract's (src/contract/releases.ts): what `cbo plan` shows is what the engine
// plans, and what a release stores.
export type { PlannedAction, PlannedSecret, ReleasePlan };

/** A vault secret as planning needs it: never its value. */
export type SecretPolicy = { version: number; mode: SecretMode; jurisdictions: string[] };

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

// orchestrator.yaml's gate (src/config) must stay what the plan says on the wire: a change on
// either side fails the type check here instead of drifting from the OpenAPI document.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const gateMatchesContract: Same<Gate, WireGate> = true;
export const analysisMatchesContract: Same<Analysis, AnalysisSpec> = true;

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
  agentTraffic?: (
    tenant: string,
    worker: string,
    target: string,
    versionId: string,
    sinceMs: number,
  ) => { requests: number; errors: number };
  /** The orchestrator's Ed25519 public key (base64url raw), given to Workers running the edge agent. */
  publicKey?: () => string | undefined;
  /**
   * Paths no Worker bundle may read, even inside its project: the daemon's data directory, the
   * master key file, the local edge's state (src/deploy/confine.ts).
   */
  protectedPaths?: string[];
  log?: Logger;
  /** Root spans for work no request started (recovery at start); other spans follow the caller's trace. */
  tracer?: Tracer;
  /** The clock release windows are read with (default Date.now). */
  now?: () => number;
  /** Between attempts at a restore that is owed (a region out, a full disk): jittered, capped. Default 1 s doubling to 30 s. */
  restoreBackoff?: { baseMs: number; maxMs: number };
};

export type ControlOpts = { by?: string; reason?: string };

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
  /**
   * Set when what the rollback waits for there is not the code but a D1 migrations table it must
   * read to know whether a file sent without an answer landed: e.g. `D1 notes: whether 0002_b.sql
   * landed (its migrations table cannot be read yet)`.
   */
  waitingFor?: string;
};

/** The confirmations a release may need (non-gradual.ts): refused with ERR_CONFIRMATION_REQUIRED without them. */
export type ReleaseOptions = {
  by?: string;
  /** Opt in to a non-gradual release (a Durable Object migration), when the rollout does not. */
  allowNonGradual?: boolean;
  /** Confirm a Durable Object class deletion or rename. */
  confirmClassDeletion?: boolean;
  /** Release even when no target would change (otherwise it ends `unchanged`). */
  force?: boolean;
  /** Release although orchestrator.yaml's `windows` deny it now, with a reason (audited). */
  overrideWindow?: { reason: string };
};

export type RollbackOptions = {
  /** A release id or version id; default: the last release that succeeded before the one being undone. */
  to?: string;
  by?: string;
  /** Confirm that a secret goes back to an older version. */
  confirmSecretDowngrade?: boolean;
  /** Roll back even where a migration marks the old code incompatible with the schema. */
  force?: boolean;
};

export type Engine = {
  /** What a release of this worker would do, from the spec and what the edge runs now. */
  plan(worker: string): Promise<ReleasePlan>;
  /** Per target, what a release would change against what the target runs now, and whether it drifted. */
  diff(worker: string): Promise<WorkerDiff>;
  /**
   * Starts a release and returns its record at once (status `running`); it proceeds in the
   * background. A release that would change nothing ends at once as `unchanged`, unless `force`.
   * Refused (ERR_RELEASE_WINDOW) while orchestrator.yaml's `windows` deny releases, unless
   * `overrideWindow` gives a reason.
   */
  release(worker: string, opts?: ReleaseOptions): Promise<Release>;
  /** Holds a running release before its next step on every target, until resume(). */
  pause(releaseId: string, opts?: ControlOpts): Promise<ControlResult>;
  resume(releaseId: string, opts?: ControlOpts): Promise<ControlResult>;
  /** Lets every target waiting at a `{pause: approve}` or `{pause: <duration>}` step go on. */
  promote(releaseId: string, opts?: ControlOpts): Promise<ControlResult>;
  /** What a release waits for now (nothing once it ended). */
  control(releaseId: string): ReleaseControl;
  /** The canary analysis of every step so far: the journal's, and the running steps' live reads. */
  analysis(releaseId: string): ReleaseAnalysis;
  /** Stops a running release and rolls back every touched target. */
  abort(releaseId: string, opts?: { by?: string; reason?: string }): Promise<Release>;
  /**
   * Fast-track every target of the worker to an earlier version, without gates. `to` is a
   * release id or a version id; default: the versions live before the newest succeeded release.
   */
  rollback(worker: string, opts?: RollbackOptions): Promise<Release>;
  /** Exactly what rollback() would do per target (code, secrets, config, schema) and what it needs, without doing it. */
  previewRollback(worker: string, opts?: { to?: string }): Promise<RollbackPreview>;
  /** What `cbo d1 restore` would do: the bookmark a release took before its migrations on a target, and the minutes of writes lost. */
  previewD1Restore(req: D1RestoreRequest): D1RestorePreview;
  /** Restores that bookmark (explicit, never automatic; refused while the worker has a release running). */
  restoreD1(
    req: D1RestoreRequest,
    opts?: {
      /** Called with the bookmark of the moment before (the way back) just before the restore is sent; throwing sends nothing. */
      beforeSending?: (undoBookmark: string) => void;
    },
  ): Promise<D1RestoreResult>;
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
