// What the MCP tools read from the daemon's answers, validated where they enter. Loose on purpose:
// the tools pass most answers through to the agent and only rely on the fields named here.
import * as z from "zod";

export const ErrorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()).optional() }),
});

export const AnyJson = z.unknown();

export const ReleaseSchema = z.looseObject({
  id: z.string(),
  worker: z.string(),
  kind: z.string(),
  status: z.string(),
  reason: z.string().nullable().optional(),
  created_by: z.string().nullable().optional(),
  created_at: z.string(),
});
export type Release = z.output<typeof ReleaseSchema>;

const Live = z.array(z.looseObject({ versionId: z.string(), percentage: z.number() }));

export const StatusSchema = z.looseObject({
  workers: z.array(
    z.looseObject({
      name: z.string(),
      targets: z.array(z.looseObject({ target: z.string(), live: Live })),
      lastRelease: ReleaseSchema.nullable().optional(),
    }),
  ),
});

export const PlanSchema = z.looseObject({
  worker: z.string(),
  waves: z.array(z.array(z.string())),
  steps: z.array(z.number()),
  targets: z.array(z.looseObject({ name: z.string(), previousVersionId: z.string().nullable(), live: Live })),
  apiCalls: z.number().optional(),
});

export const VersionsSchema = z.array(z.looseObject({ target: z.string(), versionId: z.string(), releaseId: z.string().nullable().optional(), live: z.boolean() }));

export const ConfigDiffSchema = z.array(z.looseObject({ target: z.string(), changed: z.boolean(), published: z.looseObject({ version: z.number() }).nullable() }));

export const SecretSchema = z.looseObject({ name: z.string(), version: z.number().int(), mode: z.string(), deleted: z.boolean().optional() });
export const SecretsSchema = z.array(SecretSchema);
export const SecretWrittenSchema = z.looseObject({ name: z.string(), version: z.number().int() });
export const DeliverSchema = z.looseObject({ name: z.string(), version: z.number().int(), releases: z.array(z.looseObject({ worker: z.string(), releaseId: z.string() })) });
