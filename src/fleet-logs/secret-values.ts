// What redaction must mask for one worker: the values of the vault secrets it lists (every version
// the vault keeps, since a rolled-back Worker runs an older one) and its per-Worker keys on each
// target, each in the forms a log could show them in (redact.ts). Values are read from the vault
// once per version, with purpose `redact` (each read is on the audit record once), and kept in the
// daemon's memory like the keys the relay already holds; a new version is read when it appears.
import type { ResolvedSpec } from "../config/load.ts";
import type { Vault } from "../vault/index.ts";
import type { WorkerKeys } from "../vault/worker-keys.ts";
import { keyForms, secretForms } from "./redact.ts";
import type { Logger } from "../telemetry/index.ts";

export const REDACT_ACTOR = "fleet-logs";

export type SecretValueSource = {
  /** The strings to mask in this worker's lines (longest first). */
  forWorker(worker: string): string[];
  /** A shipping header's value: the vault secret `name`, read once per version (purpose `deliver`). */
  headerValue(name: string): string;
};

export function createSecretValues(deps: {
  vault: Pick<Vault, "versions" | "getText" | "info">;
  workerKeys: Pick<WorkerKeys, "verifying">;
  spec: () => ResolvedSpec;
  /** How long one worker's list is reused before the vault is asked for new versions. */
  refreshMs?: number;
  log?: Logger;
}): SecretValueSource {
  const refreshMs = deps.refreshMs ?? 2_000;
  const byVersion = new Map<string, string[]>();
  const perWorker = new Map<string, { at: number; values: string[] }>();

  function collect(worker: string): string[] {
    const spec = deps.spec();
    const w = spec.workers.find((x) => x.name === worker);
    if (!w) return [];
    const values = new Set<string>();
    for (const name of w.secrets) {
      let versions: Array<{ version: number; destroyed: boolean }> = [];
      try {
        versions = deps.vault.versions(name, { tenant: spec.tenant });
      } catch {
        continue; // not in the vault (yet): nothing of it can be in a log
      }
      for (const v of versions) {
        const key = `${spec.tenant}/${name}@${v.version}`;
        let forms = byVersion.get(key);
        if (!forms && !v.destroyed) {
          try {
            forms = secretForms(
              deps.vault.getText(name, { tenant: spec.tenant, version: v.version, purpose: "redact", by: REDACT_ACTOR }).value,
            );
          } catch {
            forms = undefined; // deleted: the forms read before still apply
          }
          if (forms) byVersion.set(key, forms);
        }
        for (const f of forms ?? []) values.add(f);
      }
    }
    for (const target of w.targets) {
      try {
        for (const k of deps.workerKeys.verifying({ tenant: spec.tenant, worker, target }, REDACT_ACTOR))
          for (const f of keyForms(k.key)) values.add(f);
      } catch (e) {
        deps.log?.warn(
          `fleet logs: the keys of ${worker} on ${target} could not be read for redaction: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
    }
    // Longest first: a value that contains another is masked whole.
    return [...values].sort((a, b) => b.length - a.length);
  }

  const headers = new Map<string, { version: number; value: string }>();

  return {
    headerValue(name) {
      const tenant = deps.spec().tenant;
      const version = deps.vault.info(name, { tenant }).version;
      const hit = headers.get(name);
      if (hit && hit.version === version) return hit.value;
      const value = deps.vault.getText(name, { tenant, version, purpose: "deliver", by: REDACT_ACTOR }).value;
      headers.set(name, { version, value });
      return value;
    },
    forWorker(worker) {
      const hit = perWorker.get(worker);
      if (hit && Date.now() - hit.at < refreshMs) return hit.values;
      const values = collect(worker);
      perWorker.set(worker, { at: Date.now(), values });
      return values;
    },
  };
}
