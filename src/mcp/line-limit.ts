// The MCP SDK's stdio transport reads a message of up to 10 MiB and, past that, closes the whole
// server without a word: one oversized tool call (an agent pasting a file into an argument) ended
// the session and every call after it failed "Not connected". Messages are lines of JSON; this
// passes each line on whole once it has ended, and drops a line over the limit, answering it with
// a JSON-RPC error so the caller's request ends at once and the session goes on.
import { Transform } from "node:stream";

/** Far above any real tool call (arguments are names, ids and filters; secret values come from files). */
export const MAX_MCP_MESSAGE_BYTES = 4 * 1024 * 1024;

/** What a dropped line's id looked like: its request's answer goes to that id (null when unseen). */
export type DroppedLine = { bytes: number; id: string | number | null };

// Clients write `"id":N` first or last; the ends of a dropped line are kept to find it.
const END_BYTES = 256;
const ID = /"id"\s*:\s*(-?\d+|"(?:[^"\\]|\\.){0,200}")/;

export function lineLimit(maxBytes: number, onDrop: (d: DroppedLine) => void): Transform {
  let chunks: Buffer[] = [];
  let size = 0;
  let dropping = false;
  let head = "";
  let tail = Buffer.alloc(0);
  const idOf = (): string | number | null => {
    const m = ID.exec(head) ?? ID.exec(tail.toString("utf8"));
    if (!m) return null;
    try {
      return JSON.parse(m[1]!) as string | number;
    } catch {
      return null;
    }
  };
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      let from = 0;
      while (from < chunk.length) {
        const nl = chunk.indexOf(10, from);
        const end = nl === -1 ? chunk.length : nl + 1;
        const part = chunk.subarray(from, end);
        if (!dropping && size + part.length > maxBytes) {
          dropping = true;
          head = Buffer.concat(chunks).subarray(0, END_BYTES).toString("utf8");
          chunks = [];
        }
        size += part.length;
        if (dropping) tail = Buffer.concat([tail, part]).subarray(-END_BYTES);
        else chunks.push(part);
        if (nl !== -1) {
          if (dropping) onDrop({ bytes: size, id: idOf() });
          else this.push(Buffer.concat(chunks));
          chunks = [];
          size = 0;
          dropping = false;
          head = "";
          tail = Buffer.alloc(0);
        }
        from = end;
      }
      done();
    },
    flush(done) {
      if (!dropping && chunks.length > 0) this.push(Buffer.concat(chunks));
      done();
    },
  });
}

/** The JSON-RPC answer to a dropped request (-32600: not a valid request, as far as we read it). */
export function droppedAnswer(d: DroppedLine, maxBytes: number): string {
  const message = `The message is ${d.bytes} bytes; cbo mcp reads at most ${maxBytes} bytes per message, so this call was not run. Pass shorter arguments (a secret value goes in a file: secret_rotate's from_file).`;
  return `${JSON.stringify({ jsonrpc: "2.0", id: d.id, error: { code: -32600, message } })}\n`;
}
