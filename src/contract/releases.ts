// Releases on the wire: the release record and its journal, the plan `cbo plan` shows and a
// release stores, and the requests that start, list, abort and roll back releases. The routes
// validate with these and the OpenAPI document is generated from them (src/api/openapi.ts).
import * as z from "zod";
import { lineOfText } from "./line-of-text.ts";
import { LiveReadsSchema, WorkerDiffSchema } from "./diff.ts";
import { CursorQueryShape, pageOf } from "./pages.ts";
import { RELEASE_KINDS, RELEASE_STATUSES, SECRET_MODES } from "./statuses.ts";

const NAME = z.string().min(1).max(100);

export const WorkerParamsSchema = z.object({ name: NAME.describe("Worker name, as in orchestrator.yaml") });
export const ReleaseParamsSchema = z.object({ id: NAME.describe("Release id") });

/** Strict: a misspelt key is an error rather than silently ignored. */
export const CreateReleaseBodySchema = z
  .object({
    worker: NAME.describe("Worker to release, as in orchestrator.yaml"),
    allow_non_gradual: z
      .boolean()
      .optional()
      .describe("Opt in to a release that cannot be gradual (a Durable Object migration: 100% per target, one at a time)"),
    confirm_class_deletion: z.boolean().optional().describe("Confirm that the release deletes or renames Durable Object classes"),
    force: z.boolean().optional().describe("Release even when no target would change (otherwise such a release ends `unchanged`)"),
    overrideWindow: z
      .object({ reason: lineOfText(500).describe("Why this release may run outside the release windows (audited)") })
      .strict()
      .optional()
      .describe("Release even though orchestrator.yaml's `windows` deny it now (cbo release --override-window --reason)"),
  })
  .strict();
export const RollbackBodySchema = z
  .object({
    to: NAME.optional().describe(
      "Release id or version id to return to; default: the versions of the last release that succeeded before the one being undone",
    ),
    confirm_secret_downgrade: z.boolean().optional().describe("Confirm that the rollback pins a secret to an older version than now"),
    force: z.boolean().optional().describe("Roll back even where a migration declares the old code incompatible with the new schema"),
  })
  .strict();
export const RollbackPreviewQuerySchema = z.object({
  to: NAME.optional().describe("Release id or version id; default as for the rollback itself"),
});

/** What a rollback will do on one target: code, each secret's pinned version, config, and the schema it leaves. */
export const RollbackTargetPreviewSchema = z.object({
  name: z.string(),
  /** The version serving there now (the largest share), null when it could not be read or serves nothing. */
  from: z.string().nullable(),
  to: z.string(),
  secrets: z.array(
    z.object({
      name: z.string(),
      /** Pinned by the version serving now (null: not shipped with it, or unknown). */
      from: z.number().int().nullable(),
      /** Pinned by the version rolled to. */
      to: z.number().int().nullable(),
      /** The vault's current version. */
      current: z.number().int().nullable(),
      change: z.enum(["same", "upgrade", "downgrade", "added", "removed", "unknown"]),
    }),
  ),
  config: z.object({ version: z.number().int().nullable(), change: z.literal("none"), note: z.string() }),
  /** D1 migrations applied by releases after the version rolled to: the schema stays as it is. */
  newerMigrations: z.array(z.object({ database: z.string(), files: z.array(z.string()), release: z.string() })),
  /** Of those, the files marked `-- cbo:breaks-rollback`: refused unless force. */
  breaksRollback: z.array(z.string()),
  /** A Durable Object migration after the version rolled to: Cloudflare refuses the deployment (10238). */
  durableObjectBarrier: z.object({ release: z.string(), oldTag: z.string().nullable(), newTag: z.string() }).optional(),
});
export type RollbackTargetPreview = z.infer<typeof RollbackTargetPreviewSchema>;

/** GET /v1/workers/:name/rollback/preview: exactly what `cbo rollback` would do, and what it needs. */
export const RollbackPreviewSchema = z.object({
  worker: z.string(),
  to: z.string().nullable(),
  resolved: z.string(),
  targets: z.array(RollbackTargetPreviewSchema),
  skipped: z.array(z.object({ name: z.string(), why: z.string() })),
  warnings: z.array(z.string()),
  /** Why it is refused whatever is confirmed (a Durable Object migration in the way). */
  refused: z.string().optional(),
  needs: z.object({ confirmSecretDowngrade: z.boolean(), force: z.boolean() }),
});
export type RollbackPreview = z.infer<typeof RollbackPreviewSchema>;

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

