// The plans as stored in a release record, checked when read back from SQLite (a record written
// by an older build, or edited by hand, fails here with its path rather than deep in recovery).
import * as z from "zod";
import { CboError } from "../kit/errors.ts";
import type { Release } from "../store/index.ts";
import type { ReleasePlan } from "./types.ts";

const Split = z.array(z.object({ versionId: z.string(), percentage: z.number() }));

export const StoredReleasePlanSchema = z.looseObject({
  worker: z.string(),
  tenant: z.string(),
  bundleHash: z.string(),
  waves: z.array(z.array(z.string())),
  steps: z.array(z.number()),
  gate: z.looseObject({}),
  targets: z.array(z.looseObject({ name: z.string(), accountId: z.string(), previousVersionId: z.string().nullable(), live: Split })),
  actions: z.array(z.looseObject({ kind: z.enum(["upload", "deploy", "gate"]), target: z.string(), percent: z.number().optional() })),
  apiCalls: z.number(),
});

/** A `cbo rollback`: where each target goes, and what it served when the rollback was planned. */
export const RollbackPlanSchema = z.object({
  kind: z.literal("rollback"),
  worker: z.string(),
  tenant: z.string(),
  /** What the user asked for (release id, version id) or null for the default. */
  to: z.string().nullable(),
  /** How `to` was read, for people: e.g. `versions before release …`. */
  resolved: z.string(),
  targets: z.array(
    z.object({
      name: z.string(),
      accountId: z.string(),
      versionId: z.string(),
      /** The script settings that go back with the code (crons, routes, consumers…: the ones recorded for that version's release). */
      settings: z.record(z.string(), z.unknown()).optional(),
    }),
  ),
  skipped: z.array(z.object({ name: z.string(), why: z.string() })),
});
export type RollbackPlan = z.infer<typeof RollbackPlanSchema>;

export function releasePlanOf(r: Release): ReleasePlan {
  const parsed = StoredReleasePlanSchema.safeParse(r.plan);
  if (!parsed.success)
    throw new CboError(
      "ERR_INTERNAL",
      `release ${r.id} has an unreadable plan: ${parsed.error.issues[0]?.path.join(".")}: ${parsed.error.issues[0]?.message}`,
    );
  return parsed.data as unknown as ReleasePlan;
}

export function rollbackPlanOf(r: Release): RollbackPlan {
  const parsed = RollbackPlanSchema.safeParse(r.plan);
  if (!parsed.success)
    throw new CboError(
      "ERR_INTERNAL",
      `rollback ${r.id} has an unreadable plan: ${parsed.error.issues[0]?.path.join(".")}: ${parsed.error.issues[0]?.message}`,
    );
  return parsed.data;
}
