// Every request and response body of the API, once. The routes validate with these, and the
// OpenAPI document is generated from these same objects (openapi.ts), so the two cannot disagree.
// Records read back from the store reuse the store's own schemas.
import * as z from "zod";
import { GateSchema } from "../config/schema.ts";
import type { ReleasePlan } from "../deploy/types.ts";
import { ERROR_CODES, type ErrorCode } from "../kit/errors.ts";
import { EventSchema } from "../store/events.ts";
import { JournalEntrySchema, ReleaseSchema } from "../store/releases.ts";
import type { HealthRow } from "../store/index.ts";
import { DRIFT_STATUSES } from "../store/drift.ts";
import { SECURITY_SCHEMAS } from "./schemas-security.ts";

export { EventSchema, JournalEntrySchema, ReleaseSchema };

// --- errors ---------------------------------------------------------------------------------------

export const ErrorBodySchema = z.object({
  error: z.object({
    code: z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});

// --- requests -------------------------------------------------------------------------------------

const NAME = z.string().min(1).max(100);

export const WorkerParamsSchema = z.object({ name: NAME.describe("Worker name, as in orchestrator.yaml") });
export const ReleaseParamsSchema = z.object({ id: NAME.describe("Release id") });

/** Strict: a misspelt key is an error rather than silently ignored. */
export const CreateReleaseBodySchema = z.object({ worker: NAME.describe("Worker to release, as in orchestrator.yaml") }).strict();
export const RollbackBodySchema = z
  .object({ to: NAME.optional().describe("Release id or version id to return to; default: the version live before the newest release") })
  .strict();

export const ReleasesQuerySchema = z.object({
  worker: NAME.optional().describe("Only this worker's releases"),
  limit: z.coerce.number().int().min(1).max(1000).optional().describe("At most this many (default 100)"),
});
export const EventsQuerySchema = z.object({
  after: z.coerce.number().int().min(0).optional().describe("Only events with a larger id (default 0: from the start)"),
  release: NAME.optional().describe("Only this release's events"),
  limit: z.coerce.number().int().min(1).max(10_000).optional().describe("At most this many (default 1000)"),
});
export const StreamQuerySchema = EventsQuerySchema.omit({ limit: true }).extend({
  token: z.string().optional().describe("Bearer token, for clients that cannot set headers (browsers)"),
});
export const HealthQuerySchema = z.object({
  fresh: z.enum(["0", "1"]).optional().describe("1: run a probe pass before answering"),
});

// --- responses ------------------------------------------------------------------------------------

export const OkSchema = z.object({ ok: z.literal(true) });
export const OpenApiDocumentSchema = z.record(z.string(), z.unknown());

export const LiveSplitSchema = z.object({ versionId: z.string(), percentage: z.number() });

export const TargetSummarySchema = z.object({
  name: z.string(),
  api: z.string(),
  accountId: z.string().nullable(),
  region: z.string().nullable(),
  jurisdiction: z.string().nullable(),
});

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

export const HealthSchema = z.object({
  status: z.enum(["healthy", "unhealthy", "unknown"]),
  versionId: z.string().nullable(),
  latencyMs: z.number().nullable(),
  checkedAt: z.string(),
});

export const HealthRowSchema = z.object({
  tenant: z.string(),
  worker: z.string(),
  target: z.string(),
  status: z.enum(["healthy", "unhealthy", "unknown"]),
  version_id: z.string().nullable(),
  latency_ms: z.number().nullable(),
  detail: z.string().nullable(),
  checked_at: z.string(),
  changed_at: z.string(),
});

/** Desired (the store's newest finished release or rollback) against observed (the edge), per worker and target: src/monitor/drift-checker.ts. */
export const DriftSchema = z.object({
  status: z.enum(DRIFT_STATUSES).describe("in_sync | drifted | pending (a release or rollback is moving the worker: no verdict) | unknown (nothing desired yet, or unreadable: see note)"),
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

/** A touched target whose rollback has not landed yet: the engine retries it until it does (src/deploy/owed.ts). */
export const RestorePendingSchema = z
  .object({
    releaseId: z.string().describe("The release whose rollback owes this restore (rolling_back until it lands)"),
    versionId: z.string().nullable().describe("The version the target goes back to (null: read from the edge when it answers)"),
    since: z.string().describe("When the first attempt failed"),
    attempts: z.number().int(),
    lastError: z.string().describe("Why the last attempt did not land, e.g. ERR_CF_UNAVAILABLE: …"),
    nextAttemptAt: z.string().nullable(),
  })
  .describe("restore pending: the target may still serve the release's version (a split) until it lands");

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
        }),
      ),
      lastRelease: ReleaseSchema.nullable(),
    }),
  ),
});

export const VersionEntrySchema = z.object({
  target: z.string(),
  versionId: z.string(),
  releaseId: z.string().nullable(),
  createdAt: z.string(),
  live: z.boolean(),
});

const PlannedActionSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("upload"), target: z.string() }),
  z.object({ kind: z.literal("deploy"), target: z.string(), percent: z.number() }),
  z.object({ kind: z.literal("gate"), target: z.string(), percent: z.number() }),
]);

export const ReleasePlanSchema = z.object({
  worker: z.string(),
  tenant: z.string(),
  bundleHash: z.string(),
  waves: z.array(z.array(z.string())),
  steps: z.array(z.number()),
  gate: GateSchema,
  targets: z.array(
    z.object({ name: z.string(), accountId: z.string(), previousVersionId: z.string().nullable(), live: z.array(LiveSplitSchema) }),
  ),
  actions: z.array(PlannedActionSchema),
  secrets: z
    .array(z.object({ target: z.string(), name: z.string(), version: z.number().int(), mode: z.enum(["binding", "relay"]), delivered: z.boolean(), reason: z.string().optional() }))
    .optional()
    .describe("Secret versions each target ships with (names and versions only), or why one is withheld"),
  apiCalls: z.number().int(),
});

export const ReleaseDetailSchema = z.object({ release: ReleaseSchema, journal: z.array(JournalEntrySchema) });

/** Schemas with a name in the OpenAPI document's components; the others are inlined per route. */
export const NAMED_SCHEMAS: Record<string, z.ZodType> = {
  Error: ErrorBodySchema,
  Release: ReleaseSchema,
  JournalEntry: JournalEntrySchema,
  ReleaseDetail: ReleaseDetailSchema,
  StoredEvent: EventSchema,
  ReleasePlan: ReleasePlanSchema,
  Status: StatusSchema,
  Drift: DriftSchema,
  RestorePending: RestorePendingSchema,
  Target: TargetSummarySchema,
  Worker: WorkerSummarySchema,
  VersionEntry: VersionEntrySchema,
  HealthRow: HealthRowSchema,
  Gate: GateSchema,
  CreateReleaseBody: CreateReleaseBodySchema,
  RollbackBody: RollbackBodySchema,
  ...SECURITY_SCHEMAS,
};

// The engine's and the store's plain types must stay what these schemas describe: a change on
// either side fails the type check here instead of drifting from the OpenAPI document.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const schemasMatchTypes: [Same<z.output<typeof ReleasePlanSchema>, ReleasePlan>, Same<z.output<typeof HealthRowSchema>, HealthRow>] = [true, true];
