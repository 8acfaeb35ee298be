// Request bodies are read through here, with a limit counted while the bytes stream in: a declared
// content-length over the limit is refused before anything is read, and a chunked body (no length
// up front) is cut off at the first byte past it. Either way the answer is 413
// ERR_PAYLOAD_TOO_LARGE with `connection: close` (the rest of the body is never read, so the
// connection cannot carry another request). Memory per request is bounded by the route's limit,
// whatever the client sends.
//
// On a node:http server the body is read straight from the IncomingMessage (Hono's node adapter
// hands it over as env.incoming): no web stream is built, which is also what keeps the heartbeat
// route as fast as a bare endpoint. In-process (app.request) it is read from the Request's stream.
import type { IncomingMessage } from "node:http";
import type { Context } from "hono";
import { CboError } from "../kit/errors.ts";
import { readUpTo } from "../kit/read-up-to.ts";

/** What a route takes unless it says otherwise (route.ts `maxBodyBytes`). */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

export function payloadTooLarge(limit: number): CboError {
  return new CboError("ERR_PAYLOAD_TOO_LARGE", `The request body is larger than this route takes (${limit} bytes).`, {
    details: { limit },
    hint: "Send less; no route of this API needs a large body.",
  });
}

const incomingOf = (c: Context): IncomingMessage | undefined => (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;

/** The request body as UTF-8 text, at most `limit` bytes; ERR_PAYLOAD_TOO_LARGE otherwise. */
export function readBody(c: Context, limit: number): Promise<string> {
  const incoming = incomingOf(c);
  if (incoming) return readIncoming(incoming, limit);
  return readStream(c.req.raw, limit);
}

function readIncoming(req: IncomingMessage, limit: number): Promise<string> {
  const declared = req.headers["content-length"];
  // Node's parser holds a body to its declared length, so a length over the limit ends it here.
  if (declared !== undefined && req.headers["transfer-encoding"] === undefined && Number(declared) > limit)
    return Promise.reject(payloadTooLarge(limit));
  if (req.readableEnded) return Promise.resolve("");
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("aborted", onAborted);
    };
    const onData = (b: Buffer) => {
      size += b.length;
      if (size > limit) {
        // Whatever still arrives is dropped, not kept (the node adapter drains and closes the
        // connection after the 413).
        done();
        reject(payloadTooLarge(limit));
        return;
      }
      chunks.push(b);
    };
    const onEnd = () => {
      done();
      resolve(chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks, size).toString("utf8"));
    };
    const onError = (e: Error) => {
      done();
      reject(new CboError("ERR_VALIDATION", "The request body could not be read to its end.", { cause: e }));
    };
    const onAborted = () => onError(new Error("aborted"));
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("aborted", onAborted);
  });
}

async function readStream(req: Request, limit: number): Promise<string> {
  const declared = req.headers.get("content-length");
  if (declared !== null && !req.headers.has("transfer-encoding") && Number(declared) > limit) throw payloadTooLarge(limit);
  const bytes = await readUpTo(req.body, limit);
  if (bytes === undefined) throw payloadTooLarge(limit);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
}
