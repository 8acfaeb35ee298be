// Where `cbo secrets set` gets the value: stdin or --from-file, never the command line (argv is
// visible to every local user in `ps` and lands in shell history). The bytes are kept exactly as
// given, with one exception: a single trailing "\n" on stdin is dropped, because `echo "$V" |` and
// here-strings add one that is not part of the value. A file is taken byte for byte (a PEM file's
// final newline is the file's); to keep a newline on piped input, use `--from-file /dev/stdin`.
// Valid UTF-8 travels as text, anything else as base64, so binary values survive unchanged.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { CboError } from "../kit/errors.ts";
import { MAX_SECRET_VALUE_BYTES as MAX_VALUE_BYTES } from "../contract/index.ts";
import type { CliIo } from "./cli-io.ts";

export type SecretInput = { value: string; encoding: "utf8" | "base64"; bytes: number };

const PIPE_HINT = 'pipe it in (`printf %s "$VALUE" | cbo secrets set NAME`, `cbo secrets set NAME < file`) or pass --from-file FILE';
const tooLarge = () => new CboError("ERR_VALIDATION", `The value is larger than ${MAX_VALUE_BYTES} bytes, the most a secret may hold.`);

async function readStdin(stdin: CliIo["stdin"]): Promise<Uint8Array> {
  if (stdin.isTTY) {
    throw new CboError("ERR_USAGE", "No value: stdin is a terminal, and a value is never read from the command line.", { hint: PIPE_HINT });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  // One byte of slack for the trailing newline that is dropped.
  for await (const chunk of stdin) {
    const buf = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    size += buf.length;
    if (size > MAX_VALUE_BYTES + 1) {
      for (const c of chunks) c.fill(0);
      throw tooLarge();
    }
    chunks.push(Buffer.from(buf));
  }
  const all = Buffer.concat(chunks);
  for (const c of chunks) c.fill(0);
  return all.length > 0 && all[all.length - 1] === 0x0a ? all.subarray(0, all.length - 1) : all;
}

function readFile(file: string): Uint8Array {
  let fd: number | undefined;
  try {
    fd = openSync(file, "r");
    const stat = fstatSync(fd);
    if (stat.isDirectory())
      throw new CboError("ERR_VALIDATION", `${file} is a directory.`, { hint: "--from-file takes the path of a file holding the value" });
    // A size check first, so that pointing at a huge file fails fast.
    if (stat.size > MAX_VALUE_BYTES) throw tooLarge();
    // Then never more than one byte past the limit: a device or pipe reports size 0 and may never
    // end (/dev/zero, /dev/urandom), which a whole-file read would take until memory ran out.
    const buf = Buffer.alloc(MAX_VALUE_BYTES + 1);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, null);
      if (n === 0) break;
      got += n;
    }
    if (got > MAX_VALUE_BYTES) {
      buf.fill(0);
      throw tooLarge();
    }
    return buf.subarray(0, got);
  } catch (e) {
    if (e instanceof CboError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT")
      throw new CboError("ERR_NOT_FOUND", `${file} does not exist.`, { hint: "--from-file takes the path of a file holding the value" });
    if (code === "EISDIR")
      throw new CboError("ERR_VALIDATION", `${file} is a directory.`, { hint: "--from-file takes the path of a file holding the value" });
    throw new CboError("ERR_IO", `Cannot read ${file} (${code ?? "error"}).`, { cause: e });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The value to store, as the API's {value, encoding}. Errors never contain any of its bytes. */
export async function readSecretInput(opts: { fromFile?: string | undefined; stdin: CliIo["stdin"] }): Promise<SecretInput> {
  const bytes = opts.fromFile !== undefined ? readFile(opts.fromFile) : await readStdin(opts.stdin);
  try {
    if (bytes.length === 0) {
      throw new CboError("ERR_VALIDATION", `The value is empty${opts.fromFile !== undefined ? ` (${opts.fromFile} is empty)` : ""}.`, {
        hint: `an unset shell variable gives an empty value; ${PIPE_HINT}`,
      });
    }
    if (bytes.length > MAX_VALUE_BYTES) throw tooLarge();
    let text: string | undefined;
    try {
      text = utf8.decode(bytes);
    } catch {
      text = undefined;
    }
    return text !== undefined
      ? { value: text, encoding: "utf8", bytes: bytes.length }
      : { value: Buffer.from(bytes).toString("base64"), encoding: "base64", bytes: bytes.length };
  } finally {
    bytes.fill(0);
  }
}
