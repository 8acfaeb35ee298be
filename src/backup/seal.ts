// Sealing files into an archive (format.ts): hashed in one pass, encrypted in a second, written to
// a temp file (0600, fsynced) and published under `out` without ever replacing a file. Memory
// stays at one chunk whatever the database's size.
import { createCipheriv, createHash, randomBytes } from "node:crypto";
import { closeSync, fsyncSync, openSync, rmSync, writeSync } from "node:fs";
import type { MasterKey } from "../vault/index.ts";
import { publishNew, readFileChunks } from "./files.ts";
import { encodePrefix, FORMAT, FORMAT_VERSION, IV_BYTES, TAG_BYTES, type Header } from "./format.ts";
import { newArchiveKeys } from "./keys.ts";

export type SealInput = {
  files: Array<{ name: Header["files"][number]["name"]; path: string; bytes: number }>;
  masterKey: MasterKey;
  out: string;
  /** A temp path on the same filesystem as `out`, not existing yet. */
  tmp: string;
  createdAt: string;
  kdf?: Header["kdf"];
};

export function sealArchive(o: SealInput): { header: Header; bytes: number } {
  const digest = createHash("sha256");
  for (const f of o.files) readFileChunks(f.path, (chunk) => digest.update(chunk));
  const keys = newArchiveKeys(o.masterKey);
  const iv = randomBytes(IV_BYTES);
  const header: Header = {
    format: FORMAT,
    v: FORMAT_VERSION,
    created_at: o.createdAt,
    master_key_id: o.masterKey.id,
    wrapped_key: keys.wrappedKey,
    salt: keys.salt.toString("base64"),
    iv: iv.toString("base64"),
    files: o.files.map((f) => ({ name: f.name, bytes: f.bytes })),
    plaintext_sha256: digest.digest("hex"),
    ...(o.kdf ? { kdf: o.kdf } : {}),
  };
  const { prefix, aad } = encodePrefix(header);
  const cipher = createCipheriv("aes-256-gcm", keys.contentKey, iv, { authTagLength: TAG_BYTES });
  keys.contentKey.fill(0);
  cipher.setAAD(aad);

  let bytes = 0;
  const fd = openSync(o.tmp, "wx", 0o600);
  try {
    const write = (b: Buffer) => {
      writeSync(fd, b);
      bytes += b.length;
    };
    write(prefix);
    for (const f of o.files) {
      const n = readFileChunks(f.path, (chunk) => write(cipher.update(chunk)));
      // The header promised f.bytes: a file that changed size in between would make a broken archive.
      if (n !== f.bytes) throw new Error(`${f.name} changed size while it was sealed (${f.bytes} -> ${n} bytes)`);
    }
    write(cipher.final());
    write(cipher.getAuthTag());
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(o.tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  publishNew(o.tmp, o.out);
  rmSync(o.tmp, { force: true });
  return { header, bytes };
}
