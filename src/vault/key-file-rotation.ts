// Master-key rotation when the key lives in a file, with no moment at which a crash loses the key
// that opens the vault. Each step is durable before the next:
//
//   1. a new key goes to <file>.next (0600, fsynced); a stale one, left by a rotation that never
//      committed, is removed first (it never sealed anything);
//   2. the vault re-wraps every data key under it in one transaction (rotate.ts): from the commit
//      on, <file>.next holds the key that opens the vault;
//   3. the old key is kept as <file>.retired-<key id> (0600, a hard link where possible): archives
//      sealed under it are restored with it, and nothing else uses it;
//   4. <file>.next is renamed over <file>: atomic, so <file> holds either key, never a torn one.
//
// A crash between 2 and 4 leaves <file> with a retired key and <file>.next with the current one;
// completeKeyFileRotation, run before the vault is opened, finishes 3 and 4. The process that
// rotates keeps serving throughout: step 2 swaps its in-memory key when the transaction commits.
import { closeSync, constants, copyFileSync, existsSync, fsyncSync, linkSync, openSync, renameSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { CboError, isCboError } from "../kit/errors.ts";
import type { Db } from "../store/db.ts";
import { generateKeyFile, masterKeyFromFile } from "./key-file.ts";
import { isRetired } from "./keyring.ts";
import type { MasterKey } from "./master-key.ts";
import { readMeta } from "./meta.ts";
import type { Rotation } from "./rotate.ts";
import type { Logger } from "../telemetry/index.ts";

export const nextKeyFile = (file: string) => `${file}.next`;
export const retiredKeyFile = (file: string, keyId: string) => `${file}.retired-${keyId}`;

export type KeyFileRotation = Rotation & { keyFile: string; retiredKeyFile: string; next: MasterKey };

/**
 * Rotates the vault sealed with the key in `file` to a new random key, written over `file`.
 * `rotate` is the vault's rotateMasterKey (audited by the vault, in its transaction).
 */
export function rotateKeyFile(o: {
  file: string;
  db: Db;
  currentKeyId: string;
  rotate: (next: MasterKey) => Rotation;
  log: Logger;
}): KeyFileRotation {
  const { file, log } = o;
  const before = masterKeyFromFile(file);
  if (before.id !== o.currentKeyId) {
    throw new CboError(
      "ERR_CONFLICT",
      `${file} holds master key ${before.id}, but the vault is sealed with ${o.currentKeyId}; refusing to rotate.`,
      {
        hint: "the key file was changed underneath the daemon: put the key the vault is sealed with back, then retry",
      },
    );
  }
  const nextFile = nextKeyFile(file);
  clearStaleNext(nextFile, o.db, log);
  const next = generateKeyFile(nextFile);
  fsyncDir(dirname(file));
  let rotation: Rotation;
  try {
    rotation = o.rotate(next);
  } catch (e) {
    rmSync(nextFile, { force: true }); // nothing was sealed with it: the transaction rolled back
    throw e;
  }
  // From here on <file>.next opens the vault: a failure must leave it in place and say so.
  try {
    const retired = keepRetired(file, before.id);
    renameSync(nextFile, file);
    fsyncDir(dirname(file));
    const check = masterKeyFromFile(file);
    if (check.id !== next.id) throw new Error(`${file} reads back as key ${check.id}`);
    log.info(`vault: ${file} now holds master key ${next.id}; the retired key ${before.id} is kept as ${retired}`);
    return { ...rotation, keyFile: file, retiredKeyFile: retired, next };
  } catch (e) {
    throw new CboError(
      "ERR_IO",
      `The vault is now sealed with master key ${next.id}, kept in ${nextFile}, but it could not be moved over ${file}.`,
      {
        cause: e,
        details: { keyFile: file, nextKeyFile: nextFile, keyId: next.id },
        hint: `before the daemon restarts: mv ${nextFile} ${file} (the daemon also finishes this on start)`,
      },
    );
  }
}

/**
 * Finishes a rotation interrupted between its commit and its rename (see above): when the vault in
 * `db` is sealed with the key in <file>.next, not the one in `file`. Returns whether it did.
 */
export function completeKeyFileRotation(file: string, db: Db, log: Logger): boolean {
  const nextFile = nextKeyFile(file);
  if (!existsSync(nextFile) || !existsSync(file)) return false;
  const current = readMeta(db, "keys")?.current;
  const inFile = masterKeyFromFile(file);
  if (current === undefined || inFile.id === current) return false;
  const next = masterKeyFromFile(nextFile);
  if (next.id !== current) return false;
  const retired = keepRetired(file, inFile.id);
  renameSync(nextFile, file);
  fsyncDir(dirname(file));
  log.info(`vault: finished an interrupted master-key rotation: ${file} now holds ${next.id}; ${inFile.id} is kept as ${retired}`);
  return true;
}

/** A <file>.next that is there before we write one: removed if it never sealed this vault. */
function clearStaleNext(nextFile: string, db: Db, log: Logger): void {
  if (!existsSync(nextFile)) return;
  let id: string | undefined;
  try {
    id = masterKeyFromFile(nextFile).id;
  } catch (e) {
    if (!isCboError(e)) throw e;
  }
  if (id !== undefined && (isRetired(db, id) || readMeta(db, "keys")?.current === id)) {
    throw new CboError("ERR_CONFLICT", `${nextFile} holds master key ${id}, which has sealed this vault; refusing to replace it.`, {
      hint: `move it aside (it may be needed to restore a backup), then retry`,
    });
  }
  rmSync(nextFile, { force: true });
  log.info(`vault: removed ${nextFile}, left by a master-key rotation that never committed`);
}

/** <file>.retired-<id> with the key now in `file`, 0600 like it. */
function keepRetired(file: string, keyId: string): string {
  const retired = retiredKeyFile(file, keyId);
  if (existsSync(retired)) {
    if (masterKeyFromFile(retired).id === keyId) return retired;
    throw new CboError("ERR_CONFLICT", `${retired} exists and holds another key.`);
  }
  try {
    linkSync(file, retired);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EXDEV") throw e;
    copyFileSync(file, retired, constants.COPYFILE_EXCL);
    const fd = openSync(retired, "r+");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
  if (masterKeyFromFile(retired).id !== keyId) throw new Error(`${retired} does not read back as key ${keyId}`);
  return retired;
}

function fsyncDir(dir: string): void {
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
