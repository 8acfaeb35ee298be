// Time Travel for one D1 database: an exact page-level history of the database file.
//
// The database runs in WAL mode with automatic checkpoints off, so every committed transaction
// appends the full images of the pages it changed to the -wal file. After each API call or binding
// call the engine calls capture(): it reads the frames committed since the last capture and
// appends them to history.sqlite as one entry (sequence number, commit time, database size in
// pages, the changed pages). The state at entry N is therefore the file image rebuilt from the
// newest snapshot at or before N plus the page images of the entries after it, up to N: exact, and
// independent of what the SQL did (random(), CURRENT_TIMESTAMP and the like replay as they were).
//
// Entry kinds: "pages" (a delta) and "full" (a whole image: the empty database at creation, a
// restore, or the state found at open after a crash left uncaptured frames). Snapshots (whole
// images at a sequence number) are written every SNAPSHOT_EVERY_BYTES of deltas so that a restore
// never replays an unbounded chain; entries older than the retention window are pruned behind a
// snapshot. The wal file format: https://www.sqlite.org/fileformat2.html#walformat.
import { DatabaseSync } from "node:sqlite";
import { closeSync, existsSync, fstatSync, openSync, readSync, statSync } from "node:fs";
import { ensurePrivateFile, tighten } from "../../config/private-fs.ts";

const WAL_HEADER = 32;
const FRAME_HEADER = 24;
const SNAPSHOT_EVERY_BYTES = 8 * 1024 * 1024;
export const RETENTION_MS = 30 * 24 * 3600_000;

export type HistoryEntry = { seq: number; atMs: number };

type Row = Record<string, unknown>;

/** Pages as one blob: [u32 pgno][page bytes] repeated, pages in ascending order. */
function encodePages(pages: Map<number, Uint8Array>, pageSize: number): Uint8Array {
  const nums = [...pages.keys()].sort((a, b) => a - b);
  const out = new Uint8Array(nums.length * (4 + pageSize));
  const dv = new DataView(out.buffer);
  nums.forEach((pgno, i) => {
    const at = i * (4 + pageSize);
    dv.setUint32(at, pgno);
    out.set(pages.get(pgno)!, at + 4);
  });
  return out;
}

function applyPages(image: Uint8Array, data: Uint8Array, pageSize: number): void {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let at = 0; at + 4 + pageSize <= data.byteLength; at += 4 + pageSize) {
    const offset = (dv.getUint32(at) - 1) * pageSize;
    if (offset + pageSize <= image.byteLength) image.set(data.subarray(at + 4, at + 4 + pageSize), offset);
  }
}

function resized(image: Uint8Array, size: number): Uint8Array {
  if (image.byteLength === size) return image;
  const out = new Uint8Array(size);
  out.set(image.subarray(0, Math.min(size, image.byteLength)));
  return out;
}

