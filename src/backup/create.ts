// createBackup: one encrypted, integrity-checked archive of the store, vault and audit log (the
// database file) and the audit checkpoint file, written atomically with mode 0600. The master key
// and the edge's data are never inside.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { CboError, isCboError } from "../kit/errors.ts";
import type { Db } from "../store/db.ts";
import type { MasterKey } from "../vault/index.ts";
import { sealArchive } from "./seal.ts";
import { snapshot } from "./snapshot.ts";

export type BackupOptions = {
  dataDir: string;
  /** An open connection to the data directory's database (the daemon's); else the file is opened. */
  db?: Db;
  masterKey: MasterKey;
  /** The archive's path; it must not exist yet. */
  out: string;
  now?: () => Date;
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
  if (existsSync(out)) throw new CboError("ERR_CONFLICT", `${out} already exists; a backup never overwrites a file.`, { hint: "Choose another --out, or --dir for generated names." });
  mkdirSync(dirname(out), { recursive: true, mode: 0o700 });
  // Beside the archive, so the copy lands where the operator made room, and private (0700).
  const tmpDir = mkdtempSync(join(dirname(out), `.${basename(out)}.tmp-`));
  try {
    const snap = await snapshot({ dataDir, ...(opts.db ? { db: opts.db } : {}), masterKey: opts.masterKey, tmpDir });
    const createdAt = (opts.now?.() ?? new Date()).toISOString();
    const { header, bytes } = sealArchive({
      files: snap.files, masterKey: opts.masterKey, out, tmp: join(tmpDir, "archive"), createdAt, ...(snap.kdf ? { kdf: snap.kdf } : {}),
    });
    return { file: out, bytes, createdAt, masterKeyId: opts.masterKey.id, files: header.files, audit: snap.audit };
  } catch (e) {
    if (isCboError(e)) throw e;
    throw new CboError("ERR_IO", `The backup could not be written to ${out}.`, { cause: e });
  } finally {
    rmSync(tmpDir, { recursive: true, force: true });
  }
}
