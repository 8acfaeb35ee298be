// The raw local copy of fleet logs: its own SQLite file beside the store (<data>/fleet-logs.sqlite,
// 0600), so a busy fleet's lines neither bloat the orchestrator's database and its backups nor
// queue behind its audited writes. Each line is the tail message exactly as received, with the
// labels a reader filters by. Ids are handed out as lines arrive (a live reader sees the id the
// line will have); lines are written in batches.
//
// Bounds: lines older than `keepMs` go, then the oldest until the file's used pages fit in
// `maxBytes` (checked at every prune and whenever a tenth of it was written since); freed pages
// are handed back to the file system (incremental vacuum). A write that fails (a full disk) drops
// its batch, counted, and the next batch tries again.
import { DatabaseSync } from "node:sqlite";
import { ensurePrivateFile } from "../config/private-fs.ts";
import type { LogVerdict } from "../contract/index.ts";
import { transaction } from "../kit/transaction.ts";
import type { Logger } from "../telemetry/index.ts";

export type RawRow = { id: number; at: number; worker: string; target: string; verdict: LogVerdict; raw: string };
export type RawQuery = {
  worker?: string | undefined;
  target?: string | undefined;
  status?: LogVerdict | undefined;
  before?: number | undefined;
};

export type RawStoreOptions = {
  file: string;
  keepMs: number;
  maxBytes: number;
  now?: () => number;
  log?: Logger;
};

export type RawStore = ReturnType<typeof openRawStore>;

export function openRawStore(opts: RawStoreOptions) {
  const now = opts.now ?? Date.now;
  let { keepMs, maxBytes } = opts;
  ensurePrivateFile(opts.file);
  const db = new DatabaseSync(opts.file);
  // auto_vacuum takes effect only before the first table exists (a new file).
  db.exec("PRAGMA auto_vacuum = INCREMENTAL");
  db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA journal_size_limit = 4194304;
    CREATE TABLE IF NOT EXISTS lines (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, worker TEXT NOT NULL, target TEXT NOT NULL, verdict TEXT NOT NULL, raw TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS lines_by_at ON lines (at);
    CREATE INDEX IF NOT EXISTS lines_by_worker ON lines (worker, id);`);
  const insert = db.prepare("INSERT INTO lines (id, at, worker, target, verdict, raw) VALUES (?, ?, ?, ?, ?, ?)");
  const pageSize = (db.prepare("PRAGMA page_size").get() as { page_size: number }).page_size;
  let nextId = ((db.prepare("SELECT MAX(id) AS m FROM lines").get() as { m: number | null }).m ?? 0) + 1;
  let pending: RawRow[] = [];
  let writtenSinceCheck = 0;
  let dropped = 0;
  let failing = false;

  const usedBytes = () => {
    const pages = (db.prepare("PRAGMA page_count").get() as { page_count: number }).page_count;
    const free = (db.prepare("PRAGMA freelist_count").get() as { freelist_count: number }).freelist_count;
    return (pages - free) * pageSize;
  };

  /** Drops the oldest lines until the used pages fit in 90% of maxBytes. */
  function fitSize(): number {
    let removed = 0;
    for (let round = 0; round < 1000 && usedBytes() > maxBytes; round++) {
      const count = (db.prepare("SELECT COUNT(*) AS n FROM lines").get() as { n: number }).n;
      if (count === 0) break;
      // Enough for the excess (and a tenth to spare, so that the next lines fit too).
      const share = Math.min(1, (usedBytes() - maxBytes * 0.9) / Math.max(1, usedBytes()));
      const n = Math.max(1, Math.ceil(count * share));
      removed += Number(db.prepare("DELETE FROM lines WHERE id IN (SELECT id FROM lines ORDER BY id LIMIT ?)").run(n).changes);
    }
    return removed;
  }

  function flush(): void {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    try {
      transaction(db, () => {
        for (const r of batch) insert.run(r.id, r.at, r.worker, r.target, r.verdict, r.raw);
      });
      if (failing) opts.log?.info(`fleet logs: writing the local copy works again (${dropped} lines were dropped meanwhile)`);
      failing = false;
      writtenSinceCheck += batch.reduce((n, r) => n + r.raw.length + 64, 0);
      if (writtenSinceCheck > maxBytes / 10) {
        writtenSinceCheck = 0;
        if (fitSize() > 0) db.exec("PRAGMA incremental_vacuum");
      }
    } catch (e) {
      dropped += batch.length;
      if (!failing)
        opts.log?.error(
          `fleet logs: the local copy could not be written (${e instanceof Error ? e.message : String(e)}); dropping lines until it can`,
        );
      failing = true;
    }
  }

  return {
    /** Takes a line; its id now, written with the next flush. */
    add(r: Omit<RawRow, "id">): number {
      const id = nextId++;
      pending.push({ id, ...r });
      return id;
    },
    /** Writes the lines taken since the last flush (one transaction). */
    flush,
    /** Newest first: up to `limit` rows matching, with ids below `before`. */
    page(q: RawQuery, limit: number): RawRow[] {
      const where: string[] = [];
      const args: Array<string | number> = [];
      if (q.worker !== undefined) where.push("worker = ?"), args.push(q.worker);
      if (q.target !== undefined) where.push("target = ?"), args.push(q.target);
      if (q.status !== undefined) where.push("verdict = ?"), args.push(q.status);
      if (q.before !== undefined) where.push("id < ?"), args.push(q.before);
      const sql = `SELECT id, at, worker, target, verdict, raw FROM lines${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ?`;
      return db.prepare(sql).all(...args, limit) as RawRow[];
    },
    /** Removes lines past `keepMs`, then the oldest beyond `maxBytes`; returns how many went. */
    prune(): number {
      flush();
      let removed = Number(db.prepare("DELETE FROM lines WHERE at < ?").run(now() - keepMs).changes);
      removed += fitSize();
      if (removed > 0) db.exec("PRAGMA incremental_vacuum");
      return removed;
    },
    /** New bounds (orchestrator.yaml changed); applied at the next prune. */
    setBounds(b: { keepMs: number; maxBytes: number }): void {
      keepMs = b.keepMs;
      maxBytes = b.maxBytes;
    },
    stats(): { lines: number; bytes: number; oldest: number | null; dropped: number } {
      const r = db.prepare("SELECT COUNT(*) AS n, MIN(at) AS oldest FROM lines").get() as { n: number; oldest: number | null };
      return { lines: r.n, bytes: usedBytes(), oldest: r.oldest, dropped };
    },
    close(): void {
      flush();
      db.close();
    },
  };
}
