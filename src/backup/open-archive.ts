// Reading an archive (format.ts): the header, then the body decrypted in chunks and handed out file
// by file. Decrypted bytes are handed out before the tag is checked at the end (that is how a
// streamed GCM works), so the caller writes them where it can remove them: decrypt() throws
// ERR_VAULT_INTEGRITY at the end when the tag or the plaintext's SHA-256 does not match.
import { createDecipheriv, createHash } from "node:crypto";
import { closeSync, constants, fstatSync, openSync } from "node:fs";
import { CboError } from "../kit/errors.ts";
import { integrity } from "./errors.ts";
import { readChunks, readExactly } from "./files.ts";
import { bodyBytes, CHECK_BYTES, decodeHeader, headerLength, PLAIN_LEAD, TAG_BYTES, type Header } from "./format.ts";

export type Archive = { fd: number; file: string; header: Header; aad: Buffer; bodyStart: number; close(): void };

export function openArchive(file: string): Archive {
  let fd: number;
  try {
    // Non-blocking, so that a FIFO given by mistake is refused below instead of holding the open.
    fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new CboError("ERR_NOT_FOUND", `There is no backup archive at ${file}.`);
    throw new CboError("ERR_IO", `The backup archive ${file} could not be opened (${code ?? "error"}).`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      throw new CboError("ERR_VALIDATION", `${file} is ${st.isDirectory() ? "a directory" : "not a regular file"}, not a backup archive.`, {
        hint: "Name the archive file itself (backups are <data>/backups/cbo-backup-<time>-<id>.cbobak by default).",
      });
    }
    const size = st.size;
    const h = headerLength(readExactly(fd, 0, PLAIN_LEAD), size);
    const aad = readExactly(fd, 0, PLAIN_LEAD + h);
    const header = decodeHeader(aad, readExactly(fd, PLAIN_LEAD + h, CHECK_BYTES));
    const bodyStart = PLAIN_LEAD + h + CHECK_BYTES;
    if (bodyStart + bodyBytes(header) + TAG_BYTES !== size) {
      throw integrity(`is ${size} bytes where its header says ${bodyStart + bodyBytes(header) + TAG_BYTES}: it was cut short or added to`);
    }
    return { fd, file, header, aad, bodyStart, close: () => closeSync(fd) };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** The header alone (what `cbo restore` needs before it has a key: the key id, a passphrase's salt). */
export function readArchiveHeader(file: string): Header {
  const a = openArchive(file);
  a.close();
  return a.header;
}

/**
 * Decrypts the body with `contentKey`, calling `sink` with each file's chunks in order (and
 * `start` before each file's first byte). Throws ERR_VAULT_INTEGRITY at the end if anything fails
 * to authenticate.
 */
export function decrypt(
  a: Archive,
  contentKey: Uint8Array,
  sink: { start(name: string): void; chunk(name: string, bytes: Buffer): void },
): void {
  const total = bodyBytes(a.header);
  const d = createDecipheriv("aes-256-gcm", contentKey, Buffer.from(a.header.iv, "base64"), { authTagLength: TAG_BYTES });
  d.setAAD(a.aad);
  d.setAuthTag(readExactly(a.fd, a.bodyStart + total, TAG_BYTES));
  const digest = createHash("sha256");
  const files = a.header.files;
  let index = -1;
  let left = 0;
  const route = (plain: Buffer) => {
    digest.update(plain);
    let at = 0;
    while (at < plain.length) {
      while (left === 0) {
        index++;
        left = files[index]!.bytes;
        sink.start(files[index]!.name);
      }
      const n = Math.min(left, plain.length - at);
      sink.chunk(files[index]!.name, plain.subarray(at, at + n));
      at += n;
      left -= n;
    }
  };
  readChunks(a.fd, a.bodyStart, total, (chunk) => route(d.update(chunk)));
  try {
    route(d.final());
  } catch {
    throw integrity("does not authenticate (its GCM tag does not match): it was damaged or altered");
  }
  // Files still unannounced are empty ones (or all of them, for an empty body).
  for (index++; index < files.length; index++) sink.start(files[index]!.name);
  if (digest.digest("hex") !== a.header.plaintext_sha256) throw integrity("decrypts to bytes whose SHA-256 differs from its header's");
}
