// Releases and their write-ahead journal. A release's status changes only here, and every
// journal entry is appended in order, so a restart can replay exactly what was done.
// The record and journal shapes are the contract's (src/contract/releases.ts): what is stored is
// what the API sends, and rows read back are checked against it.
import { JournalEntrySchema, ReleaseSchema, type JournalEntry, type Release, type ReleaseStatus } from "../contract/index.ts";
import { nowIso, tx, type Db } from "./db.ts";

export type { JournalEntry, Release, ReleaseStatus };

type Row = Record<string, unknown>;
const toRelease = (r: Row): Release => ReleaseSchema.parse({ ...r, plan: JSON.parse(r.plan as string) });
const toEntry = (r: Row): JournalEntry => JournalEntrySchema.parse({ ...r, data: JSON.parse(r.data as string) });

export function createReleaseStore(db: Db) {
  // Bumped by every write below: readers that keep what they derived from releases (the drift
  // checker's desired state, read every second) re-read only when it moved. A write rolled back
  // by an outer transaction bumps it too, which only costs them one re-read.
  let generation = 0;
  return {
    insert(r: Omit<Release, "created_at" | "updated_at">): Release {
      generation++;
      const at = nowIso();
      db.prepare(
        "INSERT INTO releases (id, tenant, worker, kind, status, reason, plan, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      ).run(r.id, r.tenant, r.worker, r.kind, r.status, r.reason, JSON.stringify(r.plan), r.created_by, at, at);
      return { ...r, created_at: at, updated_at: at };
    },
    get(id: string): Release | undefined {
      const r = db.prepare("SELECT * FROM releases WHERE id = ?").get(id) as Row | undefined;
      return r && toRelease(r);
    },
    /**
     * Changes whenever a release or a journal entry is written, here or by another connection to
     * the file (SQLite's data_version): equal stamps mean nothing was written in between.
     */
    stamp(): string {
      const v = db.prepare("PRAGMA data_version").get() as { data_version: number };
      return `${generation}:${v.data_version}`;
    },
    /** `id:status` of the worker's newest release, or "none": without reading its plan. */
    head(worker: string, tenant: string): string {
      const r = db
        .prepare("SELECT id, status FROM releases WHERE worker = ? AND tenant = ? ORDER BY created_at DESC, rowid DESC LIMIT 1")
        .get(worker, tenant) as { id: string; status: string } | undefined;
      return r ? `${r.id}:${r.status}` : "none";
    },
    /**
     * Newest first (created_at, then insertion order). `before` names the last release of the
     * previous page: a keyset, so that page's successor has neither a duplicate nor a gap however
     * many releases start meanwhile.
     */
    list(opts: { worker?: string; tenant?: string; limit?: number; before?: { created_at: string; id: string } } = {}): Release[] {
      const where: string[] = [];
      const args: Array<string | number> = [];
      if (opts.worker) where.push("worker = ?"), args.push(opts.worker);
      if (opts.tenant) where.push("tenant = ?"), args.push(opts.tenant);
      if (opts.before)
        where.push("(created_at, rowid) < (?, (SELECT rowid FROM releases WHERE id = ?))"),
          args.push(opts.before.created_at, opts.before.id);
      args.push(Math.min(opts.limit ?? 100, 1001));
      return (
        db
          .prepare(
            `SELECT * FROM releases ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY created_at DESC, rowid DESC LIMIT ?`,
          )
          .all(...args) as Row[]
      ).map(toRelease);
    },
    /** Releases that were not finished: what a restart must resume or roll back. */
    unfinished(): Release[] {
      return (db.prepare("SELECT * FROM releases WHERE status IN ('running', 'rolling_back') ORDER BY created_at").all() as Row[]).map(
        toRelease,
      );
    },
    setStatus(id: string, status: ReleaseStatus, reason: string | null = null): void {
      generation++;
      db.prepare("UPDATE releases SET status = ?, reason = COALESCE(?, reason), updated_at = ? WHERE id = ?").run(
        status,
        reason,
        nowIso(),
        id,
      );
    },
    /** Appends to the journal; the entry is durable when this returns. */
    journal(releaseId: string, kind: string, target: string | null, data: Record<string, unknown> = {}): JournalEntry {
      generation++;
      return tx(db, () => {
        const seq = Number(
          (db.prepare("SELECT COALESCE(MAX(seq), 0) + 1 AS s FROM release_journal WHERE release_id = ?").get(releaseId) as Row).s,
        );
        const at = nowIso();
        db.prepare("INSERT INTO release_journal (release_id, seq, kind, target, data, at) VALUES (?, ?, ?, ?, ?, ?)").run(
          releaseId,
          seq,
          kind,
          target,
          JSON.stringify(data),
          at,
        );
        return { release_id: releaseId, seq, kind, target, data, at };
      });
    },
    entries(releaseId: string): JournalEntry[] {
      return (db.prepare("SELECT * FROM release_journal WHERE release_id = ? ORDER BY seq").all(releaseId) as Row[]).map(toEntry);
    },
  };
}
export type ReleaseStore = ReturnType<typeof createReleaseStore>;
