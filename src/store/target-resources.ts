// The resources each target holds for the logical names Workers bind (008_target_resources.sql):
// what a release found or created, and which release created it. Written by the release engine,
// read by status and the plan (a resource the orchestrator created is named as such).
import { nowIso, type Db } from "./db.ts";

export type TargetResourceRow = {
  tenant: string;
  target: string;
  kind: "kv" | "d1" | "r2" | "queue";
  name: string;
  /** '' when none. */
  jurisdiction: string;
  account_id: string;
  resource_id: string;
  /** The release that created it; null when a release found it there. */
  created_by: string | null;
  /** The first release that used it. */
  first_seen_by: string;
  updated_at: string;
};

export function createTargetResourceStore(db: Db) {
  return {
    /** Records a resource a release found or created; the creating release is kept once known. */
    record(r: Omit<TargetResourceRow, "updated_at" | "first_seen_by"> & { release: string }): void {
      db.prepare(
        `INSERT INTO target_resources (tenant, target, kind, name, jurisdiction, account_id, resource_id, created_by, first_seen_by, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (tenant, target, kind, name, jurisdiction) DO UPDATE SET account_id = excluded.account_id,
           resource_id = excluded.resource_id, created_by = COALESCE(excluded.created_by, target_resources.created_by),
           updated_at = excluded.updated_at`,
      ).run(r.tenant, r.target, r.kind, r.name, r.jurisdiction, r.account_id, r.resource_id, r.created_by, r.release, nowIso());
    },
    list(tenant: string, target?: string): TargetResourceRow[] {
      return (
        target === undefined
          ? db.prepare("SELECT * FROM target_resources WHERE tenant = ? ORDER BY target, kind, name").all(tenant)
          : db.prepare("SELECT * FROM target_resources WHERE tenant = ? AND target = ? ORDER BY kind, name").all(tenant, target)
      ) as TargetResourceRow[];
    },
  };
}
