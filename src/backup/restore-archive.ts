// restoreBackup: an archive onto an empty (or new) data directory. Order matters for "nothing is
// left behind on failure":
//
//   1. the target must be empty or absent; the archive's header must be intact and name this
//      master key, whose unwrap of the archive key must authenticate: all before anything is written;
//   2. the body is decrypted into the target's files (0600); the GCM tag and the plaintext SHA-256
//      are checked at the end;
//   3. verifyRestored: quick_check, the vault opens with this key, the audit chain verifies against
//      the last signed checkpoint;
//   4. any failure in 2-3 removes every file written (and the directory, if it was created here).
//
// A marker file written before step 2 and removed after step 3 tells a restore that was stopped
// part-way (SIGKILL: no step 4) from a data directory (interrupted-restore.ts).
//
// What is left to reconcile with the edge (unfinished releases) is done by the daemon on start:
// engine.recover() re-reads what each target runs.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, rmSync, statSync, writeSync } from "node:fs";
import { join, resolve } from "node:path";
import type { VerifyCheckpoint } from "../audit/index.ts";
import { CboError, isCboError } from "../kit/errors.ts";
import type { MasterKey } from "../vault/index.ts";
import { fsyncDir } from "./files.ts";
import { clearInterruptedRestore, RESTORE_MARKER, type MarkerBody } from "./interrupted-restore.ts";
import { classifyStorageError } from "../store/storage-errors.ts";
import { ARCHIVE_FILES, bodyBytes, CHECKPOINTS_FILE, DB_FILE } from "./format.ts";
import { openArchiveKeys } from "./keys.ts";
import { decrypt, openArchive } from "./open-archive.ts";
import { verifyRestored, type PublicKeys, type RestoredState } from "./verify-restored.ts";

export type RestoreOptions = {
  archive: string;
  /** Must be empty or not exist. */
  dataDir: string;
  masterKey: MasterKey;
  /** The orchestrator's public key; by default the one the restored vault holds. */
  publicKey?: PublicKeys;
  /** Checkpoints kept outside the VPS (e.g. readAuditExport(file).checkpoints), checked too. */
  checkpoints?: VerifyCheckpoint[];
};

export type RestoreResult = RestoredState & {
  dataDir: string;
  createdAt: string;
  masterKeyId: string;
  files: Array<{ name: string; bytes: number }>;
};

/** Every file a restore may leave in the target: the archive's files and SQLite's companions. */
const WRITTEN = [...ARCHIVE_FILES, `${DB_FILE}-wal`, `${DB_FILE}-shm`, `${DB_FILE}-journal`];

export async function restoreBackup(opts: RestoreOptions): Promise<RestoreResult> {
  const dataDir = resolve(opts.dataDir);
  // What a stopped restore left is cleared first (only its own files, and only if it is gone).
  const existed = clearInterruptedRestore(dataDir, WRITTEN) || checkTarget(dataDir);
  const archive = openArchive(resolve(opts.archive));
  let created = false;
  try {
    const contentKey = openArchiveKeys(opts.masterKey, archive.header);
    if (!existed) {
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      created = true;
    }
    // Before the first byte of the archive: a restore stopped from here on is recognisable as one (interrupted-restore.ts).
    writeMarker(dataDir, resolve(opts.archive));
    try {
      writeFiles(archive, contentKey, dataDir);
    } finally {
      contentKey.fill(0);
    }
    fsyncDir(dataDir);
    const state = await verifyRestored({
      dbFile: join(dataDir, DB_FILE),
      checkpointsFile: join(dataDir, CHECKPOINTS_FILE),
      masterKey: opts.masterKey,
      ...(opts.publicKey ? { publicKey: opts.publicKey } : {}),
      ...(opts.checkpoints ? { checkpoints: opts.checkpoints } : {}),
    });
    // Everything verified: from now on the directory is a data directory like any other.
    rmSync(join(dataDir, RESTORE_MARKER));
    fsyncDir(dataDir);
    return {
      dataDir,
      createdAt: archive.header.created_at,
      masterKeyId: archive.header.master_key_id,
      files: archive.header.files,
      ...state,
    };
  } catch (e) {
    if (created) rmSync(dataDir, { recursive: true, force: true });
    else for (const f of [...WRITTEN, RESTORE_MARKER]) rmSync(join(dataDir, f), { force: true });
    if (isCboError(e)) throw e;
    // A full disk is named with the room the restored files take.
    const full = classifyStorageError(e, { path: dataDir, neededBytes: bodyBytes(archive.header) + 1024 * 1024 });
    if (full) throw full;
    throw new CboError("ERR_IO", `The backup could not be restored into ${dataDir}.`, {
      cause: e,
      hint: "nothing was left in the data directory",
    });
  } finally {
    archive.close();
  }
}

/** True if the directory exists (and is empty); refuses anything else before a byte is written. */
function checkTarget(dir: string): boolean {
  if (!existsSync(dir)) return false;
  if (!statSync(dir).isDirectory()) throw new CboError("ERR_VALIDATION", `${dir} is not a directory.`);
  const entries = readdirSync(dir);
  if (entries.length > 0) {
    throw new CboError(
      "ERR_CONFLICT",
      `${dir} is not empty (${entries.length} entr${entries.length === 1 ? "y" : "ies"}); a restore never overwrites a data directory.`,
      {
        details: { dataDir: dir, entries: entries.length },
        hint: "Restore into a new or empty directory, then point the daemon at it (--data).",
      },
    );
  }
  return true;
}

function writeMarker(dataDir: string, archive: string): void {
  const body: MarkerBody = { pid: process.pid, archive, startedAt: new Date().toISOString() };
  const fd = openSync(join(dataDir, RESTORE_MARKER), "wx", 0o600);
  try {
    writeSync(fd, JSON.stringify(body) + "\n");
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  fsyncDir(dataDir);
}

function writeFiles(archive: ReturnType<typeof openArchive>, contentKey: Uint8Array, dataDir: string): void {
  const fds = new Map<string, number>();
  try {
    decrypt(archive, contentKey, {
      start: (name) => fds.set(name, openSync(join(dataDir, name), "wx", 0o600)),
      chunk: (name, bytes) => void writeSync(fds.get(name)!, bytes),
    });
    for (const fd of fds.values()) fsyncSync(fd);
  } finally {
    for (const fd of fds.values()) closeSync(fd);
  }
}
