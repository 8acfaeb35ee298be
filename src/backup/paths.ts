// Where the daemon may write an archive it is asked for (POST /v1/backups: `out` or `dir`). The
// request comes with an admin token, but the paths are on the daemon's host and the daemon writes
// as its own user, so it writes only where that user already keeps its own things:
//   - the backup directory (<data>/backups, or the one configured), created when missing; or
//   - a directory that exists and belongs to the daemon's user; or a new directory directly inside
//     such a one (one level is created, 0700: `cbo backup --dir ~/backups/new` works, but
//     "/nonexistent/dir/x" does not create a tree);
//   - never elsewhere in the data directory (it holds the database, the key file, the tunnel token),
//     and never a directory of another user (/etc, /dev, /tmp itself).
// An archive never replaces a file (createBackup refuses an existing `out`). Refusals are
// ERR_VALIDATION naming the path and why, with nothing created.
import { lstatSync, realpathSync, statSync, type Stats } from "node:fs";
import { basename, dirname, isAbsolute, resolve, sep } from "node:path";
import { CboError } from "../kit/errors.ts";

/** Longest path and longest path component, in bytes (Linux's PATH_MAX and NAME_MAX). */
export const MAX_PATH_BYTES = 4096;
export const MAX_NAME_BYTES = 255;

/** Why `p` is not a usable absolute path, or undefined when it is. Pure: for the API's schema too. */
export function pathProblem(p: string): string | undefined {
  if (p.includes("\0")) return "it contains a NUL byte";
  if (!isAbsolute(p)) return "it is not an absolute path on the daemon's host";
  if (Buffer.byteLength(p) > MAX_PATH_BYTES) return `it is longer than ${MAX_PATH_BYTES} bytes`;
  const parts = p.split("/");
  if (parts.some((c) => c === "..")) return "it contains a .. component";
  if (parts.some((c) => Buffer.byteLength(c) > MAX_NAME_BYTES)) return `a name in it is longer than ${MAX_NAME_BYTES} bytes`;
  return undefined;
}

const within = (child: string, parent: string) => child === parent || child.startsWith(parent.endsWith(sep) ? parent : parent + sep);

function refuse(path: string, why: string): CboError {
  return new CboError("ERR_VALIDATION", `The daemon does not write a backup to ${path}: ${why}.`, {
    details: { path, reason: why },
    hint: "Use the daemon's backup directory (the default), or an existing directory owned by the daemon's user (or a new one directly inside it).",
  });
}

const statOf = (p: string): Stats | undefined => {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
};
const realOf = (p: string): string => {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
};

/**
 * Checks where an archive asked for would go; ERR_VALIDATION when the daemon does not write there.
 * `uid` is the daemon's user (default process.getuid()).
 */
export function checkArchivePlace(o: { out?: string; dir?: string; dataDir: string; backupDir: string; uid?: number }): void {
  for (const p of [o.out, o.dir]) {
    if (p === undefined) continue;
    const problem = pathProblem(p);
    if (problem) throw refuse(p.replace(/\0/g, "\\0").slice(0, 300), problem);
  }
  const backupDir = realOf(resolve(o.backupDir));
  const dataDir = realOf(resolve(o.dataDir));
  const uid = o.uid ?? process.getuid?.();
  if (o.out !== undefined) {
    const out = resolve(o.out);
    if (lstatOf(out))
      throw new CboError("ERR_CONFLICT", `${out} already exists; a backup never overwrites a file.`, {
        details: { path: out },
        hint: "Choose another --out, or --dir for generated names.",
      });
    if (basename(out) === "") throw refuse(out, "it names no file");
  }
  const dir = o.out !== undefined ? dirname(resolve(o.out)) : resolve(o.dir ?? o.backupDir);
  const st = statOf(dir);
  if (st && !st.isDirectory()) throw refuse(dir, "it is not a directory");
  // The backup directory is the daemon's own: created (with its parents) when missing.
  if (within(realOf(dir), backupDir) || (!st && within(resolve(dir), resolve(o.backupDir)))) return;
  const existing = st ? dir : dirname(dir);
  const est = st ?? statOf(existing);
  if (!est) throw refuse(dir, `neither it nor ${existing} exists (the daemon creates at most one directory level)`);
  if (!est.isDirectory()) throw refuse(dir, `${existing} is not a directory`);
  const real = realOf(existing);
  if (within(real, dataDir) && !within(real, backupDir))
    throw refuse(dir, "it is inside the data directory (only its backup directory takes archives)");
  if (uid !== undefined && est.uid !== uid) throw refuse(dir, `${existing} does not belong to the daemon's user`);
}

function lstatOf(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}
