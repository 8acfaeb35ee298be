// Per-Worker keys: one HMAC key per worker and target, with which a Worker signs what it sends the
// orchestrator (relay requests, heartbeats) and to which relayed values are sealed. Each key is a
// version of a reserved vault secret, so it is envelope-encrypted, audited and backed up like any
// secret; `worker_keys.accepted` says which versions verify now.
//
// Rotation:  accepted [v1] ──rotate──> [v2, v1]  (the next release ships v2; both verify meanwhile)
//            [v2, v1] ──retire(v2) after the release shipped v2 everywhere──> [v2]
// A Worker version rolled back to after its key was retired is refused until released again.
import * as z from "zod";
import { CboError } from "../kit/errors.ts";
import { HMAC_KEY_BYTES } from "../kit/signing/index.ts";
import { nowIso, type Db } from "../store/db.ts";
import type { Vault } from "./secret-store.ts";

export const WORKER_KEY_PREFIX = "__worker_key.";
export const workerKeySecret = (worker: string, target: string) => `${WORKER_KEY_PREFIX}${worker}.${target}`;

const AcceptedSchema = z.array(z.number().int().min(1)).min(1);
type Ref = { tenant: string; worker: string; target: string };
export type WorkerKey = { version: number; key: Uint8Array };
export type WorkerKeyState = Ref & { current: number; accepted: number[]; updatedAt: string };

export function createWorkerKeys(db: Db, vault: Vault) {
  // Decrypted keys, by secret and version: every relay request verifies with them, and reading the
  // vault each time would put two audit entries per request on the record for no new fact.
  const cache = new Map<string, Uint8Array>();
  const cacheKey = (r: Ref, v: number) => `${r.tenant}/${workerKeySecret(r.worker, r.target)}@${v}`;

  const selectRow = db.prepare("SELECT accepted, updated_at FROM worker_keys WHERE tenant = ? AND worker = ? AND target = ?");
  const row = (r: Ref) => selectRow.get(r.tenant, r.worker, r.target) as { accepted: string; updated_at: string } | undefined;
  // Which versions verify, asked on every signed request: remembered for a second (rotations in
  // this process update it at once; another process's shows within the second).
  const acceptedCache = new Map<string, { at: number; versions: number[] | undefined }>();
  const refKey = (r: Ref) => `${r.tenant}/${r.worker}/${r.target}`;
  const accepted = (r: Ref): number[] | undefined => {
    const hit = acceptedCache.get(refKey(r));
    if (hit && Date.now() - hit.at < 1000) return hit.versions;
    const found = row(r);
    const versions = found && AcceptedSchema.parse(JSON.parse(found.accepted));
    acceptedCache.set(refKey(r), { at: Date.now(), versions });
    return versions;
  };
  const setAccepted = (r: Ref, versions: number[]) => {
    acceptedCache.delete(refKey(r));
    return db
      .prepare(
        "INSERT INTO worker_keys (tenant, worker, target, accepted, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant, worker, target) DO UPDATE SET accepted = excluded.accepted, updated_at = excluded.updated_at",
      )
      .run(r.tenant, r.worker, r.target, JSON.stringify(versions), nowIso());
  };

  function read(r: Ref, version: number, by: string): Uint8Array {
    const k = cacheKey(r, version);
    let key = cache.get(k);
    if (!key) {
      key = vault.get(workerKeySecret(r.worker, r.target), { tenant: r.tenant, version, purpose: "deliver", by }).value;
      cache.set(k, key);
    }
    return key;
  }

  function create(r: Ref, by: string, cas: number): number {
    const key = crypto.getRandomValues(new Uint8Array(HMAC_KEY_BYTES));
    try {
      return vault.put(workerKeySecret(r.worker, r.target), key, { tenant: r.tenant, cas, mode: "relay", by }).version;
    } finally {
      key.fill(0);
    }
  }

  return {
    /** The key a release ships to this Worker on this target; made on first use. */
    current(r: Ref, by: string): WorkerKey {
      let versions = accepted(r);
      if (!versions) {
        const version = create(r, by, 0);
        setAccepted(r, [version]);
        versions = [version];
      }
      return { version: versions[0]!, key: read(r, versions[0]!, by) };
    },

    /** Keys that verify a signature now, newest first (none: the Worker was never given a key). */
    verifying(r: Ref, by: string): WorkerKey[] {
      return (accepted(r) ?? []).map((version) => ({ version, key: read(r, version, by) }));
    },

    /** A new key; the previous one keeps verifying until retire(). */
    rotate(r: Ref, by: string): { version: number; accepted: number[] } {
      const before = accepted(r);
      if (!before)
        throw new CboError("ERR_NOT_FOUND", `Worker ${r.worker} has no key on ${r.target} yet: release it first.`, { details: r });
      const info = vault.info(workerKeySecret(r.worker, r.target), { tenant: r.tenant });
      const version = create(r, by, info.version);
      const next = [version, before[0]!];
      setAccepted(r, next);
      return { version, accepted: next };
    },

    /** Only `keep` verifies from now on (after a release shipped it). */
    retire(r: Ref, keep: number): number[] {
      const before = accepted(r);
      if (!before?.includes(keep))
        throw new CboError("ERR_CONFLICT", `Key version ${keep} of ${r.worker} on ${r.target} is not accepted.`, {
          details: { ...r, accepted: before ?? [] },
        });
      setAccepted(r, [keep]);
      for (const v of before) if (v !== keep) cache.get(cacheKey(r, v))?.fill(0), cache.delete(cacheKey(r, v));
      return [keep];
    },

    list(tenant: string): WorkerKeyState[] {
      const rows = db
        .prepare("SELECT worker, target, accepted, updated_at FROM worker_keys WHERE tenant = ? ORDER BY worker, target")
        .all(tenant) as Array<{ worker: string; target: string; accepted: string; updated_at: string }>;
      return rows.map((x) => {
        const acc = AcceptedSchema.parse(JSON.parse(x.accepted));
        return { tenant, worker: x.worker, target: x.target, current: acc[0]!, accepted: acc, updatedAt: x.updated_at };
      });
    },
  };
}
export type WorkerKeys = ReturnType<typeof createWorkerKeys>;
