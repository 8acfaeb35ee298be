// Releases on the wire: the release record and its journal, the plan `cbo plan` shows and a
// release stores, and the requests that start, list, abort and roll back releases. The routes
// validate with these and the OpenAPI document is generated from them (src/api/openapi.ts).
import * as z from "zod";
import { CursorQueryShape, pageOf } from "./pages.ts";
import { RELEASE_KINDS, RELEASE_STATUSES, SECRET_MODES } from "./statuses.ts";

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
  limit: z.coerce.number().int().min(1).max(1000).optional().describe("At most this many per page (default 100)"),
  ...CursorQueryShape,
});

/** A release or rollback as stored; `plan` is the plan it runs (ReleasePlan, or a rollback's). */
export const ReleaseSchema = z.object({
  id: z.string(),
  tenant: z.string(),
  worker: z.string(),
  kind: z.enum(RELEASE_KINDS),
  status: z.enum(RELEASE_STATUSES),
  reason: z.string().nullable(),
  plan: z.record(z.string(), z.unknown()),
  created_by: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type Release = z.infer<typeof ReleaseSchema>;
/** GET /v1/releases: newest first. */
export const ReleasePageSchema = pageOf(ReleaseSchema);

/** One entry of a release's write-ahead journal (its kinds: src/deploy/journal.ts). */
export const JournalEntrySchema = z.object({
  release_id: z.string(),
  seq: z.number().int(),
  kind: z.string(),
  target: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
  at: z.string(),
});
export type JournalEntry = z.infer<typeof JournalEntrySchema>;

export const ReleaseDetailSchema = z.object({ release: ReleaseSchema, journal: z.array(JournalEntrySchema) });
export type ReleaseDetail = z.infer<typeof ReleaseDetailSchema>;

export const LiveSplitSchema = z.object({ versionId: z.string(), percentage: z.number() });

/** A rollout's gate as resolved for a worker (orchestrator.yaml's `gate:`, defaults filled in). */
export const GateSchema = z.object({
  probe_path: z.string(),
  interval_ms: z.number().int(),
  timeout_ms: z.number().int(),
  failure_limit: z.number().int(),
  max_error_rate: z.number(),
  bake_ms: z.number().int(),
  min_samples: z.number().int(),
});
export type Gate = z.infer<typeof GateSchema>;

export const PlannedActionSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("upload"), target: z.string() }),
  z.object({ kind: z.literal("deploy"), target: z.string(), percent: z.number() }),
  z.object({ kind: z.literal("gate"), target: z.string(), percent: z.number() }),
]);
export type PlannedAction = z.infer<typeof PlannedActionSchema>;

/** One secret on one target in a release: the version it ships with, or why it is withheld. */
export const PlannedSecretSchema = z.object({
  target: z.string(),
  name: z.string(),
  version: z.number().int(),
  mode: z.enum(SECRET_MODES),
  delivered: z.boolean(),
  reason: z.string().optional(),
});
export type PlannedSecret = z.infer<typeof PlannedSecretSchema>;

/** The pure result of planning a release: shown by `cbo plan`, stored with the release. */
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
    .array(PlannedSecretSchema)
    .optional()
    .describe("Secret versions each target ships with (names and versions only), or why one is withheld"),
  /** Cloudflare API requests the release will spend when every gate passes (retries excluded). */
  apiCalls: z.number().int(),
});
export type ReleasePlan = z.infer<typeof ReleasePlanSchema>;
