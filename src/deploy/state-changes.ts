// What a release changes in state rather than in code: D1 migrations pending (expand or contract)
// and a Durable Object migration. A release whose code, bindings and settings are what the targets
// run (the diff says unchanged) still has work to do when any of these is pending, e.g. after
// `cbo d1 restore` undid a migration, or when a migration file is the only change.
import type { ReleasePlan } from "./types.ts";

export function pendingStateChanges(plan: ReleasePlan): string[] {
  return plan.targets.flatMap((t) => [
    ...(t.d1Migrations ?? []).map((d) => `${t.name}: D1 ${d.database} ${d.pending.join(", ")}`),
    ...(t.d1Contract ?? []).map((d) => `${t.name}: D1 ${d.database} contract ${d.pending.join(", ")}`),
    ...(t.durableObjectMigration ? [`${t.name}: Durable Object migration ${t.durableObjectMigration.newTag}`] : []),
  ]);
}
