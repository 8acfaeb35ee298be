// Where `cbo secrets set` gets the value: stdin or --from-file, never the command line (argv is
// visible to every local user in `ps` and lands in shell history). The bytes are kept exactly as
// given, with one exception: a single trailing "\n" on stdin is dropped, because `echo "$V" |` and
// here-strings add one that is not part of the value. A file is taken byte for byte (a PEM file's
// final newline is the file's); to keep a newline on piped input, use `--from-file /dev/stdin`.
// Valid UTF-8 travels as text, anything else as base64, so binary values survive unchanged.
import { closeSync, constants, fstatSync, openSync, readlinkSync, readSync } from "node:fs";
import { isatty } from "node:tty";
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

/** How long a pipe, FIFO or device may stay silent before --from-file gives up on it. */
export const FROM_FILE_WAIT_MS = 10_000;
const FROM_FILE_HINT = "--from-file takes the path of a file holding the value";

/**
 * Opened non-blocking, as token files are (src/cli/token-file.ts): a FIFO's blocking open waits
 * for a writer, and with none `cbo secrets set X --from-file FIFO` hung forever. A pipe is still
 * taken (`--from-file /dev/stdin` keeps a newline on piped input, `<(command)` is a pipe too), so
 * a pipe or device is read as its bytes come, for as long as they keep coming: a FIFO nobody has
 * opened yet is waited for rather than read as empty, and one silent for `waitMs` is refused by
 * name.
 */
async function readFile(file: string, waitMs: number): Promise<Uint8Array> {
  let fd: number | undefined;
  try {
    fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw new CboError("ERR_VALIDATION", `${file} is a directory.`, { hint: FROM_FILE_HINT });
    // As on stdin: a value is not typed in (`--from-file /dev/stdin` at a terminal, /dev/tty).
    if (isatty(fd)) throw new CboError("ERR_USAGE", `No value: ${file} is a terminal, and a value is never typed in.`, { hint: PIPE_HINT });
    // A size check first, so that pointing at a huge file fails fast.
    if (stat.size > MAX_VALUE_BYTES) throw tooLarge();
    // Then never more than one byte past the limit: a device or pipe reports size 0 and may never
    // end (/dev/zero, /dev/urandom), which a whole-file read would take until memory ran out.
    const buf = Buffer.alloc(MAX_VALUE_BYTES + 1);
    let got = 0;
    const namedPipe = stat.isFIFO() && !isAnonymousPipe(fd);
    let lastProgress = Date.now();
    while (got < buf.length) {
      const n = readNow(fd, buf, got);
      // The end of a file, device or pipe; but a FIFO (a named pipe) reads as ended until its
      // first writer opens it, so there the end is only believed once something came.
      if (n === 0 && (!namedPipe || got > 0)) break;
      if (n !== undefined && n > 0) {
        got += n;
        lastProgress = Date.now();
        continue;
      }
      if (Date.now() - lastProgress >= waitMs) {
        buf.fill(0);
        const what = stat.isFIFO() ? "a pipe" : "a device";
        const silent = `${waitMs / 1000} s`;
        throw new CboError(
          "ERR_VALIDATION",
          got > 0
            ? `${file} is ${what} that sent part of a value, then nothing for ${silent} without ending; giving up.`
            : `${file} is ${what} and nothing was written to it within ${silent}; giving up.`,
          { hint: `start the command writing to it first, or save the value to a file; ${PIPE_HINT}` },
        );
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    if (got > MAX_VALUE_BYTES) {
      buf.fill(0);
      throw tooLarge();
    }
    return buf.subarray(0, got);
  } catch (e) {
    if (e instanceof CboError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new CboError("ERR_NOT_FOUND", `${file} does not exist.`, { hint: FROM_FILE_HINT });
    if (code === "EISDIR") throw new CboError("ERR_VALIDATION", `${file} is a directory.`, { hint: FROM_FILE_HINT });
    // ENXIO: a Unix socket, which cannot be opened at all.
    if (code === "ENXIO") throw new CboError("ERR_VALIDATION", `${file} is a socket, not a file.`, { hint: FROM_FILE_HINT });
    throw new CboError("ERR_IO", `Cannot read ${file} (${code ?? "error"}).`, { cause: e });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * `/dev/stdin` on a pipe, `<(command)`: a pipe made with both ends, whose writer may be done
 * already, so reading nothing is its end (`<(true)` is empty, not a FIFO awaiting a writer).
 * Linux names it `pipe:[inode]` in /proc; elsewhere every pipe is taken for a FIFO.
 */
function isAnonymousPipe(fd: number): boolean {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`).startsWith("pipe:");
  } catch {
    return false;
  }
}

/** Between reads of a pipe or device with nothing to read yet. */
const POLL_MS = 25;

/** Bytes read into `buf` at `at`; undefined when a pipe or device has none yet (EAGAIN). */
function readNow(fd: number, buf: Buffer, at: number): number | undefined {
  try {
    return readSync(fd, buf, at, buf.length - at, null);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EAGAIN") return undefined;
    throw e;
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The value to store, as the API's {value, encoding}. Errors never contain any of its bytes. */
export async function readSecretInput(opts: {
  fromFile?: string | undefined;
  stdin: CliIo["stdin"];
  /** How long a pipe or device may stay silent (tests shorten it). */
  waitMs?: number;
}): Promise<SecretInput> {
  const bytes = opts.fromFile !== undefined ? await readFile(opts.fromFile, opts.waitMs ?? FROM_FILE_WAIT_MS) : await readStdin(opts.stdin);
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
