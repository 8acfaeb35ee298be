// A missing or empty database is a new orchestrator only in a data directory that never held one.
// Where the files an orchestrator leaves beside its database are present (its admin token, audit
// checkpoints, daemon.json …), opening would create an empty store: a new vault sealed, a new
// admin token written over the old one, every release, secret and token gone without a word. So
// that is refused, before SQLite creates the file, and the way back (cbo restore) is named.
import { existsSync, statSync } from "node:fs";
import { basename, dirname } from "node:path";
import { CboError } from "../kit/errors.ts";

export type LostStoreCheck = {
  /** The database file. */
  file: string;
  /** Paths whose presence (a non-empty file, or a directory) shows that the data directory has held state. */
  traces: string[];
  /** The newest backup archive known, to name in the hint. */
  newestBackup?: string | undefined;
  /** The checkpoint file kept beside the data, to name in the hint. */
  checkpointFile?: string | undefined;
};

const present = (p: string): boolean => {
  try {
    const st = statSync(p);
    return st.isDirectory() || st.size > 0;
  } catch {
    return false;
  }
};

/** Throws ERR_STORE_LOST when the database is missing or empty but the directory has held state. */
export function refuseLostStore(c: LostStoreCheck): void {
  const size = existsSync(c.file) ? statSync(c.file).size : undefined;
  if (size !== undefined && size > 0) return;
  // The -wal of a database deleted while open counts too: it held that database's latest pages.
  const found = [...new Set([...c.traces, `${c.file}-wal`])].filter(present);
  if (found.length === 0) return;
  const dir = dirname(c.file);
  const names = found.map((p) => (dirname(p) === dir ? basename(p) : p));
  const archive = c.newestBackup ?? "<archive>";
  const checkpoint = c.checkpointFile && present(c.checkpointFile) ? ` --checkpoint ${c.checkpointFile}` : "";
  throw new CboError(
    "ERR_STORE_LOST",
    `${c.file} is ${size === undefined ? "missing" : "empty"}, but ${dir} has held an orchestrator's state (${names.join(", ")}). ` +
      "Starting would seal a new, empty vault and issue a new admin token over the old one, so the daemon refuses to start.",
    {
      details: {
        path: c.file,
        state: size === undefined ? "missing" : "empty",
        traces: names,
        ...(c.newestBackup ? { newestBackup: c.newestBackup } : {}),
      },
      hint:
        `Restore the newest backup into a new directory: cbo restore ${archive} --data <new dir>${checkpoint}, then start the daemon on <new dir>` +
        `${c.newestBackup ? "" : " (scheduled backups are in <data>/backups)"}. To start afresh on purpose, use a new, empty data directory.`,
    },
  );
}
