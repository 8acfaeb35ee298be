// Published config versions and what each target was given (006_config_sync.sql).
import * as z from "zod";
import { nowIso, type Db } from "./db.ts";

export type ConfigVersionRow = {
  tenant: string;
  worker: string;
  version: number;
  hash: string;
  configs: Record<string, Record<string, unknown>>;
  rollback_of: number | null;
  created_at: string;
  created_by: string | null;
};
export type ConfigTargetRow = {
  tenant: string;
  worker: string;
  target: string;
  version: number;
  issued_at: string;
  written_at: string;
  poke: string;
  applied_at: string | null;
};

const ConfigsSchema = z.record(z.string(), z.record(z.string(), z.unknown()));
type Raw = Omit<ConfigVersionRow, "configs"> & { configs: string };
const toRow = (r: Raw): ConfigVersionRow => ({ ...r, configs: ConfigsSchema.parse(JSON.parse(r.configs)) });

export function createConfigSyncStore(db: Db) {
  // Asked on every heartbeat: prepared once.
  const targetsOf = db.prepare("SELECT * FROM config_targets WHERE tenant = ? AND worker = ? ORDER BY target");
  const markApplied = db.prepare(
    "UPDATE config_targets SET applied_at = ? WHERE tenant = ? AND worker = ? AND target = ? AND version = ? AND applied_at IS NULL",
  );
  return {
    /** The next version number of a worker's config (versions never repeat, rollbacks included). */
    nextVersion(tenant: string, worker: string): number {
      const r = db.prepare("SELECT MAX(version) AS v FROM config_versions WHERE tenant = ? AND worker = ?").get(tenant, worker) as {
        v: number | null;
      };
      return (r.v ?? 0) + 1;
    },
    insertVersion(v: Omit<ConfigVersionRow, "created_at">): ConfigVersionRow {
      const created_at = nowIso();
      db.prepare(
        "INSERT INTO config_versions (tenant, worker, version, hash, configs, rollback_of, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      ).run(v.tenant, v.worker, v.version, v.hash, JSON.stringify(v.configs), v.rollback_of, created_at, v.created_by);
      return { ...v, created_at };
    },
    version(tenant: string, worker: string, version: number): ConfigVersionRow | undefined {
      const r = db.prepare("SELECT * FROM config_versions WHERE tenant = ? AND worker = ? AND version = ?").get(tenant, worker, version) as
        | Raw
        | undefined;
      return r && toRow(r);
    },
    /** Newest first. */
    history(tenant: string, worker: string, limit = 100): ConfigVersionRow[] {
      return (
        db
          .prepare("SELECT * FROM config_versions WHERE tenant = ? AND worker = ? ORDER BY version DESC LIMIT ?")
          .all(tenant, worker, limit) as Raw[]
      ).map(toRow);
    },
    latest(tenant: string, worker: string): ConfigVersionRow | undefined {
      return this.history(tenant, worker, 1)[0];
    },
    /** A bundle written to a target's KV (not yet applied there). */
    setTarget(t: Omit<ConfigTargetRow, "applied_at" | "poke"> & { poke?: string }): void {
      db.prepare(
        `INSERT INTO config_targets (tenant, worker, target, version, issued_at, written_at, poke, applied_at) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)
         ON CONFLICT (tenant, worker, target) DO UPDATE SET version = excluded.version, issued_at = excluded.issued_at, written_at = excluded.written_at, poke = excluded.poke, applied_at = NULL`,
      ).run(t.tenant, t.worker, t.target, t.version, t.issued_at, t.written_at, t.poke ?? "pending");
    },
    setPoke(tenant: string, worker: string, target: string, version: number, poke: string): void {
      db.prepare("UPDATE config_targets SET poke = ? WHERE tenant = ? AND worker = ? AND target = ? AND version = ?").run(
        poke,
        tenant,
        worker,
        target,
        version,
      );
    },
    /** The first report of `version` running on the target; true when this call recorded it. */
    markApplied(tenant: string, worker: string, target: string, version: number, at: string): boolean {
      return markApplied.run(at, tenant, worker, target, version).changes > 0;
    },
    targets(tenant: string, worker?: string): ConfigTargetRow[] {
      return worker
        ? (targetsOf.all(tenant, worker) as ConfigTargetRow[])
        : (db.prepare("SELECT * FROM config_targets WHERE tenant = ? ORDER BY worker, target").all(tenant) as ConfigTargetRow[]);
    },
  };
}
export type ConfigSyncStore = ReturnType<typeof createConfigSyncStore>;
