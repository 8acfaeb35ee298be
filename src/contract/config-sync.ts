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

/**
 * One key path whose value differs: `before` absent for a key added, `after` absent for one
 * removed. `masked`: the key names a secret (api_key, password…), so both values read "***".
 */
export const ConfigChangeSchema = z.object({
  path: z.string().describe("Dotted key path, e.g. limits.rate"),
  before: z.unknown().optional().describe("The published value (absent: the key is new)"),
  after: z.unknown().optional().describe("The value to publish (absent: the key goes)"),
  masked: z.literal(true).optional().describe("The key names a secret: its values are not shown"),
});
export type ConfigChange = z.output<typeof ConfigChangeSchema>;

/** A change as the audit entry of config.publish / config.rollback records it: values as JSON text. */
export type AuditedConfigChange = { target: string; path: string; before?: string; after?: string; masked?: true };

/** `limits.rate: 10 -> 20`, `banner: (none) -> "hi"`: one change on one line (values as JSON). */
export function formatConfigChange(c: ConfigChange): string {
  const v = (has: boolean, x: unknown) => (has ? JSON.stringify(x) : "(none)");
  return `${c.path}: ${v("before" in c, c.before)} -> ${v("after" in c, c.after)}${c.masked ? " (masked: the key names a secret)" : ""}`;
}

export const ConfigDiffSchema = z.object({
  target: z.string(),
  published: z.object({ version: z.number().int(), config: Json }).nullable(),
  desired: Json,
  changed: z.boolean(),
  // Defaults to none for a daemon from before the field (a newer client reads an older daemon).
  changes: z.array(ConfigChangeSchema).default([]).describe("Each key path that differs, with the published and the desired value"),
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
  createdBy: z.string().nullable().describe("The name of the token that published it"),
  createdByToken: z.string().nullable().describe("That token's id (two tokens may share a name); null when not a token"),
  targets: z.array(z.string()),
});
export type ConfigHistoryEntry = z.output<typeof ConfigHistorySchema>;
