// A write the edge's disk has no room for (SQLITE_FULL from edge.sqlite or a D1 file, ENOSPC or
// EDQUOT from an R2 object or asset file) is named as such, 507 with the directory to free, rather
// than the "internal error; see its log" a bug gets: the write was refused whole (SQLite rolls the
// transaction back, files are written aside and renamed), so retrying once there is room is safe.
import { statfsSync } from "node:fs";
import { CF_CODES, CfApiError } from "./envelope.ts";

/** SQLite's primary result code for "database or disk is full" (https://sqlite.org/rescode.html). */
const SQLITE_FULL = 13;
const FULL_ERRNOS = new Set(["ENOSPC", "EDQUOT"]);

function isDiskFull(e: unknown, depth = 0): boolean {
  if (typeof e !== "object" || e === null || depth > 5) return false;
  const x = e as { code?: unknown; errcode?: unknown; cause?: unknown };
  if (x.code === "ERR_SQLITE_ERROR" && typeof x.errcode === "number" && (x.errcode & 0xff) === SQLITE_FULL) return true;
  if (typeof x.code === "string" && FULL_ERRNOS.has(x.code)) return true;
  return isDiskFull(x.cause, depth + 1);
}

function freeText(dir: string): string {
  try {
    const s = statfsSync(dir);
    const n = Number(s.bavail) * Number(s.bsize);
    return n < 1024 * 1024 ? `${Math.floor(n / 1024)} KiB free` : `${(n / 1024 / 1024).toFixed(1)} MiB free`;
  } catch {
    return "free space unknown";
  }
}

/** The 507 answer for a full disk under `dataDir`, else undefined (`e` is something else). */
export function diskFullAnswer(e: unknown, dataDir: string | undefined): CfApiError | undefined {
  if (!isDiskFull(e)) return undefined;
  const where = dataDir ?? "the local edge's data directory";
  return new CfApiError(
    507,
    CF_CODES.DISK_FULL,
    `The local edge's disk is full (${where}, ${dataDir ? freeText(dataDir) : "free space unknown"}); nothing was written. Free space on that disk and retry.`,
  );
}
