// Archives in a backup directory: generated names that sort by time, and retention (keep the N
// newest). Only files with our own name pattern are ever listed or removed: a backup directory
// may hold anything else.
import { randomBytes } from "node:crypto";
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { CboError } from "../kit/errors.ts";

const NAME = /^cbo-backup-(\d{8}T\d{9}Z)-[0-9a-f]{6}\.cbobak$/;

/** e.g. cbo-backup-20260101T120000123Z-1a2b3c.cbobak: UTC time to the millisecond, then a random tie-breaker. */
export function archiveName(at: Date): string {
  const stamp = at.toISOString().replace(/[-:.]/g, "");
  return `cbo-backup-${stamp}-${randomBytes(3).toString("hex")}.cbobak`;
}

/** The archives in `dir`, oldest first (by the time in their names). */
export function listArchives(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
  return names
    .filter((n) => NAME.test(n))
    .sort()
    .map((n) => join(dir, n));
}

/** Removes all but the `keep` newest archives; returns the removed paths. */
export function pruneArchives(dir: string, keep: number): string[] {
  if (!Number.isInteger(keep) || keep < 1) throw new CboError("ERR_VALIDATION", `keep must be a whole number of at least 1 (got ${keep}).`);
  const all = listArchives(dir);
  const removed = all.slice(0, Math.max(0, all.length - keep));
  for (const file of removed) rmSync(file, { force: true });
  return removed;
}
