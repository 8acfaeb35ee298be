// The master key from a file: refused unless only its owner can read and write it (the ssh rule),
// since a key anyone on the box can read protects nothing.
import { closeSync, constants, fstatSync, fsyncSync, mkdirSync, openSync, readFileSync, rmSync, writeSync, chmodSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { dirname } from "node:path";
import { CboError, isCboError } from "../kit/errors.ts";
import { classifyStorageError } from "../store/storage-errors.ts";
import { KEY_BYTES } from "./gcm.ts";
import { MasterKey, parseKeyText } from "./master-key.ts";

const octal = (mode: number) => "0" + (mode & 0o777).toString(8);

export function masterKeyFromFile(file: string): MasterKey {
  let fd: number;
  try {
    // Non-blocking: a FIFO named by mistake would otherwise hold the open (and the daemon's
    // start) until something writes to it; opened at once, it is refused below.
    fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new CboError("ERR_NOT_FOUND", `master key file ${file} does not exist`, {
        hint: `(umask 077; openssl rand -base64 32 > ${file})`,
      });
    }
    throw new CboError("ERR_IO", `cannot open master key file ${file} (${code ?? "error"})`);
  }
  try {
    // fstat on the open descriptor: the mode checked is the mode of the bytes read.
    const st = fstatSync(fd);
    if (!st.isFile()) throw new CboError("ERR_VALIDATION", `master key file ${file} is not a regular file`);
    if ((st.mode & 0o077) !== 0) {
      throw new CboError(
        "ERR_VALIDATION",
        `master key file ${file} is accessible by group or others (mode ${octal(st.mode)}); refusing to use it`,
        {
          details: { file, mode: octal(st.mode) },
          hint: `chmod 600 ${file}`,
        },
      );
    }
    // A key is 32 bytes, 64 as hex text: a big file is not a key file (and is not read whole).
    if (st.size > 4096)
      throw new CboError("ERR_VALIDATION", `master key file ${file} is ${st.size} bytes; a key file holds one 32-byte key`);
    const buf = readFileSync(fd);
    try {
      if (buf.toString("latin1").trim() === "")
        throw new CboError("ERR_VALIDATION", `master key file ${file} is empty (a write of it was cut off, or it was emptied)`, {
          details: { file },
          hint: damagedKeyFileHint(file),
        });
      // The key as hex/base64 text (what generateKeyFile writes), or raw 32 bytes. Text first: a
      // 32-character hex line (a 16-byte key) must be refused, not taken for raw bytes.
      const raw = buf.length === KEY_BYTES && !/^[\sA-Za-z0-9+/=_-]*$/.test(buf.toString("latin1"));
      const bytes = raw ? Buffer.from(buf) : keyFileText(buf.toString("utf8"), file);
      try {
        return new MasterKey(bytes, "file");
      } finally {
        bytes.fill(0);
      }
    } finally {
      buf.fill(0);
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * What to do about a master key file that does not hold a key. Not "generate one": a new key opens
 * nothing a vault sealed with the old one holds.
 */
const damagedKeyFileHint = (file: string) =>
  "put back the copy of this key you keep apart from the machine (the daemon names the key id its vault needs); " +
  `only a key file that never sealed a vault (a first start cut off) may be replaced: remove it and write a new one ((umask 077; openssl rand -base64 32 > ${file}); \`cbo up\` and \`cbo init\` do that for <data>/master.key)`;

/** parseKeyText with the key file's own hint. */
function keyFileText(text: string, file: string): Buffer {
  try {
    return parseKeyText(text, `master key file ${file}`);
  } catch (e) {
    if (!isCboError(e)) throw e;
    throw new CboError(e.code, e.message, { details: { file }, hint: damagedKeyFileHint(file) });
  }
}

/**
 * Writes a new random master key (base64, one line) to a new 0600 file, flushed to disk, and
 * returns it. Never overwrites: replacing a key file loses every secret sealed with it.
 */
export function generateKeyFile(file: string): MasterKey {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const bytes = randomBytes(KEY_BYTES);
  const text = Buffer.from(bytes.toString("base64") + "\n");
  let fd: number;
  try {
    fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (e) {
    bytes.fill(0);
    text.fill(0);
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST") {
      throw new CboError("ERR_CONFLICT", `master key file ${file} already exists; refusing to overwrite it`, {
        hint: "keep the existing key: replacing it would make every secret sealed with it unreadable",
      });
    }
    throw (
      classifyStorageError(e, { path: file, neededBytes: 64 * 1024 }) ??
      new CboError("ERR_IO", `cannot create master key file ${file} (${code ?? "error"})`)
    );
  }
  try {
    chmodSync(file, 0o600); // the umask can only remove bits, but say it explicitly
    writeSync(fd, text);
    fsyncSync(fd);
    return new MasterKey(bytes, "file");
  } catch (e) {
    // An empty or half-written key file would be read as a broken key on the next start: remove it.
    rmSync(file, { force: true });
    throw (
      classifyStorageError(e, { path: file, neededBytes: 64 * 1024 }) ??
      new CboError("ERR_IO", `cannot write master key file ${file} (${(e as NodeJS.ErrnoException).code ?? "error"})`, { cause: e })
    );
  } finally {
    closeSync(fd);
    bytes.fill(0);
    text.fill(0);
  }
}
