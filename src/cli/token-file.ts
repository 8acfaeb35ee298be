// A token read from a file (--token-file FILE, CBO_TOKEN_FILE, <data>/admin-token; `cbo mcp` too):
// refused unless only its owner can read it, like the master key file (the ssh rule), since a
// token anyone on the box can read is anyone's. The token never appears in an error.
import { closeSync, constants, fstatSync, openSync, readFileSync } from "node:fs";
import { CboError } from "../kit/errors.ts";

const octal = (mode: number) => "0" + (mode & 0o777).toString(8);
/** A token is about 60 characters; anything this big was not meant as a token file. */
const MAX_TOKEN_FILE_BYTES = 4096;

/** The token in `file` (trimmed); `from` says where the file was named (--token-file, CBO_TOKEN_FILE). */
export function readTokenFile(file: string, from: string): string {
  let fd: number;
  try {
    // Non-blocking: a FIFO named by mistake would otherwise hold the open (and the command)
    // until something writes to it; opened at once, it is refused below as not a regular file.
    fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CboError(
      code === "ENOENT" ? "ERR_NOT_FOUND" : "ERR_IO",
      `Cannot read the token file ${file} (${from}): ${code ?? "error"}.`,
      {
        hint: "write the token to a file only you can read: (umask 077; cbo tokens create … > FILE)",
      },
    );
  }
  try {
    // fstat on the open descriptor: the mode checked is the mode of the bytes read.
    const st = fstatSync(fd);
    if (!st.isFile()) throw new CboError("ERR_VALIDATION", `The token file ${file} (${from}) is not a regular file.`);
    if ((st.mode & 0o077) !== 0) {
      throw new CboError(
        "ERR_VALIDATION",
        `The token file ${file} (${from}) can be read by group or others (mode ${octal(st.mode)}); refusing to use it.`,
        { details: { file, mode: octal(st.mode) }, hint: `chmod 600 ${file}` },
      );
    }
    if (st.size > MAX_TOKEN_FILE_BYTES)
      throw new CboError(
        "ERR_VALIDATION",
        `The token file ${file} (${from}) is ${st.size} bytes; a token file holds one token (well under 1 KiB).`,
      );
    const token = readFileSync(fd, "utf8").trim();
    if (token === "") throw new CboError("ERR_VALIDATION", `The token file ${file} (${from}) is empty.`);
    return token;
  } finally {
    closeSync(fd);
  }
}
