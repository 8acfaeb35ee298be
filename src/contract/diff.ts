// The diff on the wire: per target, what a release of the spec would change against what the
// target runs now (read from the edge, never from our records alone), and whether the target runs
// something the orchestrator never uploaded there (drift). `cbo diff`, the top of `cbo plan`, the
// MCP `diff` tool and the dashboard show it; a release whose diff is empty does nothing.
import * as z from "zod";

/** What a change is about, in the order they are shown. */
export const DIFF_AREAS = [
  "code",
  "bindings",
  "vars",
  "compatibility",
  "migrations",
  "secrets",
  "config",
  "assets",
  "crons",
  "routes",
  "consumers",
  "settings",
] as const;
export type DiffArea = (typeof DIFF_AREAS)[number];

/**
 * One difference. `item` names it (a module, a binding, a var, a secret `name@version`, an asset
 * path, a setting); `live` and `desired` are what the target has and what the spec says, shown as
 * text. Never a secret's value: secrets are names and versions only. `migrations` are the D1
 * files pending in the target's own table and a Durable Object migration: state a release changes
 * even when the code does not (e.g. after `cbo d1 restore`).
 */
export const DiffChangeSchema = z.object({
  area: z.enum(DIFF_AREAS),
  item: z.string(),
  change: z.enum(["added", "removed", "changed", "unknown"]),
  live: z.string().optional(),
  desired: z.string().optional(),
});
export type DiffChange = z.infer<typeof DiffChangeSchema>;

export const TargetDiffSchema = z.object({
  target: z.string(),
  /** The live split; empty when the Worker is not deployed there. */
  live: z.array(z.object({ versionId: z.string(), percentage: z.number() })),
  /** The version compared with (the one carrying most traffic); null when nothing is deployed. */
  versionId: z.string().nullable(),
  /** Live versions the orchestrator never uploaded to this target (a `wrangler deploy`, a dashboard edit). */
  unknownVersions: z.array(z.string()),
  /** True when the target runs something the spec does not know: an unknown version. */
  drift: z.boolean(),
  /** The code hash of the live version (its modules), when the orchestrator recorded it; and the spec's. */
  liveCode: z.string().nullable(),
  desiredCode: z.string(),
  changes: z.array(DiffChangeSchema),
});
export type TargetDiff = z.infer<typeof TargetDiffSchema>;

/**
 * What answering a plan or diff read from Cloudflare: requests sent now, and requests a read made
 * moments before (by a plan, diff or status) saved because its answer was reused.
 */
export const LiveReadsSchema = z.object({
  sent: z.number().int(),
  reused: z.number().int(),
  /** How long a read is reused (ms). */
  reuseMs: z.number().int(),
});
export type LiveReads = z.infer<typeof LiveReadsSchema>;

export const WorkerDiffSchema = z.object({
  worker: z.string(),
  targets: z.array(TargetDiffSchema),
  /** True when a release would change something on some target (config aside: `cbo config publish` ships it). */
  changed: z.boolean(),
  /** True when some target runs something the spec does not know (`cbo diff --strict` exits 4). */
  drift: z.boolean(),
  /** The Cloudflare reads this answer took (absent from older daemons). */
  reads: LiveReadsSchema.optional(),
});
export type WorkerDiff = z.infer<typeof WorkerDiffSchema>;
