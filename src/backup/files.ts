// Small file helpers for archives: chunked reads (an archive never has to fit in memory), writes
// that reach the disk, and the atomic publish (temp file, fsync, rename, fsync of the directory).
import { closeSync, fsyncSync, linkSync, openSync, readSync, renameSync } from "node:fs";
import { dirname } from "node:path";
import { CboError } from "../kit/errors.ts";

const CHUNK = 1 << 20;

/** Calls `fn` with consecutive chunks of `bytes` bytes of `fd` from `position` (a reused buffer). */
export function readChunks(fd: number, position: number, bytes: number, fn: (chunk: Buffer) => void): void {
  const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(bytes, 1)));
  let done = 0;
  while (done < bytes) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, bytes - done), position + done);
    if (n === 0) throw new Error(`unexpected end of file after ${position + done} bytes`);
    fn(buf.subarray(0, n));
    done += n;
  }
  buf.fill(0);
}

export function readFileChunks(path: string, fn: (chunk: Buffer) => void): number {
  const fd = openSync(path, "r");
  try {
    let total = 0;
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, total);
      if (n === 0) break;
      fn(buf.subarray(0, n));
      total += n;
    }
    buf.fill(0);
    return total;
  } finally {
    closeSync(fd);
  }
}

export function readExactly(fd: number, position: number, bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  let done = 0;
  while (done < bytes) {
    const n = readSync(fd, out, done, bytes - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return out.subarray(0, done);
}

/**
 * Puts the finished `tmp` at `file` atomically, never replacing an existing file (a hard link
 * fails with EEXIST; where links are unsupported, a rename), and makes that durable.
 */
export function publishNew(tmp: string, file: string): void {
  try {
    linkSync(tmp, file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST") throw new CboError("ERR_CONFLICT", `${file} appeared while the backup was written; it was left alone.`);
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EXDEV") throw e;
    renameSync(tmp, file);
  }
  fsyncDir(dirname(file));
}

export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is then as durable as they allow.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
