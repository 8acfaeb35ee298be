// Targets, workers and the versions the orchestrator knows per target: the registry side of
// the store (small tables, one function each).
import * as z from "zod";
import { nowIso, type Db } from "./db.ts";

export type TargetRow = {
  tenant: string;
  name: string;
  api: string;
  account_id: string;
  region: string | null;
  jurisdiction: string | null;
  kv_namespace: string | null;
  updated_at: string;
};
export type WorkerRow = { tenant: string; name: string; spec: Record<string, unknown>; updated_at: string };
/** Secret versions a Worker version shipped with (004_delivery.sql). */
export type SecretPins = { secrets: Record<string, number>; workerKey?: number };
export type VersionRow = {
  tenant: string;
  worker: string;
  target: string;
  version_id: string;
  release_id: string | null;
  bundle_hash: string | null;
  created_at: string;
  secrets?: SecretPins | null;
  /** Its modules and assets manifest as uploaded (010_version_facts.sql); null for older rows. */
  facts?: VersionFacts | null;
};
/** What a version holds that the edge does not return: the hash of its code, each module's hash, its assets (path -> hash). */
export type VersionFacts = { code: string; modules: Record<string, string>; assets?: Record<string, string> };

const PinsSchema = z
  .object({ secrets: z.record(z.string(), z.number().int().min(1)), workerKey: z.number().int().min(1).optional() })
  .strict();
const FactsSchema = z
  .object({ code: z.string(), modules: z.record(z.string(), z.string()), assets: z.record(z.string(), z.string()).optional() })
  .strict();
type RawVersion = Omit<VersionRow, "secrets" | "facts"> & { secrets: string | null; facts?: string | null };
const toVersion = (r: RawVersion): VersionRow => ({
  ...r,
  secrets: r.secrets === null ? null : PinsSchema.parse(JSON.parse(r.secrets)),
  facts: r.facts == null ? null : FactsSchema.parse(JSON.parse(r.facts)),
});

export function createCatalogStore(db: Db) {
  return {
    upsertTarget(t: Omit<TargetRow, "updated_at">): void {
      db.prepare(
        `INSERT INTO targets (tenant, name, api, account_id, region, jurisdiction, kv_namespace, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (tenant, name) DO UPDATE SET api = excluded.api, account_id = excluded.account_id, region = excluded.region,
           jurisdiction = excluded.jurisdiction, kv_namespace = excluded.kv_namespace, updated_at = excluded.updated_at`,
      ).run(t.tenant, t.name, t.api, t.account_id, t.region, t.jurisdiction, t.kv_namespace, nowIso());
    },
    targets(tenant = "default"): TargetRow[] {
      return db.prepare("SELECT * FROM targets WHERE tenant = ? ORDER BY name").all(tenant) as TargetRow[];
    },
    upsertWorker(tenant: string, name: string, spec: Record<string, unknown>): void {
      db.prepare(
        `INSERT INTO workers (tenant, name, spec, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (tenant, name) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at`,
      ).run(tenant, name, JSON.stringify(spec), nowIso());
    },
    workers(tenant = "default"): WorkerRow[] {
      return (db.prepare("SELECT * FROM workers WHERE tenant = ? ORDER BY name").all(tenant) as Array<Record<string, unknown>>).map(
        (r) => ({
          tenant: r.tenant as string,
          name: r.name as string,
          spec: JSON.parse(r.spec as string),
          updated_at: r.updated_at as string,
        }),
      );
    },
    recordVersion(v: Omit<VersionRow, "created_at">): void {
      db.prepare(
        "INSERT OR IGNORE INTO versions (tenant, worker, target, version_id, release_id, bundle_hash, created_at, secrets, facts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      ).run(
        v.tenant,
        v.worker,
        v.target,
        v.version_id,
        v.release_id,
        v.bundle_hash,
        nowIso(),
        v.secrets ? JSON.stringify(PinsSchema.parse(v.secrets)) : null,
        v.facts ? JSON.stringify(FactsSchema.parse(v.facts)) : null,
      );
    },
    /** One version we uploaded, with what it shipped; undefined for versions we did not upload. */
    version(tenant: string, target: string, versionId: string): VersionRow | undefined {
      const r = db.prepare("SELECT * FROM versions WHERE tenant = ? AND target = ? AND version_id = ?").get(tenant, target, versionId) as
        | RawVersion
        | undefined;
      return r && toVersion(r);
    },
    /**
     * Newest first (created_at, then insertion order). `before` names the last version of the
     * previous page: a keyset, so the next page has neither a duplicate nor a gap while new
     * versions are recorded.
     */
    versions(
      tenant: string,
      worker: string,
      target?: string,
      limit = 100,
      before?: { created_at: string; target: string; version_id: string },
    ): VersionRow[] {
      const where = ["tenant = ?", "worker = ?"];
      const args: Array<string | number> = [tenant, worker];
      if (target) where.push("target = ?"), args.push(target);
      if (before)
        where.push("(created_at, rowid) < (?, (SELECT rowid FROM versions WHERE tenant = ? AND target = ? AND version_id = ?))"),
          args.push(before.created_at, tenant, before.target, before.version_id);
      const rows = db
        .prepare(`SELECT * FROM versions WHERE ${where.join(" AND ")} ORDER BY created_at DESC, rowid DESC LIMIT ?`)
        .all(...args, limit) as RawVersion[];
      return rows.map(toVersion);
    },
  };
}
export type CatalogStore = ReturnType<typeof createCatalogStore>;
