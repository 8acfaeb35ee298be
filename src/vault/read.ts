// The one way a secret's value is decrypted. Every caller (get, rollback, and delivery later)
// comes through readValue, which reports the read to the audit hook before handing the value out:
// if the hook throws, the value is wiped and never returned (the audit path fails closed).
import { CboError } from "../kit/errors.ts";
import { mustExist, type VaultContext } from "./context.ts";
import { openValue, type Identity } from "./envelope.ts";
import type { ReadPurpose } from "./events.ts";
import { sealedOf } from "./rows.ts";

export function readValue(ctx: VaultContext, id: Identity, purpose: ReadPurpose, by: string | null): Buffer {
  const row = ctx.rows.version(id);
  if (row === undefined) {
    throw new CboError("ERR_NOT_FOUND", `secret ${id.name} has no version ${id.version} (the vault keeps the last ${ctx.keepVersions})`, {
      details: { ...id },
    });
  }
  if (row.destroyed_at !== null) {
    throw new CboError("ERR_NOT_FOUND", `version ${id.version} of secret ${id.name} was destroyed on ${row.destroyed_at}`, {
      details: { ...id, destroyed_at: row.destroyed_at },
    });
  }
  const value = openValue(ctx.master(), id, sealedOf(row));
  try {
    ctx.emit({ type: "secret.read", tenant: id.tenant, name: id.name, version: id.version, purpose, by });
  } catch (e) {
    value.fill(0);
    throw e;
  }
  ctx.revealed?.(value);
  return value;
}

/** A live secret's value at `version` (default: current); deleted secrets read as not found. */
export function readSecret(
  ctx: VaultContext,
  tenant: string,
  name: string,
  version: number | undefined,
  purpose: ReadPurpose,
  by: string | null,
) {
  const s = mustExist(ctx, tenant, name);
  if (s.deleted_at !== null) {
    throw new CboError("ERR_NOT_FOUND", `secret ${name} is deleted`, {
      details: { tenant, name, deleted_at: s.deleted_at },
      hint: "undelete it to read it again",
    });
  }
  const v = version ?? s.current_version;
  return { version: v, value: readValue(ctx, { tenant, name, version: v }, purpose, by) };
}
