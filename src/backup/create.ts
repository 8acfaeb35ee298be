// createBackup: one encrypted, integrity-checked archive of the store, vault and audit log (the
// database file) and the audit checkpoint file, written atomically with mode 0600. The master key
// and the edge's data are never inside.
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { CboError, isCboError } from "../kit/errors.ts";
import type { Db } from "../store/db.ts";
import { classifyStorageError, diskFullError } from "../store/storage-errors.ts";
import type { MasterKey } from "../vault/index.ts";
import { sealArchive } from "./seal.ts";
import { snapshot } from "./snapshot.ts";
import { CHECKPOINTS_FILE, DB_FILE } from "./format.ts";
import { removeLeftBehind } from "../config/dead-temps.ts";

export type BackupOptions = {
  dataDir: string;
  /** An open connection to the data directory's database (the daemon's); else the file is opened. */
  db?: Db;
  masterKey: MasterKey;
  /** The archive's path; it must not exist yet. */
  out: string;
  now?: () => Date;
  /**
   * Signs an audit checkpoint over everything committed (the daemon's audit.checkpoint, which also
   * ships it to the checkpoint file) just before the copy, so the archive carries a signed
   * checkpoint at its own head: a restore then checks the whole archived log, and an off-site
   * checkpoint file's later checkpoints are recognisably after the backup. A failure fails the backup.
   */
  checkpoint?: () => Promise<unknown>;
};

export type BackupResult = {
  file: string;
  bytes: number;
  createdAt: string;
  masterKeyId: string;
  files: Array<{ name: string; bytes: number }>;
  audit: { entries: number; checkpoints: number };
};

export async function createBackup(opts: BackupOptions): Promise<BackupResult> {
  const out = resolve(opts.out);
  const dataDir = resolve(opts.dataDir);
  if (existsSync(out))
    throw new CboError("ERR_CONFLICT", `${out} already exists; a backup never overwrites a file.`, {
      hint: "Choose another --out, or --dir for generated names.",
    });
  mkdirSync(dirname(out), { recursive: true, mode: 0o700 });
  // Beside the archive, so the copy lands where the operator made room, and private (0700).
  if (opts.checkpoint) await opts.checkpoint();
  removeOrphanedTemps(dirname(out));
  const tmpDir = mkdtempSync(join(dirname(out), `.${basename(out)}.tmp-${process.pid}-`));
  try {
    const snap = await snapshot({ dataDir, ...(opts.db ? { db: opts.db } : {}), masterKey: opts.masterKey, tmpDir });
    const createdAt = (opts.now?.() ?? new Date()).toISOString();
    const { header, bytes } = sealArchive({
      files: snap.files,
      masterKey: opts.masterKey,
      out,
      tmp: join(tmpDir, "archive"),
      createdAt,
      ...(snap.kdf ? { kdf: snap.kdf } : {}),
    });
    return { file: out, bytes, createdAt, masterKeyId: opts.masterKey.id, files: header.files, audit: snap.audit };
  } catch (e) {
    if (isCboError(e) && e.code !== "ERR_DISK_FULL" && !(e.code === "ERR_IO" && e.cause !== undefined)) throw e;
    // A full disk is named with what the archive needs: about the size of the database and checkpoint file.
    // Everything from here is written beside the archive (the temp directory), so a full disk is
    // the archive's, whichever copy met it: named by the archive's path, not a temp file's or the
    // source's (a copy's ENOSPC carries the file it read from, on the roomy data disk).
    const where = { path: out, neededBytes: archiveEstimate(dataDir) };
    const full = classifyStorageError(e, where);
    if (full?.code === "ERR_DISK_FULL") throw diskFullError(where, e);
    if (full) throw full;
    if (isCboError(e)) throw e;
    throw new CboError("ERR_IO", `The backup could not be written to ${out}.`, { cause: e });
  } finally {
    rmSync(tmpDir, { recursive: true, force: true });
  }
}

/** Twice the bytes an archive of `dataDir` takes (the copy in the temp directory, then the archive), at least 1 MiB. */
function archiveEstimate(dataDir: string): number {
  const size = (f: string) => (existsSync(f) ? statSync(f).size : 0);
  const db = [DB_FILE, `${DB_FILE}-wal`, CHECKPOINTS_FILE].reduce((n, f) => n + size(join(dataDir, f)), 0);
  return Math.max(2 * db, 1024 * 1024);
}

/** `.<archive>.tmp-<pid>-<random>`: a backup's working directory, named by the process writing it. */
const TEMP = /^\..+\.tmp-(\d+)-[A-Za-z0-9]{6}$/;

/**
 * Removes the working directories of backups whose process is gone. A backup killed mid-way
 * (SIGKILL, a crash, the machine off) never ran its cleanup, and its directory holds a copy of the
 * database in clear (the archive is only sealed at the end), beside the archives: often the one
 * volume that leaves the machine. A live process's directory, this one's included, is left alone.
 */
function removeOrphanedTemps(dir: string): void {
  removeLeftBehind(dir, (name) => TEMP.exec(name)?.[1]);
}