/** A rollout's canary analysis as resolved for a worker (orchestrator.yaml's `analysis:`, defaults filled in). */
export const AnalysisSpecSchema = z.object({
  enabled: z.boolean(),
  interval_ms: z.number().int(),
  lag_sec: z.number().nullable(),
  baseline_lookback_sec: z.number().int(),
  min_requests: z.number().int(),
  alpha: z.number(),
  min_error_rate_increase: z.number(),
  max_p50_ratio: z.number(),
  max_p99_ratio: z.number(),
  min_latency_increase_ms: z.number(),
  on_inconclusive: z.enum(["wait", "pass", "fail"]),
  max_wait_ms: z.number().int(),
});
export type AnalysisSpec = z.infer<typeof AnalysisSpecSchema>;

/** A `pause:` step: after the target has served `after`% and its gate passed, wait for approval or for `ms`. */
export const PlannedPauseSchema = z.object({
  after: z.number(),
  pause: z.union([z.literal("approve"), z.object({ ms: z.number().int() })]),
});
export type PlannedPause = z.infer<typeof PlannedPauseSchema>;

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

/**
 * A resource a target's bindings use: found there already (`use`, with its id) or created by the
 * release (`create`), in the jurisdiction it gets there (`note` says why none when the target has one).
 */
export const PlannedResourceSchema = z.object({
  kind: z.enum(["kv", "d1", "r2", "queue"]),
  name: z.string().describe("Logical name: KV title, D1 database name, R2 bucket name, queue name"),
  jurisdiction: z.string().optional(),
  note: z.string().optional(),
  /** What uses it: binding names, `consumer` for a consumed queue, `dead letter` for a dead-letter queue. */
  usedBy: z.array(z.string()),
  action: z.enum(["use", "create"]),
  id: z.string().optional().describe("The target's id of it, when it exists already"),
});
export type PlannedResource = z.infer<typeof PlannedResourceSchema>;

/** One binding of the version a target gets, with the target's resource behind it (when it has one). */
export const PlannedBindingSchema = z.object({
  name: z.string(),
  type: z.string().describe("Upload metadata type: plain_text, json, kv_namespace, d1, r2_bucket, queue, durable_object_namespace, …"),
  resource: z.string().optional().describe("kind:name of the target's resource behind it"),
  id: z.string().nullable().optional().describe("Its id in the target (null: created by this release)"),
});

/** A phase of a target's release, in order (resources, d1-migrations, assets, upload, steps, settings; later issues add more). */
export const PlannedPhaseSchema = z.looseObject({
  phase: z.string(),
  /** What it will do, for people. */
  summary: z.string(),
  /** Cloudflare API requests it spends, when every gate passes. */
  apiCalls: z.number().int(),
});
export type PlannedPhase = z.infer<typeof PlannedPhaseSchema>;

/** One script setting outside versions (crons, routes, consumers, workers.dev, observability…): now and after the release. */
export const PlannedSettingSchema = z.object({
  setting: z.string(),
  current: z.unknown().describe("What the target has now; null for a new script"),
  desired: z.unknown(),
  change: z.boolean(),
});
export type PlannedSetting = z.infer<typeof PlannedSettingSchema>;

export const PlannedTargetSchema = z.object({
  name: z.string(),
  accountId: z.string(),
  previousVersionId: z.string().nullable(),
  live: z.array(LiveSplitSchema),
  /** The wrangler environment this target releases (absent: the top level, or a worker of orchestrator.yaml). */
  env: z.string().optional(),
  /** The release hash of this target's build (targets releasing other environments differ). */
  bundleHash: z.string().optional(),
  /**
   * `version`: a version upload, then the planned steps; `script`: the script PUT, which serves
   * the new version at 100% at once (a first deploy, or a Durable Object migration, as wrangler deploy).
   */
  upload: z.enum(["version", "script"]).optional(),
  /** Durable Object migrations the upload carries (null: none). */
  durableObjectMigration: z
    .object({
      oldTag: z.string().nullable(),
      newTag: z.string(),
      steps: z.number().int(),
      warning: z.string().optional(),
      /** What the migration does to classes: added, deleted, renamed (`from -> to`), transferred. */
      classes: z
        .object({
          added: z.array(z.string()),
          deleted: z.array(z.string()),
          renamed: z.array(z.string()),
          transferred: z.array(z.string()),
        })
        .optional(),
    })
    .nullable()
    .optional(),
  resources: z.array(PlannedResourceSchema).optional(),
  bindings: z.array(PlannedBindingSchema).optional(),
  /** D1 migration files not yet applied there, per database, applied before the upload. */
  d1Migrations: z.array(z.object({ binding: z.string(), database: z.string(), pending: z.array(z.string()) })).optional(),
  /**
   * Contract migrations (`-- cbo:contract`) not yet applied there, per database: the release's
   * second phase, after every target reached 100% and passed its last gate; never in a release
   * that rolled back.
   */
  d1Contract: z
    .array(
      z.object({
        binding: z.string(),
        database: z.string(),
        pending: z.array(z.string()),
        /** Each pending file's SHA-256 (hex) as planned: recovery runs a file only while it still has it. */
        sha256: z.record(z.string(), z.string()).optional(),
      }),
    )
    .optional(),
  /** Static assets: files in the manifest and those the account lacks (only these are sent). */
  assets: z
    .object({ files: z.number().int(), bytes: z.number().int(), upload: z.number().int(), uploadBytes: z.number().int() })
    .optional(),
  settings: z.array(PlannedSettingSchema).optional(),
  phases: z.array(PlannedPhaseSchema).optional(),
});
export type PlannedTarget = z.infer<typeof PlannedTargetSchema>;

