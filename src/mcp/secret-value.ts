// Where a rotated secret's value comes from: a file on this machine (byte for byte, as
// `cbo secrets set --from-file`) or the random generator. The value goes to the daemon and nowhere
// else: it is never returned to the agent, logged, or put in an error (errors name the file only).
import { randomBytes } from "node:crypto";
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { isAbsolute } from "node:path";
import { CboError } from "../kit/errors.ts";

/** Larger values are not secrets but data; the API refuses bodies over 1 MiB anyway. */
export const MAX_SECRET_BYTES = 64 * 1024;

/** The file's size and whether others may read it, without reading its content. */
export function inspectSecretFile(path: string): { bytes: number; readableByOthers: boolean } {
  const fd = openFile(path);
  try {
    const st = fstatSync(fd);
    check(path, st.isFile(), st.size);
    return { bytes: st.size, readableByOthers: (st.mode & 0o044) !== 0 };
  } finally {
    closeSync(fd);
  }
}

/** The file's bytes; the caller wipes them (fill(0)) once sent. */
export function readSecretFile(path: string): Buffer {
  const fd = openFile(path);
  try {
    const st = fstatSync(fd);
    check(path, st.isFile(), st.size);
    const buf = Buffer.alloc(st.size);
    let done = 0;
    while (done < st.size) {
      const n = readSync(fd, buf, done, st.size - done, done);
      if (n === 0) break;
      done += n;
    }
    if (done !== st.size) throw new CboError("ERR_IO", `${path} changed while it was read.`);
    return buf;
  } finally {
    closeSync(fd);
  }
}

/** A new random value: `bytes` random bytes as base64url text (safe in env vars and headers). */
export function generateSecret(bytes: number): Buffer {
  const raw = randomBytes(bytes);
  try {
    return Buffer.from(raw.toString("base64url"), "utf8");
  } finally {
    raw.fill(0);
  }
}

function openFile(path: string): number {
  if (!isAbsolute(path))
    throw new CboError("ERR_VALIDATION", `from_file must be an absolute path (got a relative one).`, {
      hint: "Ask the user for the full path of the file holding the new value.",
    });
  try {
    return openSync(path, "r");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CboError(code === "ENOENT" ? "ERR_NOT_FOUND" : "ERR_IO", `Cannot open ${path} (${code ?? "error"}).`);
  }
}

function check(path: string, isFile: boolean, size: number): void {
  if (!isFile) throw new CboError("ERR_VALIDATION", `${path} is not a regular file.`);
  if (size === 0) throw new CboError("ERR_VALIDATION", `${path} is empty.`);
  if (size > MAX_SECRET_BYTES)
    throw new CboError("ERR_VALIDATION", `${path} holds ${size} bytes; a secret may have at most ${MAX_SECRET_BYTES}.`);
}
