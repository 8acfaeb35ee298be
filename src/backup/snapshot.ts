// A consistent copy of the data directory's state, in a private temp directory:
//
//   1. the audit checkpoint file is copied first: the daemon appends a checkpoint to it only after
//      committing it to the database, so every checkpoint in the copy is also in the database copy
//      taken next (the other order could hold a checkpoint beyond the copied log, which restore
//      would rightly report as a truncated log);
//   2. SQLite's online backup copies the database through a connection of our own, in one step,
//      which reads one snapshot while the daemon keeps writing (WAL: readers never block writers);
//   3. the copy is brought to this version's schema and checked: the master key must open its
//      vault, or the archive would be sealed with a key that cannot read the secrets inside.
import { backup, DatabaseSync } from "node:sqlite";
import { copyFileSync, existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { CboError } from "../kit/errors.ts";
import { openDb, type Db } from "../store/db.ts";
import { createVault, type MasterKey } from "../vault/index.ts";
import { readMeta, type Kdf } from "../vault/meta.ts";
import { CHECKPOINTS_FILE, DB_FILE } from "./format.ts";

/** One backup step copies every page: a step is one read snapshot; smaller steps restart whenever another connection writes. */
const ALL_PAGES = 2 ** 31 - 1;

export type Snapshot = {
  files: Array<{ name: typeof DB_FILE | typeof CHECKPOINTS_FILE; path: string; bytes: number }>;
  kdf: Kdf | undefined;
  audit: { entries: number; checkpoints: number };
};

export async function snapshot(opts: { dataDir: string; db?: Db; masterKey: MasterKey; tmpDir: string }): Promise<Snapshot> {
  const files: Snapshot["files"] = [];
  const cpSource = join(opts.dataDir, CHECKPOINTS_FILE);
  const cpCopy = join(opts.tmpDir, CHECKPOINTS_FILE);
  if (existsSync(cpSource)) {
    copyFileSync(cpSource, cpCopy);
    files.push({ name: CHECKPOINTS_FILE, path: cpCopy, bytes: statSync(cpCopy).size });
  }

  const dbCopy = join(opts.tmpDir, DB_FILE);
  await onlineBackup(opts.db, join(opts.dataDir, DB_FILE), dbCopy);
  const inspected = inspect(dbCopy, opts.masterKey);
  files.unshift({ name: DB_FILE, path: dbCopy, bytes: statSync(dbCopy).size });
  return { files, ...inspected };
}

async function onlineBackup(db: Db | undefined, defaultPath: string, dest: string): Promise<void> {
  const location = db?.location() ?? defaultPath;
  if (db && !location) {
    await backup(db, dest, { rate: ALL_PAGES }); // an in-memory database has no file to open again
    return;
  }
  if (!existsSync(location)) {
    throw new CboError("ERR_NOT_FOUND", `There is no orchestrator database at ${location}.`, {
      hint: "Pass the daemon's data directory with --data.",
    });
  }
  // Our own connection, so the daemon's connection is never held for the copy's duration.
  const source = new DatabaseSync(location);
  try {
    source.exec("PRAGMA busy_timeout = 5000");
    await backup(source, dest, { rate: ALL_PAGES });
  } catch (e) {
    throw new CboError("ERR_IO", `The database at ${location} could not be copied.`, { cause: e });
  } finally {
    source.close();
  }
}

function inspect(file: string, masterKey: MasterKey): Omit<Snapshot, "files"> {
  const db = openDb(file); // migrates the copy forward, as the daemon would on start
  try {
    db.exec("BEGIN");
    try {
      // Opening the vault checks the key (and would seal an empty vault: rolled back below).
      createVault({ db, masterKey });
      const count = (table: string) => Number((db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n);
      return { kdf: readMeta(db, "kdf"), audit: { entries: count("audit_entries"), checkpoints: count("audit_checkpoints") } };
    } finally {
      db.exec("ROLLBACK");
    }
  } finally {
    // The migrations went to the copy's WAL: fold them into the file that gets sealed.
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    db.close();
  }
}
