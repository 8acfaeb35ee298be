// Durable Object migrations of a script upload (CLOUDFLARE-API-FLEET §4): the metadata's
// `migrations` checked against the script's current tag and applied step by step to its
// namespaces, inside the upload's transaction so a refused step leaves nothing behind.
import { z } from "zod";
import { hexId } from "../../kit/ids.ts";
import { CF_CODES, CfApiError } from "./envelope.ts";
import type { DoStore } from "../state/durable-objects.ts";

const names = z.array(z.string().min(1));
const StepSchema = z
  .object({
    new_classes: names.optional(),
    new_sqlite_classes: names.optional(),
    deleted_classes: names.optional(),
    renamed_classes: z.array(z.object({ from: z.string().min(1), to: z.string().min(1) }).strict()).optional(),
    transferred_classes: z
      .array(z.object({ from: z.string().min(1), from_script: z.string().min(1), to: z.string().min(1) }).strict())
      .optional(),
  })
  .strict();
export type MigrationStep = z.infer<typeof StepSchema>;

/** `{old_tag?, new_tag?, steps: [...]}` as wrangler sends it, or the older single-step form. */
const MigrationsSchema = z.union([
  z.object({ old_tag: z.string().optional(), new_tag: z.string().optional(), steps: z.array(StepSchema) }).strict(),
  StepSchema.extend({ old_tag: z.string().optional(), new_tag: z.string().optional(), tag: z.string().optional() }),
]);
export type Migrations = { old_tag?: string; new_tag?: string; steps: MigrationStep[] };

const invalid = (message: string) => new CfApiError(400, CF_CODES.SCRIPT_INVALID, message);

export function parseMigrations(raw: unknown): Migrations {
  const parsed = MigrationsSchema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw invalid(`metadata.migrations${i.path.length ? "." + i.path.join(".") : ""}: ${i.message}`);
  }
  const m = parsed.data;
  if ("steps" in m && Array.isArray(m.steps)) return m as Migrations;
  const { old_tag, new_tag, tag, ...step } = m as MigrationStep & { old_tag?: string; new_tag?: string; tag?: string };
  return {
    ...(old_tag !== undefined ? { old_tag } : {}),
    ...((new_tag ?? tag) !== undefined ? { new_tag: new_tag ?? tag } : {}),
    steps: [step],
  };
}

/** True when the migrations change any class (an empty step list only moves the tag). */
export const changesClasses = (m: Migrations) => m.steps.some((s) => Object.values(s).some((v) => Array.isArray(v) && v.length > 0));

export const VERSION_UPLOAD_MIGRATION_MESSAGE =
  "Version upload failed. You attempted to upload a version of a Worker that includes a Durable Object migration, but migrations must be fully applied via a non-versioned deployment. Refer to the documentation for more information.";

/**
 * Checks the tag precondition, applies every step to the account's namespaces and records the
 * new tag. Cloudflare's wording where known (10079 for the tag precondition).
 */
export function applyMigrations(deps: { dos: DoStore; now: string }, accountId: string, script: string, m: Migrations): void {
  const { dos } = deps;
  const current = dos.migrationTag(accountId, script);
  if ((m.old_tag ?? undefined) !== current) {
    throw new CfApiError(
      400,
      CF_CODES.MIGRATION_TAG_PRECONDITION,
      current === undefined
        ? `Migration tag precondition failed; the script has no migration tag yet, but old_tag is "${m.old_tag}".`
        : `Migration tag precondition failed; current tag is ${current}`,
    );
  }
  const own = (cls: string) => dos.byClass(accountId, script, cls);
  const create = (cls: string, sqlite: boolean) => {
    if (own(cls))
      throw invalid(`Cannot apply new-class migration to class '${cls}' that is already depended on by existing Durable Objects.`);
    dos.insert({ id: hexId(), account_id: accountId, script, class: cls, use_sqlite: sqlite, created_on: deps.now });
  };
  for (const step of m.steps) {
    for (const cls of step.new_classes ?? []) create(cls, false);
    for (const cls of step.new_sqlite_classes ?? []) create(cls, true);
    for (const { from, to } of step.renamed_classes ?? []) {
      const ns = own(from);
      if (!ns) throw invalid(`Cannot apply rename migration to non-existent class '${from}'.`);
      if (own(to)) throw invalid(`Cannot apply rename migration to class '${to}' that already exists.`);
      dos.move(ns.id, script, to);
    }
    for (const { from, from_script, to } of step.transferred_classes ?? []) {
      const ns = dos.byClass(accountId, from_script, from);
      if (!ns) throw invalid(`Cannot apply transfer migration from non-existent class '${from}' of script '${from_script}'.`);
      if (own(to)) throw invalid(`Cannot apply transfer migration to class '${to}' that already exists.`);
      dos.move(ns.id, script, to);
    }
    for (const cls of step.deleted_classes ?? []) {
      const ns = own(cls);
      if (!ns) throw invalid(`Cannot apply deleted_classes migration to non-existent class '${cls}'.`);
      dos.delete(ns.id);
    }
  }
  if (m.new_tag !== undefined) dos.setMigrationTag(accountId, script, m.new_tag);
}
