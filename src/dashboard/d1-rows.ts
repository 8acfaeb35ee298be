// The D1 page's rows: for each release that migrated a D1 database in a target, one row (worker,
// target, binding, database, the files it planned). Each such release took a Time Travel bookmark
// there before its first migration: what `cbo d1 restore --to-release` goes back to. Pure: read
// from the releases' stored plans, defensively (a plan of an older daemon may lack the fields).
import type { Release } from "./types.ts";

export type D1Row = {
  worker: string;
  target: string;
  binding: string;
  database: string;
  release: string;
  status: Release["status"];
  at: string;
  /** The migration files the release planned there (expand, then contract). */
  files: string[];
};

type Planned = { binding?: unknown; database?: unknown; pending?: unknown };
const list = (v: unknown): Planned[] => (Array.isArray(v) ? v.filter((x): x is Planned => typeof x === "object" && x !== null) : []);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);

/** Newest release first (as the API lists them); releases that changed nothing there are left out. */
export function d1Rows(releases: Release[]): D1Row[] {
  const rows: D1Row[] = [];
  for (const r of releases) {
    // Only a release ran migrations: a rollback or an unchanged release took no bookmark.
    if (r.kind !== "release" || r.status === "unchanged") continue;
    const targets = Array.isArray(r.plan.targets) ? (r.plan.targets as Array<Record<string, unknown>>) : [];
    for (const t of targets) {
      if (typeof t?.name !== "string") continue;
      const byBinding = new Map<string, D1Row>();
      for (const d of [...list(t.d1Migrations), ...list(t.d1Contract)]) {
        if (typeof d.binding !== "string" || typeof d.database !== "string") continue;
        const row = byBinding.get(d.binding) ?? {
          worker: r.worker,
          target: t.name,
          binding: d.binding,
          database: d.database,
          release: r.id,
          status: r.status,
          at: r.created_at,
          files: [],
        };
        row.files.push(...strings(d.pending));
        byBinding.set(d.binding, row);
      }
      rows.push(...byBinding.values());
    }
  }
  return rows;
}
