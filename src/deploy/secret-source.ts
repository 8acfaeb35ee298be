// The engine's view of the vault: policies without values, values only for binding deliveries,
// and the per-Worker keys. Deploy depends on this adapter, not on the vault's whole surface.
import { isCboError } from "../kit/errors.ts";
import type { Vault } from "../vault/index.ts";
import type { WorkerKeys } from "../vault/worker-keys.ts";
import type { SecretPolicy, SecretSource } from "./types.ts";

export function vaultSecretSource(vault: Vault, keys: WorkerKeys): SecretSource {
  return {
    describe(tenant, names) {
      const out = new Map<string, SecretPolicy | undefined>();
      for (const name of names) {
        try {
          const s = vault.info(name, { tenant });
          out.set(name, s.deleted || s.destroyed ? undefined : { version: s.version, mode: s.mode, jurisdictions: s.jurisdictions });
        } catch (e) {
          if (!isCboError(e) || e.code !== "ERR_NOT_FOUND") throw e;
          out.set(name, undefined);
        }
      }
      return out;
    },
    read: (tenant, name, version, by) => vault.getText(name, { tenant, version, purpose: "deliver", by }).value,
    workerKey: (tenant, worker, target, by) => keys.current({ tenant, worker, target }, by),
    shipped(tenant, worker, target, version) {
      const ref = { tenant, worker, target };
      const state = keys.list(tenant).find((k) => k.worker === worker && k.target === target);
      if (state && state.accepted.length > 1 && state.current === version) keys.retire(ref, version);
    },
  };
}
