// One backup now, the way `cbo backup` and the daemon's POST /v1/backups (and its schedule) take
// it: an archive at `out`, or under a generated name in `dir`; then `written` (the audit entry:
// if it throws, the archive is removed again and the error passed on, so no backup exists that is
// not on the record); then retention, which keeps the `keep` newest archives in `dir`.
import { rmSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Db } from "../store/db.ts";
import type { MasterKey } from "../vault/index.ts";
import { createBackup, type BackupResult } from "./create.ts";
import { archiveName, pruneArchives } from "./retention.ts";

export const DEFAULT_BACKUP_DIR = "backups";

export type BackupNowOptions = {
  dataDir: string;
  /** The daemon's open connection (only its file name is used: the copy reads through its own). */
  db?: Db;
  masterKey: MasterKey;
  /** One archive here (it must not exist); else a generated name in `dir`. */
  out?: string;
  /** Default <dataDir>/backups. */
  dir?: string;
  /** With `dir`: afterwards remove all but the newest `keep` archives there. */
  keep?: number;
  now?: () => Date;
  /** Signs an audit checkpoint just before the copy (createBackup's `checkpoint`). */
  checkpoint?: () => Promise<unknown>;
  written?: (r: BackupResult) => void | Promise<void>;
};

export type BackupDone = BackupResult & { removed: string[] };

export async function backupNow(o: BackupNowOptions): Promise<BackupDone> {
  const dataDir = resolve(o.dataDir);
  const at = o.now?.() ?? new Date();
  const dir = o.out === undefined ? resolve(o.dir ?? join(dataDir, DEFAULT_BACKUP_DIR)) : undefined;
  const out = o.out === undefined ? join(dir!, archiveName(at)) : resolve(o.out);
  const result = await createBackup({
    dataDir,
    ...(o.db ? { db: o.db } : {}),
    masterKey: o.masterKey,
    out,
    now: () => at,
    ...(o.checkpoint ? { checkpoint: o.checkpoint } : {}),
  });
  try {
    await o.written?.(result);
  } catch (e) {
    rmSync(result.file, { force: true });
    throw e;
  }
  const removed = dir !== undefined && o.keep !== undefined ? pruneArchives(dir, o.keep) : [];
  return { ...result, removed };
}
