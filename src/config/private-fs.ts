// The daemon's and the local edge's files are for their owner only: directories 0700, files 0600.
// They hold the vault, tokens, per-Worker keys and binding secrets (what Cloudflare would hold for
// the local edge's accounts). Modes given at creation are cut by the umask but never widened by
// it; a file or directory left wider by an older version is tightened when it is opened again.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { removeDeadTemps, tempOf } from "./dead-temps.ts";

const ours = (uid: number) => typeof process.getuid !== "function" || uid === process.getuid();

/** Creates `dir` (and missing parents) as 0700, or tightens it to 0700; true when it had to be tightened. */
export function ensurePrivateDir(dir: string): boolean {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return tighten(dir, 0o700);
}

/** Tightens an existing file or directory to `mode` when group or others have any access and we own it; true when it did. */
export function tighten(path: string, mode: number): boolean {
  const st = statSync(path);
  if ((st.mode & 0o077) === 0 || !ours(st.uid)) return false;
  chmodSync(path, mode);
  return true;
}

/** Creates `file` empty as 0600 when it is missing, or tightens it (SQLite files before they are opened: their -wal and -shm take the main file's mode). */
export function ensurePrivateFile(file: string): void {
  if (existsSync(file)) {
    tighten(file, 0o600);
    return;
  }
  closeSync(openSync(file, "a", 0o600));
}

/**
 * Writes `file` as 0600, whole or not at all: a working copy (flushed) renamed over it, so a full
 * disk or a kill -9 mid-write leaves the old file (or none), never a cut-off one. Every file written
 * this way is read back as one value (tokens, edge.json, daemon.json, the public key document).
 */
export function writePrivateFile(file: string, content: string): void {
  writeWholeFile(file, content, 0o600);
}

/** Writes `file` whole or not at all, as writePrivateFile does, with the given mode (a new file's). */
export function writeWholeFile(file: string, content: string, mode: number): void {
  removeDeadTemps(file);
  const tmp = tempOf(file);
  try {
    writeFileSync(tmp, content, { mode, flush: true });
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