/** The pure result of planning a release: shown by `cbo plan`, stored with the release. */
export const ReleasePlanSchema = z.object({
  worker: z.string(),
  tenant: z.string(),
  bundleHash: z.string(),
  waves: z.array(z.array(z.string())),
  steps: z.array(z.number()),
  gate: GateSchema,
  /** Canary analysis of every step (absent in plans stored before it existed: off). */
  analysis: AnalysisSpecSchema.optional(),
  /** `pause:` steps, by the percentage they follow (absent: none). */
  pauses: z.array(PlannedPauseSchema).optional(),
  targets: z.array(PlannedTargetSchema),
  actions: z.array(PlannedActionSchema),
  secrets: z
    .array(PlannedSecretSchema)
    .optional()
    .describe("Secret versions each target ships with (names and versions only), or why one is withheld"),
  /** Cloudflare API requests the release will spend when every gate passes (retries excluded). */
  apiCalls: z.number().int(),
  /**
   * Present when the release cannot be gradual (a Durable Object migration on targets that serve the
   * Worker): those targets take it at 100% one at a time, and the release needs the opt-in.
   */
  nonGradual: z.object({ targets: z.array(z.string()), reason: z.string(), deletesClasses: z.array(z.string()) }).optional(),
  /**
   * What wrangler would warn about for the Worker's source (e.g. a top-level binding an environment
   * does not repeat, so it is not used there), once each; absent when there is nothing to say.
   */
  warnings: z.array(z.string()).optional(),
  /** What the release changes against what each target runs now (src/contract/diff.ts). */
  diff: WorkerDiffSchema.optional(),
  /** The Cloudflare reads this plan took to answer, some reused (absent from older daemons and in stored plans). */
  reads: LiveReadsSchema.optional(),
});
export type ReleasePlan = z.infer<typeof ReleasePlanSchema>;

/** `cbo d1 restore <binding> --target T --to-release R`: which bookmark, taken when, and what is lost. */
export const D1RestoreQuerySchema = z.object({
  binding: NAME.describe("The D1 binding name (e.g. DB)"),
  target: NAME.describe("The target whose database is restored"),
  release: NAME.describe("The release whose bookmark (taken before its migrations there) is restored"),
  worker: NAME.optional().describe("The worker (default: the release's)"),
});
export const D1RestoreBodySchema = D1RestoreQuerySchema.extend({
  confirm: z.boolean().optional().describe("true after the user agreed to lose the writes since the bookmark"),
}).strict();
export const D1RestorePreviewSchema = z.object({
  worker: z.string(),
  binding: z.string(),
  database: z.string(),
  databaseId: z.string(),
  target: z.string(),
  release: z.string(),
  bookmark: z.string(),
  /** When the bookmark was taken (ISO). */
  bookmarkAt: z.string(),
  /** Whole minutes of writes since the bookmark that the restore undoes (rounded up). */
  minutesLost: z.number().int(),
  /** The migrations the release applied there after the bookmark: gone from the schema and from d1_migrations. */
  migrations: z.array(z.string()),
});
export type D1RestorePreview = z.infer<typeof D1RestorePreviewSchema>;
export const D1RestoreResultSchema = D1RestorePreviewSchema.extend({
  /** Time Travel's bookmark of the moment before the restore: restoring to it undoes the restore. */
  undoBookmark: z.string().nullable(),
  restoredAt: z.string(),
});
export type D1RestoreResult = z.infer<typeof D1RestoreResultSchema>;
