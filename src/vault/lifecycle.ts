// Writing versions and ending them. Soft delete hides a secret and is undone by undelete; destroy
// removes a version's ciphertext and wrapped key for good (secure_delete + WAL flush, so the bytes
// leave the file, not only the table). They are separate calls so that the API can grant them
// separately. Versions beyond keepVersions are destroyed and their rows removed as new ones come.
import { CboError } from "../kit/errors.ts";
import { atomic, flushWal, scrubbing } from "./atomic.ts";
import { checkCas, mustExist, type VaultContext } from "./context.ts";
import { sealValue } from "./envelope.ts";
import type { Mode } from "./names.ts";
import type { SecretRow } from "./rows.ts";

type NewVersion = { tenant: string; name: string; mode: Mode; jurisdictions: string[]; by: string | null };

/** Inside a write transaction: seals `bytes` as the next version. Call pruneHistory after it. */
export function writeVersion(ctx: VaultContext, current: SecretRow | undefined, v: NewVersion, bytes: Uint8Array): number {
  const at = ctx.at();
  const version = (current?.current_version ?? 0) + 1;
  const id = { tenant: v.tenant, name: v.name, version };
  const sealed = sealValue(ctx.master(), id, bytes);
  if (current === undefined) ctx.rows.insertSecret({ ...v, version, at });
  else ctx.rows.advance({ ...v, version, at });
  ctx.rows.insertVersion(id, sealed, at, v.by);
  return version;
}

/** Inside the same transaction: removes the versions beyond the kept history. */
export function pruneHistory(ctx: VaultContext, v: { tenant: string; name: string; by: string | null }, version: number): void {
  const keepFrom = version - ctx.keepVersions + 1;
  const old = ctx.rows
    .versions(v.tenant, v.name)
    .filter((r) => r.version < keepFrom)
    .map((r) => r.version);
  if (old.length > 0) {
    ctx.rows.prune(v.tenant, v.name, keepFrom);
    ctx.removed = true;
    ctx.emit({ type: "secret.destroyed", tenant: v.tenant, name: v.name, versions: old, reason: "pruned", by: v.by });
  }
}

/** Runs a write that may remove key material: scrubbed, atomic, then the WAL flushed if it did. */
export function scrubbedWrite<T>(ctx: VaultContext, fn: () => T): T {
  ctx.removed = false;
  const out = scrubbing(ctx.db, () => atomic(ctx.db, fn));
  if (ctx.removed) flushWal(ctx.db);
  ctx.removed = false;
  return out;
}

export function softDelete(
  ctx: VaultContext,
  tenant: string,
  name: string,
  cas: number,
  by: string | null,
): { version: number; deleted_at: string } {
  return atomic(ctx.db, () => {
    const s = mustExist(ctx, tenant, name);
    checkCas(tenant, name, s, cas);
    if (s.deleted_at !== null) return { version: s.current_version, deleted_at: s.deleted_at }; // already: nothing to do
    const at = ctx.at();
    ctx.rows.setDeleted(tenant, name, at, at);
    ctx.emit({ type: "secret.deleted", tenant, name, by });
    return { version: s.current_version, deleted_at: at };
  });
}

export function undelete(ctx: VaultContext, tenant: string, name: string, cas: number | undefined, by: string | null): { version: number } {
  return atomic(ctx.db, () => {
    const s = mustExist(ctx, tenant, name);
    checkCas(tenant, name, s, cas);
    if (s.deleted_at === null) return { version: s.current_version };
    ctx.rows.setDeleted(tenant, name, null, ctx.at());
    ctx.emit({ type: "secret.undeleted", tenant, name, by });
    return { version: s.current_version };
  });
}

/** Destroys `versions` (default: all) of a secret; returns the versions this call destroyed. */
export function destroy(
  ctx: VaultContext,
  tenant: string,
  name: string,
  versions: number[] | undefined,
  cas: number | undefined,
  by: string | null,
): { destroyed: number[] } {
  const out = scrubbedWrite(ctx, () => {
    const s = mustExist(ctx, tenant, name);
    checkCas(tenant, name, s, cas);
    const kept = ctx.rows.versions(tenant, name);
    const wanted = versions ?? kept.map((r) => r.version);
    const missing = wanted.filter((v) => !kept.some((r) => r.version === v));
    if (missing.length > 0) {
      throw new CboError(
        "ERR_NOT_FOUND",
        `secret ${name} has no version ${missing.join(", ")} (kept: ${kept.map((r) => r.version).join(", ") || "none"})`,
        {
          details: { tenant, name, missing },
        },
      );
    }
    const at = ctx.at();
    const destroyed = wanted.filter((version) => ctx.rows.destroy({ tenant, name, version }, at));
    ctx.removed = destroyed.length > 0;
    if (ctx.rows.versions(tenant, name).every((r) => r.destroyed_at !== null)) ctx.rows.setDestroyed(tenant, name, at, at);
    if (destroyed.length > 0) ctx.emit({ type: "secret.destroyed", tenant, name, versions: destroyed, reason: "destroy", by });
    return { destroyed };
  });
  if (out.destroyed.length > 0) ctx.log.info(`vault: destroyed version(s) ${out.destroyed.join(", ")} of ${tenant}/${name}`);
  return out;
}
