// How big orchestrator.yaml (and a wrangler config it names) may be, and each value in it. The
// spec is re-read on every change and walked on requests (GET /v1/workers, plans, releases): a
// 50 MB value once made one GET take 10 s and the daemon 2 GiB. Real specs are a few KiB; a value
// is a name, a path, a var or a config entry, and the whole `config:` of a worker is capped at
// 256 KiB by the schema already (it is signed into every target's bundle).
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { CboError } from "../kit/errors.ts";

/** The file, in bytes. */
export const MAX_SPEC_FILE_BYTES = 1024 * 1024;
/** Any one string in it (a value or a key), in UTF-8 bytes. */
export const MAX_SPEC_VALUE_BYTES = 64 * 1024;

const hint = `Keep orchestrator.yaml under ${MAX_SPEC_FILE_BYTES} bytes and each value under ${MAX_SPEC_VALUE_BYTES} bytes; large data belongs in KV or a secret, not in the spec.`;

/**
 * The file's text, read no further than one byte past the limit: ERR_VALIDATION when it is larger
 * (its size is checked before a byte is read, and the read stops at the limit should it grow
 * meanwhile), a directory, or not a regular file. The spec is watched and read again on every
 * change, which a pipe or device cannot give: a FIFO's open waited for a writer forever (`cbo
 * daemon --config FIFO` hung), /dev/zero never ends. So the open is non-blocking and anything but
 * a regular file is refused by name, as token files are (src/cli/token-file.ts). Other failures (a
 * missing file) are thrown as they come, for the caller to say what the file was for.
 */
export function readSpecFile(file: string): string {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    // ENXIO: a Unix socket, which cannot be opened at all.
    if ((e as NodeJS.ErrnoException).code === "ENXIO") throw notAFile(file);
    throw e;
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory())
      throw new CboError("ERR_VALIDATION", `${file} is a directory, not a file.`, {
        hint: "Name the file itself, e.g. orchestrator.yaml or wrangler.toml inside that directory.",
      });
    if (!st.isFile()) throw notAFile(file);
    if (st.size > MAX_SPEC_FILE_BYTES) throw fileTooLarge(file, st.size);
    const buf = Buffer.alloc(MAX_SPEC_FILE_BYTES + 1);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, null);
      if (n === 0) break;
      got += n;
    }
    if (got > MAX_SPEC_FILE_BYTES) throw fileTooLarge(file, MAX_SPEC_FILE_BYTES, "more than");
    return buf.toString("utf8", 0, got);
  } finally {
    closeSync(fd);
  }
}

function notAFile(file: string): CboError {
  return new CboError(
    "ERR_VALIDATION",
    `${file} is not a regular file (a pipe, socket or device); it cannot be read again when it changes.`,
    {
      hint: "Save the configuration to a file and name that file.",
    },
  );
}

export function checkTextSize(text: string, file: string): void {
  const size = Buffer.byteLength(text, "utf8");
  if (size > MAX_SPEC_FILE_BYTES) throw fileTooLarge(file, size);
}

function fileTooLarge(file: string, size: number, more = ""): CboError {
  return new CboError(
    "ERR_VALIDATION",
    `${file}: the file is ${more ? `${more} ` : ""}${size} bytes; it may be at most ${MAX_SPEC_FILE_BYTES} bytes.`,
    {
      details: { file, bytes: size, limit: MAX_SPEC_FILE_BYTES },
      hint,
    },
  );
}

/** ERR_VALIDATION naming the path of the first string (value or key) in `data` over the limit. */
export function checkValueSizes(data: unknown, file: string): void {
  const found = oversized(data, []);
  if (!found) return;
  const where =
    found.path
      .map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`))
      .join("")
      .replace(/^\./, "") || "(root)";
  throw new CboError(
    "ERR_VALIDATION",
    `${file}: ${where}: ${found.what} is ${found.bytes} bytes; a value may be at most ${MAX_SPEC_VALUE_BYTES} bytes.`,
    {
      details: { path: where, bytes: found.bytes, limit: MAX_SPEC_VALUE_BYTES },
      hint,
    },
  );
}

type Found = { path: Array<string | number>; bytes: number; what: string };

function oversized(v: unknown, path: Array<string | number>): Found | undefined {
  if (typeof v === "string") {
    // Cheap test first: a string of n UTF-16 units is at most 3n UTF-8 bytes.
    if (v.length * 3 <= MAX_SPEC_VALUE_BYTES) return undefined;
    const bytes = Buffer.byteLength(v, "utf8");
    return bytes > MAX_SPEC_VALUE_BYTES ? { path, bytes, what: "the value" } : undefined;
  }
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const f = oversized(v[i], [...path, i]);
      if (f) return f;
    }
    return undefined;
  }
  if (v !== null && typeof v === "object") {
    for (const [k, child] of Object.entries(v)) {
      const keyBytes = Buffer.byteLength(k, "utf8");
      if (keyBytes > MAX_SPEC_VALUE_BYTES) return { path: [...path, `${k.slice(0, 32)}…`], bytes: keyBytes, what: "the key" };
      const f = oversized(child, [...path, k]);
      if (f) return f;
    }
  }
  return undefined;
}