export function openHistory(path: string, walPath: string) {
  ensurePrivateFile(path);
  for (const extra of [`${path}-wal`, `${path}-shm`]) if (existsSync(extra)) tighten(extra, 0o600);
  const db = new DatabaseSync(path);
  db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
    CREATE TABLE IF NOT EXISTS entries (seq INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, kind TEXT NOT NULL,
      db_pages INTEGER NOT NULL, page_size INTEGER NOT NULL, data BLOB NOT NULL);
    CREATE TABLE IF NOT EXISTS snapshots (seq INTEGER PRIMARY KEY, data BLOB NOT NULL);`);
  const insert = db.prepare("INSERT INTO entries (seq, at_ms, kind, db_pages, page_size, data) VALUES (?, ?, ?, ?, ?, ?)");
  const headStmt = db.prepare("SELECT seq, at_ms FROM entries ORDER BY seq DESC LIMIT 1");
  const atStmt = db.prepare("SELECT seq, at_ms FROM entries WHERE at_ms <= ? ORDER BY seq DESC LIMIT 1");
  const oneStmt = db.prepare("SELECT seq, at_ms FROM entries WHERE seq = ?");

  if ((headStmt.get() as Row | undefined) === undefined) insert.run(0, Date.now(), "full", 0, 4096, new Uint8Array(0));

  // Where the next uncaptured frame starts in the -wal file, and the salts of the wal header it
  // belongs to (a new header after a checkpoint restarts the file).
  let walOffset = 0;
  let salts = "";
  let bytesSinceSnapshot = 0;
  {
    const last = db.prepare("SELECT COALESCE(MAX(seq), 0) AS s FROM snapshots").get() as { s: number };
    const lastFull = db.prepare("SELECT COALESCE(MAX(seq), 0) AS s FROM entries WHERE kind = 'full'").get() as { s: number };
    const r = db.prepare("SELECT COALESCE(SUM(LENGTH(data)), 0) AS b FROM entries WHERE seq > ?").get(Math.max(last.s, lastFull.s)) as {
      b: number;
    };
    bytesSinceSnapshot = r.b;
  }

  // The newest entry, kept in memory: every query answers with its bookmark.
  let current: HistoryEntry = (() => {
    const r = headStmt.get() as Row;
    return { seq: Number(r.seq), atMs: Number(r.at_ms) };
  })();
  const head = (): HistoryEntry => current;

  function append(kind: "pages" | "full", dbPages: number, pageSize: number, data: Uint8Array, atMs: number): HistoryEntry {
    const seq = current.seq + 1;
    insert.run(seq, atMs, kind, dbPages, pageSize, data);
    bytesSinceSnapshot = kind === "full" ? 0 : bytesSinceSnapshot + data.byteLength;
    current = { seq, atMs };
    return current;
  }

  /** Reads the wal from `from` to its end: the header's page size and salts, and the raw bytes. */
  function readWal(): { pageSize: number; salts: string; bytes: Uint8Array; start: number } | undefined {
    // Most calls only read: one stat tells that nothing was appended since the last capture.
    const size = statSync(walPath, { throwIfNoEntry: false })?.size ?? 0;
    if (size < WAL_HEADER || (salts !== "" && size <= walOffset)) return undefined;
    const fd = openSync(walPath, "r");
    try {
      const size = fstatSync(fd).size;
      if (size < WAL_HEADER) return undefined;
      const header = new Uint8Array(WAL_HEADER);
      readSync(fd, header, 0, WAL_HEADER, 0);
      const dv = new DataView(header.buffer);
      const pageSize = dv.getUint32(8);
      const s = `${dv.getUint32(16)}:${dv.getUint32(20)}`;
      const start = s === salts && walOffset >= WAL_HEADER ? walOffset : WAL_HEADER;
      if (size <= start) return { pageSize, salts: s, bytes: new Uint8Array(0), start };
      const bytes = new Uint8Array(size - start);
      readSync(fd, bytes, 0, bytes.byteLength, start);
      return { pageSize, salts: s, bytes, start };
    } finally {
      closeSync(fd);
    }
  }

  return {
    head,

    /** Appends the transactions committed since the last capture as one entry; undefined if none. */
    capture(atMs: number): HistoryEntry | undefined {
      const wal = readWal();
      if (!wal || wal.bytes.byteLength === 0) return undefined;
      const { pageSize, bytes } = wal;
      const [salt1, salt2] = wal.salts.split(":").map(Number) as [number, number];
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const pending = new Map<number, Uint8Array>();
      const committed = new Map<number, Uint8Array>();
      let dbPages = 0;
      let committedEnd = 0;
      for (let at = 0; at + FRAME_HEADER + pageSize <= bytes.byteLength; at += FRAME_HEADER + pageSize) {
        // Frames left over from before the last wal restart carry old salts: stop there.
        if (dv.getUint32(at + 8) !== salt1 || dv.getUint32(at + 12) !== salt2) break;
        pending.set(dv.getUint32(at), bytes.subarray(at + FRAME_HEADER, at + FRAME_HEADER + pageSize));
        const commitSize = dv.getUint32(at + 4);
        if (commitSize !== 0) {
          for (const [k, v] of pending) committed.set(k, v);
          pending.clear();
          dbPages = commitSize;
          committedEnd = at + FRAME_HEADER + pageSize;
        }
      }
      if (committedEnd === 0) {
        salts = wal.salts;
        return undefined;
      }
      // Moved past these frames only once their entry is stored: an append that fails (a full
      // disk) leaves them to the next capture, else their pages were missing from every later image.
      const entry = append("pages", dbPages, pageSize, encodePages(committed, pageSize), atMs);
      salts = wal.salts;
      walOffset = wal.start + committedEnd;
      return entry;
    },

    /** The wal was checkpointed and truncated: the next capture starts from its header again. */
    walReset(): void {
      walOffset = 0;
      salts = "";
    },

    appendFull(image: Uint8Array, pageSize: number, atMs: number): HistoryEntry {
      return append("full", Math.round(image.byteLength / pageSize), pageSize, image, atMs);
    },

    /** Whether a snapshot is due (the engine then passes the current image to snapshot()). */
    snapshotDue(): boolean {
      return bytesSinceSnapshot >= SNAPSHOT_EVERY_BYTES;
    },
    snapshot(seq: number, image: Uint8Array): void {
      db.prepare("INSERT OR REPLACE INTO snapshots (seq, data) VALUES (?, ?)").run(seq, image);
      bytesSinceSnapshot = 0;
    },

    /** The newest entry committed at or before `ms`; the creation entry for earlier times. */
    at(ms: number): HistoryEntry {
      const r = (atStmt.get(ms) as Row | undefined) ?? (db.prepare("SELECT seq, at_ms FROM entries ORDER BY seq LIMIT 1").get() as Row);
      return { seq: Number(r.seq), atMs: Number(r.at_ms) };
    },
    entry(seq: number): HistoryEntry | undefined {
      const r = oneStmt.get(seq) as Row | undefined;
      return r && { seq: Number(r.seq), atMs: Number(r.at_ms) };
    },
    oldest(): HistoryEntry {
      const r = db.prepare("SELECT seq, at_ms FROM entries ORDER BY seq LIMIT 1").get() as Row;
      return { seq: Number(r.seq), atMs: Number(r.at_ms) };
    },

    /** The database file image as it was at entry `seq` (which must exist). */
    image(seq: number): Uint8Array {
      const snap = db.prepare("SELECT seq, data FROM snapshots WHERE seq <= ? ORDER BY seq DESC LIMIT 1").get(seq) as Row | undefined;
      const full = db.prepare("SELECT seq FROM entries WHERE seq <= ? AND kind = 'full' ORDER BY seq DESC LIMIT 1").get(seq) as
        | Row
        | undefined;
      const snapSeq = snap ? Number(snap.seq) : -1;
      const fullSeq = full ? Number(full.seq) : -1;
      let image: Uint8Array = snapSeq >= fullSeq && snap ? new Uint8Array(snap.data as Uint8Array) : new Uint8Array(0);
      const from = snapSeq >= fullSeq ? snapSeq + 1 : fullSeq;
      for (const e of db
        .prepare("SELECT kind, db_pages, page_size, data FROM entries WHERE seq >= ? AND seq <= ? ORDER BY seq")
        .iterate(from, seq) as Iterable<Row>) {
        const data = e.data as Uint8Array;
        if (e.kind === "full") image = new Uint8Array(data);
        else {
          const pageSize = Number(e.page_size);
          image = resized(image, Number(e.db_pages) * pageSize);
          applyPages(image, data, pageSize);
        }
      }
      return image;
    },

    /**
     * Drops history older than the retention window. The entry in force at the cutoff stays (so
     * every moment inside the window keeps its bookmark), materialized as a snapshot.
     */
    prune(nowMs: number): void {
      const keep = this.at(nowMs - RETENTION_MS);
      if (keep.seq === this.oldest().seq) return;
      const image = this.image(keep.seq);
      db.exec("BEGIN");
      try {
        db.prepare("INSERT OR REPLACE INTO snapshots (seq, data) VALUES (?, ?)").run(keep.seq, image);
        db.prepare("DELETE FROM entries WHERE seq < ?").run(keep.seq);
        db.prepare("DELETE FROM snapshots WHERE seq < ?").run(keep.seq);
        db.exec("COMMIT");
      } catch (e) {
        if (db.isTransaction) db.exec("ROLLBACK"); // SQLITE_FULL may have rolled it back already
        throw e;
      }
    },

    close(): void {
      db.close();
    },
  };
}
export type History = ReturnType<typeof openHistory>;
