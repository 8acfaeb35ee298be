// Config sync on the wire (issue 5): diff, publish, history and rollback of each worker's signed
// agent config.
import * as z from "zod";

export const ConfigParamsSchema = z.object({
  name: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,62}$/)
    .describe("Worker name"),
});
const Json = z.record(z.string(), z.unknown());

export const ConfigDiffSchema = z.object({
  target: z.string(),
  published: z.object({ version: z.number().int(), config: Json }).nullable(),
  desired: Json,
  changed: z.boolean(),
  written: z.number().int().nullable().describe("Version held in the target's KV"),
  applied: z.boolean().describe("An agent on the target reported running the latest version"),
});
export type ConfigDiff = z.output<typeof ConfigDiffSchema>;

export const ConfigPublishBodySchema = z.object({ force: z.boolean().default(false) }).strict();
export const ConfigRollbackBodySchema = z.object({ to: z.number().int().min(1) }).strict();

export const ConfigPublishSchema = z.object({
  worker: z.string(),
  version: z.number().int(),
  hash: z.string(),
  rollbackOf: z.number().int().nullable(),
  targets: z.array(
    z.object({ target: z.string(), version: z.number().int(), written: z.boolean(), poke: z.string(), error: z.string().optional() }),
  ),
});
export type ConfigPublish = z.output<typeof ConfigPublishSchema>;

export const ConfigHistorySchema = z.object({
  version: z.number().int(),
  hash: z.string(),
  rollbackOf: z.number().int().nullable(),
  createdAt: z.string(),
  createdBy: z.string().nullable(),
  targets: z.array(z.string()),
});
export type ConfigHistoryEntry = z.output<typeof ConfigHistorySchema>;
