// Current drift per worker and target (005_drift.sql). A definite verdict (in sync / drifted) is
// written with record(), which returns the row it replaced so that the checker emits events on
// transitions only; a pass that can give no verdict (release unfinished, edge unreadable) uses
// mark(), which keeps the last verdict and says why there is none now.
import * as z from "zod";
import { DRIFT_STATUSES, type DriftStatus } from "../contract/index.ts";
import { nowIso, type Db } from "./db.ts";

export type { DriftStatus };

const Split = z.array(z.object({ versionId: z.string(), percentage: z.number() }));

export const DriftRowSchema = z.object({
  tenant: z.string(),
  worker: z.string(),
  target: z.string(),
  status: z.enum(DRIFT_STATUSES),
  drifted: z.boolean(),
  kinds: z.array(z.string()),
  detail: z.string(),
  desired: Split.nullable(),
  observed: Split.nullable(),
  differences: z.array(z.record(z.string(), z.unknown())),
  signature: z.string().nullable(),
  note: z.string().nullable(),
  revert: z.string().nullable(),
  since: z.string().nullable(),
  checked_at: z.string(),
  changed_at: z.string(),
});
export type DriftRow = z.infer<typeof DriftRowSchema>;

export type DriftKey = { tenant: string; worker: string; target: string };
export type DriftVerdictInput = DriftKey & {
  drifted: boolean;
  kinds: string[];
  detail: string;
  desired: DriftRow["desired"];
  observed: DriftRow["observed"];
  differences: DriftRow["differences"];
  signature: string | null;
};

type Raw = Record<string, unknown>;
const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));
const parse = (s: unknown) => (typeof s === "string" ? JSON.parse(s) : null);
const toRow = (r: Raw): DriftRow =>
  DriftRowSchema.parse({
    ...r,
    drifted: r.drifted === 1,
    kinds: parse(r.kinds),
    desired: parse(r.desired),
    observed: parse(r.observed),
    differences: parse(r.differences),
  });

export function createDriftStore(db: Db) {
  const get = (k: DriftKey): DriftRow | undefined => {
    const r = db.prepare("SELECT * FROM drift WHERE tenant = ? AND worker = ? AND target = ?").get(k.tenant, k.worker, k.target) as
      | Raw
      | undefined;
    return r && toRow(r);
  };
  const upsert = (row: DriftRow): void => {
    db.prepare(
      `INSERT INTO drift (tenant, worker, target, status, drifted, kinds, detail, desired, observed, differences, signature, note, revert, since, checked_at, changed_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (tenant, worker, target) DO UPDATE SET status = excluded.status, drifted = excluded.drifted, kinds = excluded.kinds,
         detail = excluded.detail, desired = excluded.desired, observed = excluded.observed, differences = excluded.differences,
         signature = excluded.signature, note = excluded.note, revert = excluded.revert, since = excluded.since,
         checked_at = excluded.checked_at, changed_at = excluded.changed_at`,
    ).run(
      row.tenant,
      row.worker,
      row.target,
      row.status,
      row.drifted ? 1 : 0,
      JSON.stringify(row.kinds),
      row.detail,
      json(row.desired),
      json(row.observed),
      JSON.stringify(row.differences),
      row.signature,
      row.note,
      row.revert,
      row.since,
      row.checked_at,
      row.changed_at,
    );
  };

  return {
    get,
    list(tenant = "default"): DriftRow[] {
      return (db.prepare("SELECT * FROM drift WHERE tenant = ? ORDER BY worker, target").all(tenant) as Raw[]).map(toRow);
    },
    /** Writes a definite verdict; returns the row it replaced (undefined on the first one). */
    record(v: DriftVerdictInput): { previous: DriftRow | undefined; row: DriftRow } {
      const previous = get(v);
      const at = nowIso();
      const status: DriftStatus = v.drifted ? "drifted" : "in_sync";
      const sameDrift = v.drifted && previous?.drifted === true;
      const row: DriftRow = {
        ...v,
        status,
        note: null,
        // A revert note and the start time belong to one drift; a new one (or none) starts afresh.
        revert: sameDrift ? (previous?.revert ?? null) : null,
        since: v.drifted ? (sameDrift ? (previous?.since ?? at) : at) : null,
        checked_at: at,
        changed_at: previous?.status === status ? previous.changed_at : at,
      };
      upsert(row);
      return { previous, row };
    },
    /** No verdict this pass (`pending` or `unknown`, and why); the last verdict is kept. */
    mark(k: DriftKey, status: "pending" | "unknown", note: string): DriftRow {
      const previous = get(k);
      const at = nowIso();
      const row: DriftRow = previous
        ? { ...previous, status, note, checked_at: at, changed_at: previous.status === status ? previous.changed_at : at }
        : {
            ...k,
            status,
            drifted: false,
            kinds: [],
            detail: "",
            desired: null,
            observed: null,
            differences: [],
            signature: null,
            note,
            revert: null,
            since: null,
            checked_at: at,
            changed_at: at,
          };
      upsert(row);
      return row;
    },
    /** What the last revert attempt of the current drift did (shown with it). */
    noteRevert(k: DriftKey, text: string): void {
      db.prepare("UPDATE drift SET revert = ? WHERE tenant = ? AND worker = ? AND target = ?").run(text, k.tenant, k.worker, k.target);
    },
  };
}
export type DriftStore = ReturnType<typeof createDriftStore>;
