// The disk under the store, watched, so that a full disk is named once and waited out instead of
// written into over and over. A full disk in WAL mode has a trap: the WAL's checkpoint must grow
// the database file, cannot, and so the WAL keeps every frame and grows with each write that
// still finds a few free bytes, eating whatever space an operator frees. So:
//
//   ok ──(a write fails: SQLITE_FULL, ENOSPC, EDQUOT; classify() sees it)──> full
//        logged once; paused() is true and the background loops skip their writes
//   full ──(probe every probeMs: free ≥ WAL size + headroom, then wal_checkpoint(TRUNCATE))──> ok
//        logged; the WAL is folded into the database and truncated to 0 bytes
//   ok ──(full again within a minute of resuming)──> full, quietly, probed at twice the last
//        interval (up to a minute): a quota (EDQUOT) or a page limit that statfs cannot see
//        would otherwise flip between the two states, and log both, every probe
//
// Requests are not refused up front while full: a write that finds room succeeds, one that does
// not fails with ERR_DISK_FULL (classify()), and nothing is half-applied (transactions roll back).
// settle() at open does the same checkpoint, so a daemon starts again as soon as the WAL a full
// disk left behind fits, and says how much room that takes when it does not.
import { existsSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { type CboError, isCboError } from "../kit/errors.ts";
import type { Db } from "./db.ts";
import { classifyStorageError, DEFAULT_HEADROOM_BYTES, formatBytes, freeBytes } from "./storage-errors.ts";
import { type Logger, silentLogger } from "../telemetry/index.ts";

export { DEFAULT_HEADROOM_BYTES };

export type StorageOptions = {
  db: Db;
  /** The database file (its -wal sits beside it). */
  file: string;
  headroomBytes?: number;
  /** How often a full disk is looked at again (default 2 s). */
  probeMs?: number;
  log?: Logger;
  /** Bytes of WAL found before the file was opened (one the last run left behind). */
  walAtOpen?: number;
};

export type StorageState =
  | { full: false }
  | { full: true; since: string; path: string; freeBytes: number | null; neededBytes: number; probeInMs: number };

export type Storage = {
  /** The named error (ERR_DISK_FULL, ERR_STORE_CORRUPT, ERR_IO) for a storage failure, else `e` itself; a full disk pauses writers. */
  classify(e: unknown): unknown;
  /** The same naming without pausing anything (for a daemon that is not going to run). */
  name(e: unknown): unknown;
  /** True while the disk is full: background writers skip their work. */
  paused(): boolean;
  state(): StorageState;
  /** Looks at the disk now (what the probe timer does); true when writes may go ahead. */
  probe(): boolean;
  /** At open: folds a WAL left behind into the database (TRUNCATE), or ERR_DISK_FULL saying how much room that needs. */
  settle(): void;
  close(): void;
};

export function createStorage(o: StorageOptions): Storage {
  const headroom = o.headroomBytes ?? DEFAULT_HEADROOM_BYTES;
  const probeMs = o.probeMs ?? 2000;
  const log = o.log ?? silentLogger;
  const memory = o.file === ":memory:" || o.file === "";
  const wal = `${o.file}-wal`;
  let full: { since: string; error: CboError } | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  // Refills soon after resuming: each doubles the probe interval and is not logged again.
  let streak = 0;
  let resumedAt = Number.NEGATIVE_INFINITY;
  const delay = () => Math.min(probeMs * 2 ** streak, Math.max(probeMs, 60_000));

  const walBytes = () => (!memory && existsSync(wal) ? statSync(wal).size : 0);
  const where = () => ({ path: o.file, neededBytes: walBytes() + headroom });

  function enterFull(err: CboError): void {
    if (full) {
      full.error = err;
      return;
    }
    full = { since: new Date().toISOString(), error: err };
    streak = Date.now() - resumedAt < 60_000 ? streak + 1 : 0;
    arm();
    const d = err.details as { path?: string; freeBytes?: number | null; neededBytes?: number } | undefined;
    if (streak === 3 && (d?.freeBytes ?? 0) >= (d?.neededBytes ?? headroom)) {
      log.warn(
        `storage: writes keep failing for lack of room although ${formatBytes(d?.freeBytes ?? 0)} is free on the filesystem (a quota, or a size limit?); looking again every ${delay() / 1000} s`,
      );
    }
    if (streak > 0) return;
    const free = typeof d?.freeBytes === "number" ? ` (${formatBytes(d.freeBytes)} free)` : "";
    log.error(
      `storage: the disk holding ${d?.path ?? o.file} is full${free}; background writes pause until ${formatBytes(d?.neededBytes ?? headroom)} is free (checked every ${probeMs / 1000} s)`,
    );
  }

  function arm(): void {
    if (timer || !full) return;
    timer = setTimeout(() => {
      timer = undefined;
      if (!probe()) arm();
    }, delay());
    timer.unref();
  }

  const name = (e: unknown): unknown => (memory ? e : (classifyStorageError(e, where()) ?? e));

  function classify(e: unknown): unknown {
    const err = name(e);
    if (isCboError(err) && err.code === "ERR_DISK_FULL" && onOurDisk(err)) enterFull(err);
    return err;
  }

  /**
   * Whether a full disk is the one under the store: a backup archive or an export on another disk
   * fails with ERR_DISK_FULL too, and must not pause the writers (and say the data disk is full)
   * for room this disk has. Unknown (no path, a device that cannot be read): counted as ours.
   */
  function onOurDisk(err: CboError): boolean {
    const path = (err.details as { path?: unknown } | undefined)?.path;
    if (memory || typeof path !== "string") return true;
    const ours = deviceOf(o.file);
    const theirs = deviceOf(path);
    return ours === undefined || theirs === undefined || ours === theirs;
  }

  /** wal_checkpoint(TRUNCATE); throws what name() names. */
  function checkpoint(): { busy: boolean } {
    try {
      const r = o.db.prepare("PRAGMA wal_checkpoint(TRUNCATE)").get() as { busy: number } | undefined;
      return { busy: r !== undefined && Number(r.busy) !== 0 };
    } catch (e) {
      throw name(e);
    }
  }

  function probe(): boolean {
    if (!full) return true;
    const need = where().neededBytes;
    const free = freeBytes(o.file);
    // Too little room: a checkpoint now would only grow the file into the space just freed.
    if (free === undefined || free < need || o.db.isTransaction) return false;
    try {
      const { busy } = checkpoint();
      full = undefined;
      resumedAt = Date.now();
      if (streak === 0)
        log.info(
          `storage: ${formatBytes(free)} free again on the disk of ${o.file}; the WAL was checkpointed${busy ? " (a reader still holds part of it)" : " and truncated"}, writes resume`,
        );
    } catch (e) {
      if (!isCboError(e) || e.code !== "ERR_DISK_FULL")
        log.error(`storage: checkpoint after the disk filled failed: ${e instanceof Error ? e.message : String(e)}`);
      return false;
    }
    return true;
  }

  return {
    classify,
    name,
    paused: () => full !== undefined,
    state(): StorageState {
      if (!full) return { full: false };
      const free = freeBytes(o.file);
      return { full: true, since: full.since, path: o.file, freeBytes: free ?? null, neededBytes: where().neededBytes, probeInMs: delay() };
    },
    probe,
    settle(): void {
      if (memory || walBytes() === 0) return;
      const before = walBytes();
      checkpoint(); // a full disk throws ERR_DISK_FULL naming the room it takes: WAL + headroom
      if (o.walAtOpen) log.info(`storage: folded the ${formatBytes(before)} WAL the last run left into ${o.file}`);
    },
    close(): void {
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}

/** The device of `path`, or of its nearest existing parent. */
function deviceOf(path: string): number | undefined {
  let p = path;
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  try {
    return statSync(p).dev;
  } catch {
    return undefined;
  }
}
