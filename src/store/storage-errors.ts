// What a failed write or read of the data directory means, named: a full disk (SQLITE_FULL, ENOSPC,
// EDQUOT) is ERR_DISK_FULL with the path, the bytes free and the bytes needed; a damaged database
// (SQLITE_CORRUPT, SQLITE_NOTADB) is ERR_STORE_CORRUPT with the way back; any other I/O error is
// ERR_IO naming the path. Anything else is not a storage error (undefined).
//
// A CboError of a generic code (ERR_INTERNAL, ERR_IO, ERR_AUDIT_UNAVAILABLE) whose cause is one of
// these is classified by its cause: the audit log fails closed with ERR_AUDIT_UNAVAILABLE, but when
// the reason is a full disk, that is what the operator must be told.
import { existsSync, statfsSync } from "node:fs";
import { dirname } from "node:path";
import { CboError, isCboError } from "../kit/errors.ts";

// SQLite's primary result codes (https://sqlite.org/rescode.html); node:sqlite puts the extended
// code in `errcode`, whose low byte is the primary one.
const SQLITE_IOERR = 10;
const SQLITE_CORRUPT = 11;
const SQLITE_FULL = 13;
const SQLITE_NOTADB = 26;
/** EDQUOT: a quota, which is a full disk for this user. EFBIG (a file size limit) is not. */
const FULL_ERRNOS = new Set(["ENOSPC", "EDQUOT"]);
/** Room to leave beyond the WAL before writing again: a few releases' journals and audit entries. */
export const DEFAULT_HEADROOM_BYTES = 8 * 1024 * 1024;

const GENERIC: ReadonlySet<string> = new Set(["ERR_INTERNAL", "ERR_IO", "ERR_AUDIT_UNAVAILABLE"]);

/** The primary SQLite result code of a node:sqlite error, else undefined. */
export function sqliteCode(e: unknown): number | undefined {
  const x = e as { code?: unknown; errcode?: unknown } | null;
  if (typeof x !== "object" || x === null || x.code !== "ERR_SQLITE_ERROR" || typeof x.errcode !== "number") return undefined;
  return x.errcode & 0xff;
}

const errnoOf = (e: unknown): string | undefined => {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^E[A-Z]+$/.test(code) ? code : undefined;
};

/** Bytes available to this user on the filesystem holding `path` (its nearest existing parent). */
export function freeBytes(path: string): number | undefined {
  let p = path;
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  try {
    const s = statfsSync(p);
    return Number(s.bavail) * Number(s.bsize);
  } catch {
    return undefined;
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

export type StorageWhere = {
  /** The file being written or read (the database, a key file, the checkpoint file …). */
  path: string;
  /** How much free space makes writing there reasonable again. */
  neededBytes: number;
};

export function diskFullError(where: StorageWhere, cause?: unknown): CboError {
  const free = freeBytes(where.path);
  const has = free === undefined ? "" : `${formatBytes(free)} free, `;
  return new CboError(
    "ERR_DISK_FULL",
    `The disk holding ${where.path} is full (${has}at least ${formatBytes(where.neededBytes)} needed); nothing was changed.`,
    {
      details: { path: where.path, freeBytes: free ?? null, neededBytes: where.neededBytes },
      hint: `Free at least ${formatBytes(where.neededBytes)} on the filesystem of ${dirname(where.path)} (or raise the quota), then retry; a running daemon resumes writing by itself once there is room, a stopped one starts again then.`,
      ...(cause === undefined ? {} : { cause }),
    },
  );
}

export function corruptError(path: string, cause?: unknown, why?: string): CboError {
  const reason = why ?? (cause instanceof Error ? cause.message : "it fails SQLite's check");
  return new CboError("ERR_STORE_CORRUPT", `The orchestrator's database ${path} is damaged (${reason}).`, {
    details: { path },
    hint: "Stop the daemon and keep the file for investigation; restore the newest backup into a new directory (`cbo restore <archive> --data <new dir> --checkpoint <old dir>/audit-checkpoints.jsonl`) and start the daemon on it.",
    ...(cause === undefined ? {} : { cause }),
  });
}

function ioError(path: string, cause: unknown): CboError {
  const what = cause instanceof Error ? cause.message : String(cause);
  return new CboError("ERR_IO", `${path} could not be read or written (${what}).`, {
    details: { path },
    hint: "Check the data directory's disk and permissions.",
    cause,
  });
}

/**
 * The named error for a storage failure, or undefined when `e` is not one. SQLite's other I/O
 * errors (SQLITE_IOERR_*: EDQUOT surfaces as SQLITE_IOERR_WRITE, a -shm that cannot grow as
 * SQLITE_IOERR_SHMSIZE) count as a full disk when less than `neededBytes` is free.
 */
export function classifyStorageError(e: unknown, where: StorageWhere): CboError | undefined {
  if (isCboError(e)) {
    if (e.code === "ERR_DISK_FULL" || e.code === "ERR_STORE_CORRUPT") return e;
    if (!GENERIC.has(e.code) || e.cause === undefined) return undefined;
    return classifyStorageError(e.cause, where);
  }
  const sqlite = sqliteCode(e);
  if (sqlite === SQLITE_FULL) return diskFullError(where, e);
  if (sqlite === SQLITE_CORRUPT || sqlite === SQLITE_NOTADB) return corruptError(where.path, e);
  if (sqlite === SQLITE_IOERR) {
    const free = freeBytes(where.path);
    return free !== undefined && free < where.neededBytes ? diskFullError(where, e) : ioError(where.path, e);
  }
  const errno = errnoOf(e);
  if (errno !== undefined && FULL_ERRNOS.has(errno)) {
    // A copy, link or rename writes its `dest`; its `path` is the source, on another disk maybe.
    const { path, dest } = e as { path?: unknown; dest?: unknown };
    const written = typeof dest === "string" ? dest : path;
    return diskFullError({ ...where, path: typeof written === "string" ? written : where.path }, e);
  }
  return undefined;
}
