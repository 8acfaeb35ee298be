// A real, small filesystem that fills up: a tmpfs mounted for one test file, so that a full disk
// gives what it gives in production (SQLITE_FULL from SQLite, ENOSPC from writes), not a stand-in.
// Mounting needs root, which CI here has (it runs as root); anywhere else the test fails saying so.
import { execFileSync } from "node:child_process";
import { closeSync, mkdirSync, openSync, rmSync, statfsSync, writeSync } from "node:fs";
import { join } from "node:path";

export function mountTmpfs(dir: string, bytes: number): void {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${bytes},mode=0700`, "tmpfs", dir], { stdio: ["ignore", "ignore", "pipe"] });
  } catch (e) {
    const why = (e as { stderr?: Buffer }).stderr?.toString().trim() || String(e);
    throw new Error(`this test mounts a ${bytes}-byte tmpfs to fill a real disk, which needs root (CI runs as root): ${why}`);
  }
}

export function unmount(dir: string): void {
  try {
    execFileSync("umount", ["-l", dir], { stdio: "ignore" });
  } catch {
    // not mounted (mountTmpfs failed): nothing to undo
  }
}

export function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return Number(s.bavail) * Number(s.bsize);
}

/** Fills the filesystem of `dir` with `<dir>/filler` until ENOSPC; returns the bytes written. */
export function fill(dir: string): number {
  const file = join(dir, "filler");
  const fd = openSync(file, "a");
  const chunk = Buffer.alloc(64 * 1024);
  let written = 0;
  try {
    for (;;) {
      try {
        written += writeSync(fd, chunk);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOSPC") break;
        throw e;
      }
    }
    // The last partial chunk: byte by byte is too slow, halves are enough.
    for (let n = chunk.length / 2; n >= 512; n /= 2) {
      try {
        written += writeSync(fd, chunk, 0, n);
      } catch {
        // full at this size; try a smaller one
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

/** Frees `bytes` (at least) by removing the filler and writing back a smaller one. */
export function freeUp(dir: string, bytes: number): void {
  const file = join(dir, "filler");
  const keep = Math.max(0, freeBytesAfterRemoving(dir, file) - bytes);
  writeFiller(file, keep);
}

function freeBytesAfterRemoving(dir: string, file: string): number {
  rmSync(file, { force: true });
  return freeBytes(dir);
}

function writeFiller(file: string, bytes: number): void {
  const fd = openSync(file, "w");
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (let left = bytes; left > 0; left -= Math.min(left, chunk.length)) writeSync(fd, chunk, 0, Math.min(left, chunk.length));
  } finally {
    closeSync(fd);
  }
}
