// Every list of states and kinds the API speaks, once. The store, the engine, the vault, the audit
// log, the setup wizard and every client (CLI, MCP server, dashboard) take them from here.

/**
 * A release's (or rollback's) status; `running` and `rolling_back` are unfinished. `unchanged`: a
 * release that would have changed nothing on any target, so it did nothing (no `--force`).
 */
export const RELEASE_STATUSES = ["running", "rolling_back", "succeeded", "rolled_back", "failed", "aborted", "unchanged"] as const;
export type ReleaseStatus = (typeof RELEASE_STATUSES)[number];

/** The statuses a release ends in: nothing moves it any more. */
export const TERMINAL_STATUSES: ReadonlySet<ReleaseStatus> = new Set<ReleaseStatus>([
  "succeeded",
  "rolled_back",
  "failed",
  "aborted",
  "unchanged",
]);
/** Whether a status (as a client reads it: any string) is one a release ends in. */
export const isTerminal = (status: string): boolean => TERMINAL_STATUSES.has(status as ReleaseStatus);

/** A gated release, or `cbo rollback`'s straight return to earlier versions. */
export const RELEASE_KINDS = ["release", "rollback"] as const;
export type ReleaseKind = (typeof RELEASE_KINDS)[number];

/** A Worker's health on a target, from the monitor's probes. */
export const HEALTH_STATUSES = ["healthy", "unhealthy", "unknown"] as const;
export type HealthStatus = (typeof HEALTH_STATUSES)[number];

/** Drift of a worker on a target: a verdict (in_sync, drifted), or why there is none now. */
export const DRIFT_STATUSES = ["in_sync", "drifted", "pending", "unknown"] as const;
export type DriftStatus = (typeof DRIFT_STATUSES)[number];

/** What drifted (names and types, never values): see src/deploy/drift/compare.ts. */
export const DRIFT_KINDS = ["code", "unknown_version", "bindings", "secrets", "settings", "config"] as const;
export type DriftKind = (typeof DRIFT_KINDS)[number];

/** A token's role: admin > deployer = agent > viewer. */
export const ROLES = ["admin", "deployer", "viewer", "agent", "metrics"] as const;
export type Role = (typeof ROLES)[number];

/** How a secret reaches a Worker: inside its version (`binding`), or fetched at run time (`relay`). */
export const SECRET_MODES = ["binding", "relay"] as const;
export type SecretMode = (typeof SECRET_MODES)[number];

/** An audit entry's outcome. */
export const AUDIT_OUTCOMES = ["ok", "denied", "error"] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** The setup wizard's steps, in order, and a step's status: pending -> running -> done | skipped | failed. */
export const SETUP_STEP_IDS = ["master-key", "cloudflare", "targets", "tunnel", "first-release"] as const;
export type SetupStepId = (typeof SETUP_STEP_IDS)[number];
export const SETUP_STEP_STATUSES = ["pending", "running", "done", "skipped", "failed"] as const;
export type SetupStepStatus = (typeof SETUP_STEP_STATUSES)[number];

/** A fleet log line's verdict: `error` when the invocation did not end `ok` or answered a 5xx. */
export const LOG_VERDICTS = ["ok", "error"] as const;
export type LogVerdict = (typeof LOG_VERDICTS)[number];

/** A tail session the daemon keeps open on one worker and target (src/fleet-logs/tail-session.ts). */
export const TAIL_STATES = ["connecting", "streaming", "waiting"] as const;
export type TailState = (typeof TAIL_STATES)[number];

/** How the redacted copy of fleet logs is shipped: OTLP logs over HTTP (JSON), or JSON lines. */
export const LOG_SHIP_FORMATS = ["otlp", "jsonl"] as const;
export type LogShipFormat = (typeof LOG_SHIP_FORMATS)[number];
