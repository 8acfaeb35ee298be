// A gzipped POSIX ustar archive of in-memory files (node:zlib for the gzip). Enough of the format
// for a kit: regular files and directories, names split into prefix/name, owner root, fixed mtime.
// Written by hand because the product has no tar dependency and a kit needs only this much.
import { gzipSync } from "node:zlib";
import { CboError } from "../kit/errors.ts";
import { byCodeUnits } from "../kit/order.ts";

export type TarEntry = { path: string; data: Uint8Array; mode: number };

const BLOCK = 512;
const encoder = new TextEncoder();

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, "0") + "\0";
}

/** ustar keeps up to 100 bytes of name and 155 of prefix, split at a slash. */
function splitName(path: string): { name: string; prefix: string } {
  if (encoder.encode(path).length <= 100) return { name: path, prefix: "" };
  for (let i = path.lastIndexOf("/"); i > 0; i = path.lastIndexOf("/", i - 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (encoder.encode(prefix).length <= 155 && encoder.encode(name).length <= 100) return { name, prefix };
  }
  throw new CboError("ERR_INTERNAL", `The path ${path} is too long for a tar archive.`);
}

function header(path: string, size: number, mode: number, type: "0" | "5", mtime: number): Uint8Array {
  const h = new Uint8Array(BLOCK);
  const put = (text: string, offset: number) => h.set(encoder.encode(text), offset);
  const { name, prefix } = splitName(path);
  put(name, 0);
  put(octal(mode & 0o7777, 8), 100);
  put(octal(0, 8), 108); // uid
  put(octal(0, 8), 116); // gid
  put(octal(size, 12), 124);
  put(octal(mtime, 12), 136);
  put("        ", 148); // checksum field counts as spaces while summing
  put(type, 156);
  put("ustar\0", 257);
  put("00", 263);
  put("root", 265);
  put("root", 297);
  put(prefix, 345);
  const sum = h.reduce((a, b) => a + b, 0);
  put(sum.toString(8).padStart(6, "0") + "\0 ", 148);
  return h;
}

/**
 * Orders paths by UTF-16 code units: the same on every host. (`localeCompare` follows the host's
 * locale, so the same kit would get different bytes in, say, a Swedish and an English shell.)
 */
export { byCodeUnits };

/** The entries (files; their directories are added) under `root/`, gzipped, in code-unit order. */
export function tarGz(root: string, entries: TarEntry[], mtimeMs: number): Uint8Array {
  const mtime = Math.floor(mtimeMs / 1000);
  const chunks: Uint8Array[] = [];
  const dirs = new Set<string>();
  const addDir = (dir: string) => {
    if (dirs.has(dir)) return;
    const slash = dir.lastIndexOf("/");
    if (slash > 0) addDir(dir.slice(0, slash));
    dirs.add(dir);
    chunks.push(header(`${dir}/`, 0, 0o755, "5", mtime));
  };
  addDir(root);
  const seen = new Set<string>();
  for (const e of [...entries].sort((a, b) => byCodeUnits(a.path, b.path))) {
    if (e.path.startsWith("/") || e.path.split("/").some((s) => s === ".." || s === "" || s === ".")) {
      throw new CboError("ERR_INTERNAL", `Refusing the tar path "${e.path}".`);
    }
    if (seen.has(e.path)) throw new CboError("ERR_INTERNAL", `The kit has two files named ${e.path}.`);
    seen.add(e.path);
    const full = `${root}/${e.path}`;
    addDir(full.slice(0, full.lastIndexOf("/")));
    chunks.push(header(full, e.data.length, e.mode, "0", mtime), e.data);
    const pad = (BLOCK - (e.data.length % BLOCK)) % BLOCK;
    if (pad) chunks.push(new Uint8Array(pad));
  }
  chunks.push(new Uint8Array(BLOCK * 2)); // end of archive
  const size = chunks.reduce((n, c) => n + c.length, 0);
  const tar = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    tar.set(c, at);
    at += c.length;
  }
  return gzipSync(tar, { level: 9 });
}
