// Where a rotated secret's value comes from: a file on this machine (byte for byte, as
// `cbo secrets set --from-file`) or the random generator. The value goes to the daemon and nowhere
// else: it is never returned to the agent, logged, or put in an error (errors name the file only).
//
// A file only from the one directory the operator named (`cbo mcp --secret-files DIR`): the agent
// chooses the path, and an agent talked into it (a prompt injection in a ticket, a README, a Worker's
// log) must not be able to turn ~/.ssh/id_ed25519 or the master key file into a Workers secret
// that ships to the edge. Without --secret-files, from_file is off and generate_bytes remains.
import { randomBytes } from "node:crypto";
import { closeSync, fstatSync, openSync, readSync, realpathSync, statSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";
import { CboError } from "../kit/errors.ts";

/** Larger values are not secrets but data; the API refuses bodies over 1 MiB anyway. */
export const MAX_SECRET_BYTES = 64 * 1024;

/** The operator's --secret-files directory, resolved (symlinks followed); refused when it is not one. */
export function secretFilesDir(dir: string): string {
  let real: string;
  try {
    real = realpathSync(resolve(dir));
  } catch (e) {
    throw new CboError("ERR_VALIDATION", `--secret-files ${dir}: ${(e as NodeJS.ErrnoException).code ?? "cannot be read"}.`, {
      hint: "Name an existing directory that holds the files of new secret values (and nothing else the agent should read).",
    });
  }
  if (!statSync(real).isDirectory()) throw new CboError("ERR_VALIDATION", `--secret-files ${dir} is not a directory.`);
  return real;
}

/**
 * The real path of `path` when it lies inside `dir` (the resolved --secret-files directory), after
 * following every symlink: a link inside the directory to a file outside it is refused too.
 */
export function confineSecretFile(path: string, dir: string | undefined): string {
  if (!isAbsolute(path))
    throw new CboError("ERR_VALIDATION", `from_file must be an absolute path (got a relative one).`, {
      hint: "Ask the user for the full path of the file holding the new value.",
    });
  if (dir === undefined)
    throw new CboError("ERR_FORBIDDEN", "from_file is off: this `cbo mcp` was started without --secret-files DIR, so it reads no file.", {
      hint: "Use generate_bytes for a new random value, or ask the operator to start `cbo mcp --secret-files <directory holding the new values>` (or set CBO_MCP_SECRET_FILES).",
    });
  let real: string;
  try {
    real = realpathSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CboError(code === "ENOENT" ? "ERR_NOT_FOUND" : "ERR_IO", `Cannot open ${path} (${code ?? "error"}).`);
  }
  const rel = relative(dir, real);
  if (rel === "" || rel.startsWith("..") || isAbsolute(rel))
    throw new CboError("ERR_FORBIDDEN", `${path} is outside ${dir}, the one directory this \`cbo mcp\` reads secret values from.`, {
      hint: "Ask the user to put the new value in a file there (mode 0600), or use generate_bytes.",
    });
  return real;
}

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
