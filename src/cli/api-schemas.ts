// What the CLI reads from the daemon's API, validated where it enters the process. The schemas are
// loose on purpose (extra fields pass through, unknown event types are kept): a CLI one version
// behind the daemon should still print what it understands instead of refusing the answer.
import * as z from "zod";

export const ReleaseSchema = z.looseObject({
  id: z.string(),
  tenant: z.string(),
  worker: z.string(),
  kind: z.string(),
  status: z.string(),
  reason: z.string().nullable().optional(),
  plan: z.record(z.string(), z.unknown()).nullable().optional(),
  created_by: z.string().nullable().optional(),
  created_at: z.string(),
  updated_at: z.string().optional(),
});
export type ApiRelease = z.infer<typeof ReleaseSchema>;

export const EventSchema = z.looseObject({
  id: z.number().int(),
  tenant: z.string().optional(),
  type: z.string(),
  release_id: z.string().nullable().optional(),
  worker: z.string().nullable().optional(),
  target: z.string().nullable().optional(),
  data: z.record(z.string(), z.unknown()).default({}),
  at: z.string(),
});
export type ApiEvent = z.infer<typeof EventSchema>;

const LiveSchema = z.array(z.looseObject({ versionId: z.string(), percentage: z.number() }));

export const StatusSchema = z.looseObject({
  tenant: z.string(),
  targets: z.array(
    z.looseObject({
      name: z.string(),
      api: z.string().optional(),
      accountId: z.string().nullable().optional(),
      region: z.string().nullable().optional(),
      jurisdiction: z.string().nullable().optional(),
    }),
  ),
  workers: z.array(
    z.looseObject({
      name: z.string(),
      targets: z.array(
        z.looseObject({
          target: z.string(),
          live: LiveSchema,
          /** Why `live` is empty when the edge could not be read. */
          liveError: z.string().nullable().optional(),
          health: z
            .looseObject({
              status: z.string(),
              versionId: z.string().nullable().optional(),
              latencyMs: z.number().nullable().optional(),
              checkedAt: z.string().nullable().optional(),
            })
            .nullable()
            .optional(),
          /** A rollback that has not landed here yet (read loosely by format-status.ts). */
          restore: z.unknown().optional(),
        }),
      ),
      lastRelease: ReleaseSchema.nullable().optional(),
    }),
  ),
});
export type ApiStatus = z.infer<typeof StatusSchema>;

export const VersionsSchema = z.array(
  z.looseObject({
    target: z.string(),
    versionId: z.string(),
    releaseId: z.string().nullable().optional(),
    createdAt: z.string().nullable().optional(),
    live: z.boolean(),
  }),
);
export type ApiVersions = z.infer<typeof VersionsSchema>;

const ActionSchema = z.looseObject({ kind: z.string(), target: z.string(), percent: z.number().optional() });

export const PlanSchema = z.looseObject({
  worker: z.string(),
  tenant: z.string().optional(),
  bundleHash: z.string().optional(),
  waves: z.array(z.array(z.string())),
  steps: z.array(z.number()),
  gate: z.record(z.string(), z.unknown()).optional(),
  targets: z.array(
    z.looseObject({
      name: z.string(),
      accountId: z.string().optional(),
      previousVersionId: z.string().nullable().optional(),
      live: LiveSchema.default([]),
    }),
  ),
  actions: z.array(ActionSchema),
  /** The secret versions each target ships (names and versions only), or why one is withheld. */
  secrets: z
    .array(z.looseObject({ target: z.string(), name: z.string(), version: z.number().int(), mode: z.string(), delivered: z.boolean(), reason: z.string().optional() }))
    .optional(),
  apiCalls: z.number(),
});
export type ApiPlan = z.infer<typeof PlanSchema>;

export const ReleaseDetailSchema = z.looseObject({
  release: ReleaseSchema,
  journal: z.array(z.record(z.string(), z.unknown())).default([]),
});
export type ApiReleaseDetail = z.infer<typeof ReleaseDetailSchema>;

export const ErrorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()).optional() }),
});
