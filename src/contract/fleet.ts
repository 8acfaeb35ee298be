// What runs where, on the wire: targets and workers as the spec declares them, what each target
// serves (read from the edge), health, drift, restores owed, and the versions list. /v1/status is
// assembled by src/api/status-view.ts.
import * as z from "zod";
import { DRIFT_STATUSES, HEALTH_STATUSES } from "./statuses.ts";
import { SpecRefusalSchema } from "./meta.ts";
import { CursorQueryShape, pageOf } from "./pages.ts";
import { GateSchema, LiveSplitSchema, ReleaseSchema } from "./releases.ts";
import { ReleaseControlSchema } from "./release-control.ts";

export const HealthQuerySchema = z.object({
  fresh: z.enum(["0", "1"]).optional().describe("1: run a probe pass before answering"),
});

export const TargetSummarySchema = z.object({
  name: z.string(),
  api: z.string(),
  accountId: z.string().nullable(),
  region: z.string().nullable(),
  jurisdiction: z.string().nullable(),
});
export type TargetSummary = z.output<typeof TargetSummarySchema>;

export const WorkerSummarySchema = z.object({
  name: z.string(),
  tenant: z.string(),
  agent: z.boolean().describe("Runs the edge agent (signed config, heartbeats)"),
  targets: z.array(z.string()),
  waves: z.array(z.array(z.string())),
  steps: z.array(z.number()),
  gate: GateSchema,
  compatibilityDate: z.string(),
});
export type WorkerSummary = z.output<typeof WorkerSummarySchema>;

export const HealthSchema = z.object({
  status: z.enum(HEALTH_STATUSES),
  versionId: z.string().nullable(),
  latencyMs: z.number().nullable(),
  checkedAt: z.string(),
});

export const HealthRowSchema = z.object({
  tenant: z.string(),
  worker: z.string(),
  target: z.string(),
  status: z.enum(HEALTH_STATUSES),
  version_id: z.string().nullable(),
  latency_ms: z.number().nullable(),
  detail: z.string().nullable(),
  checked_at: z.string(),
  changed_at: z.string(),
});
export type HealthRow = z.output<typeof HealthRowSchema>;

/** Desired (the store's newest finished release or rollback) against observed (the edge), per worker and target: src/deploy/drift/checker.ts. */
export const DriftSchema = z.object({
  status: z
    .enum(DRIFT_STATUSES)
    .describe(
      "in_sync | drifted | pending (a release or rollback is moving the worker: no verdict) | unknown (nothing desired yet, or unreadable: see note)",
    ),
  drifted: z.boolean().describe("The last definite verdict (kept through pending and unknown passes)"),
  kinds: z.array(z.string()).describe("What differs: code, unknown_version, bindings, secrets, settings, config"),
  detail: z.string().describe("What differs, for people (binding names and types, never values)"),
  desired: z.array(LiveSplitSchema).nullable(),
  observed: z.array(LiveSplitSchema).nullable(),
  differences: z.array(z.record(z.string(), z.unknown())).describe("Each difference, structured by kind"),
  note: z.string().nullable().describe("Why the last pass gave no verdict"),
  revert: z.string().nullable().describe("What the last revert of this drift did (policy `revert`)"),
  since: z.string().nullable().describe("When the current drift began"),
  checkedAt: z.string(),
});
export type DriftSummary = z.output<typeof DriftSchema>;

/** A touched target whose rollback has not landed yet: the engine retries it until it does (src/deploy/owed.ts). */
export const RestorePendingSchema = z
  .object({
    releaseId: z.string().describe("The release whose rollback owes this restore (rolling_back until it lands)"),
    versionId: z.string().nullable().describe("The version the target goes back to (null: read from the edge when it answers)"),
    since: z.string().describe("When the first attempt failed"),
    attempts: z.number().int(),
    lastError: z.string().describe("Why the last attempt did not land, e.g. ERR_CF_UNAVAILABLE: …"),
    nextAttemptAt: z.string().nullable(),
    waitingFor: z
      .string()
      .optional()
      .describe(
        "Set when the rollback waits there for a D1 migrations table it must read (whether a file sent without an answer landed), not for the code",
      ),
  })
  .describe("restore pending: the target may still serve the release's version (a split) until it lands");
export type RestoreSummary = z.output<typeof RestorePendingSchema>;

export const StatusSchema = z.object({
  tenant: z.string(),
  targets: z.array(TargetSummarySchema),
  workers: z.array(
    z.object({
      name: z.string(),
      targets: z.array(
        z.object({
          target: z.string(),
          /** What the edge serves now; empty when not deployed or not observed (then `liveError` says why). */
          live: z.array(LiveSplitSchema),
          liveError: z.string().nullable(),
          health: HealthSchema.nullable(),
          /** Null until the drift checker has looked at this worker and target. */
          drift: DriftSchema.nullable().optional(),
          /** Set while a release owes this target its rollback ("restore pending"); null otherwise. */
          restore: RestorePendingSchema.nullable().optional(),
          /**
           * Secrets the version it serves pinned at an older version than the vault's current one
           * (after a rollback, say): not "in sync" even when the code is what the journal wants.
           */
          staleSecrets: z.array(z.object({ name: z.string(), pinned: z.number().int(), current: z.number().int() })).optional(),
        }),
      ),
      lastRelease: ReleaseSchema.nullable(),
      /**
       * While the last release runs in this daemon: whether it is paused and what each target waits
       * for (why a target serves a split and stays there). Absent when nothing runs.
       */
      control: ReleaseControlSchema.optional(),
    }),
  ),
  /** Set while orchestrator.yaml on disk is refused: what this status shows is the previous spec's. */
  specRefused: SpecRefusalSchema.optional(),
});
export type Status = z.output<typeof StatusSchema>;

export const VersionEntrySchema = z.object({
  target: z.string(),
  versionId: z.string(),
  releaseId: z.string().nullable(),
  createdAt: z.string(),
  live: z.boolean(),
});
export type VersionEntry = z.output<typeof VersionEntrySchema>;
/** GET /v1/workers/:name/versions: newest first. */
export const VersionPageSchema = pageOf(VersionEntrySchema);
export const VersionsQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).optional().describe("At most this many per page (default 100)"),
  ...CursorQueryShape,
});
