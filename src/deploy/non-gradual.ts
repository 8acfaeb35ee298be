// Releases that cannot be gradual: a version that changes Durable Object classes (new, renamed,
// deleted, transferred) reaches Cloudflare only through the script PUT, which serves it at 100% at
// once (a version upload with a migration is refused, 10211). The plan says so (`nonGradual`), the
// engine then releases one target at a time with the 100% gate after each (plan.ts makes every
// target its own wave), and it needs an explicit opt-in: `allow_non_gradual: true` in the rollout or
// `--allow-non-gradual`. A deleted or renamed class loses or moves stored objects, so it needs a
// second confirmation of its own (`--confirm-class-deletion`), which the rollout cannot give.
import type { PlannedTarget } from "../contract/index.ts";
import type { DurableObjectMigrations } from "../cloudflare/index.ts";
import { CboError } from "../kit/errors.ts";
import type { ReleasePlan } from "./types.ts";

export type ClassChanges = NonNullable<PlannedTarget["durableObjectMigration"]>["classes"];

/** What a migration's steps do to classes. */
export function classChanges(m: DurableObjectMigrations): NonNullable<ClassChanges> {
  const out: NonNullable<ClassChanges> = { added: [], deleted: [], renamed: [], transferred: [] };
  for (const s of m.steps) {
    out.added.push(...(s.new_classes ?? []), ...(s.new_sqlite_classes ?? []));
    out.deleted.push(...(s.deleted_classes ?? []));
    out.renamed.push(...(s.renamed_classes ?? []).map((r) => `${r.from} -> ${r.to}`));
    out.transferred.push(...(s.transferred_classes ?? []).map((r) => `${r.from_script}.${r.from} -> ${r.to}`));
  }
  return out;
}

/** The plan's non-gradual section: the targets that already serve the Worker and take a Durable Object migration. */
export function nonGradualOf(targets: PlannedTarget[]): ReleasePlan["nonGradual"] {
  const hit = targets.filter((t) => t.previousVersionId !== null && t.durableObjectMigration);
  if (hit.length === 0) return undefined;
  const classes = hit.map((t) => t.durableObjectMigration!.classes);
  const uniq = (xs: string[]) => [...new Set(xs)];
  return {
    targets: hit.map((t) => t.name),
    reason:
      "this version changes Durable Object classes, which Cloudflare applies only through a non-versioned deploy (a version upload with a migration is refused, code 10211): each target takes it at 100% at once, one target at a time, with the gate after each, and no rollback can go back past it (code 10238)",
    deletesClasses: uniq(classes.flatMap((c) => [...(c?.deleted ?? []), ...(c?.renamed ?? [])])),
  };
}

/** Refuses a non-gradual release without its opt-in, and a class deletion or rename without its own confirmation. */
export function checkNonGradual(
  plan: ReleasePlan,
  opts: { rolloutAllows: boolean; allowNonGradual?: boolean; confirmClassDeletion?: boolean },
): void {
  const ng = plan.nonGradual;
  if (!ng) return;
  if (!opts.rolloutAllows && opts.allowNonGradual !== true) {
    throw new CboError(
      "ERR_CONFIRMATION_REQUIRED",
      `The release of ${plan.worker} cannot be gradual on ${ng.targets.join(", ")}: ${ng.reason}.`,
      {
        details: { worker: plan.worker, targets: ng.targets, needs: "allow_non_gradual" },
        hint: "Add `allow_non_gradual: true` to the worker's rollout in orchestrator.yaml, or release with --allow-non-gradual (API: allow_non_gradual: true).",
      },
    );
  }
  if (ng.deletesClasses.length > 0 && opts.confirmClassDeletion !== true) {
    throw new CboError(
      "ERR_CONFIRMATION_REQUIRED",
      `The release of ${plan.worker} deletes or renames Durable Object class(es) ${ng.deletesClasses.join(", ")} on ${ng.targets.join(", ")}: the stored objects of a deleted class are gone for good, and a rename moves them.`,
      {
        details: { worker: plan.worker, classes: ng.deletesClasses, needs: "confirm_class_deletion" },
        hint: "If that is intended, release again with --confirm-class-deletion (API: confirm_class_deletion: true).",
      },
    );
  }
}
