// Master-key rotation by re-wrapping. Only the 60-byte wrapped data keys (and the audit hash key)
// change, in one transaction: values are never re-encrypted, readers of the WAL see either the
// old state or the new one, and a crash anywhere leaves the old state whole. This process swaps
// its key the moment the transaction commits, so its reads keep working throughout; the old key
// id is retired and refused from then on.
import { CboError } from "../kit/errors.ts";
import { atomic, flushWal, scrubbing } from "./atomic.ts";
import type { VaultContext } from "./context.ts";
import { rewrapDataKey } from "./envelope.ts";
import { isRetired, rotateKeyring } from "./keyring.ts";
import type { MasterKey } from "./master-key.ts";

export type Rotation = { from_key: string; to_key: string; rewrapped: number };

export function rotateMasterKey(ctx: VaultContext, next: MasterKey, by: string | null): Rotation {
  const prev = ctx.master();
  if (next.id === prev.id) throw new CboError("ERR_CONFLICT", `master key ${next.id} already seals this vault`);
  if (isRetired(ctx.db, next.id)) throw new CboError("ERR_CONFLICT", `master key ${next.id} was retired; rotate to a new key`);
  // The in-memory key must follow the database: inside a caller's transaction, that caller could
  // still roll the rotation back after we had switched.
  if (ctx.db.isTransaction) throw new CboError("ERR_INTERNAL", "rotateMasterKey must not run inside another transaction");
  const at = ctx.at();
  const rewrapped = scrubbing(ctx.db, () =>
    atomic(ctx.db, () => {
      let n = 0;
      for (const r of ctx.rows.liveVersions()) {
        const id = { tenant: r.tenant, name: r.name, version: r.version };
        ctx.rows.rewrap(id, rewrapDataKey(prev, next, id, r.wrapped_key, r.key_id), next.id);
        n++;
      }
      rotateKeyring(ctx.db, prev, next, ctx.hashKey, at);
      ctx.emit({ type: "vault.key_rotated", from_key: prev.id, to_key: next.id, rewrapped: n, by });
      return n;
    }),
  );
  ctx.setMaster(next);
  flushWal(ctx.db);
  ctx.log.info(`vault: master key rotated ${prev.id} -> ${next.id}; ${rewrapped} data key(s) re-wrapped, ${prev.id} retired`);
  return { from_key: prev.id, to_key: next.id, rewrapped };
}
