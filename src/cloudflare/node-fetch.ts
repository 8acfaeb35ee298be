// The transport's default way out: a fetch-compatible function on node:http(s), not the global
// fetch. Node's fetch (undici) instantiates llhttp's WebAssembly parser and a connection pool of
// its own and allocates WHATWG streams per request: in an idle daemon whose drift checker reads
// every target's deployment each second, that was about 20 MiB of RSS (and the young generation
// grown to its limit by the garbage). node:http is already loaded for the API server.
//
// What it keeps of fetch, for the transport and the client above it:
//   - every body fetch accepts (strings, bytes, Blob, FormData, URLSearchParams), serialised by
//     the Web Response constructor, which sets the multipart boundary as fetch does;
//   - the signal ends the exchange at any point (connect, headers, body) and rejects with its
//     reason, as fetch does; a network failure rejects with TypeError("fetch failed", { cause });
//   - redirects are followed (at most 20; 303, and 301/302 after a POST, become a GET; the
//     authorization header is not sent to another origin);
//   - a gzip, deflate or br body is decoded;
//   - keep-alive connections (Node's global agents).
// The answer is buffered whole: every caller of the client reads it whole (text, json, bytes).
import http from "node:http";
import https from "node:https";
import { brotliDecompressSync, gunzipSync, inflateSync } from "node:zlib";

const MAX_REDIRECTS = 20;
const NO_BODY = new Set([101, 103, 204, 205, 304]);

export async function nodeFetch(input: string | URL, init: RequestInit = {}): Promise<Response> {
  const signal = init.signal ?? undefined;
  signal?.throwIfAborted();
  let method = (init.method ?? "GET").toUpperCase();
  // fetch's own defaults, where the caller set none.
  const headers: Record<string, string> = { accept: "*/*", "user-agent": "node", ...headerRecord(init.headers) };
  let body = await bodyBytes(init.body, headers);
  let url = new URL(input);
  for (let hop = 0; ; hop++) {
    const answer = await exchange(url, method, headers, body, signal);
    const location = answer.headers.location;
    if (![301, 302, 303, 307, 308].includes(answer.status) || typeof location !== "string" || init.redirect === "manual") {
      return toResponse(answer, method);
    }
    if (init.redirect === "error" || hop >= MAX_REDIRECTS) {
      throw new TypeError("fetch failed", { cause: new Error(`redirect ${init.redirect === "error" ? "refused" : "limit reached"}`) });
    }
    const next = new URL(location, url);
    if (answer.status === 303 || ((answer.status === 301 || answer.status === 302) && method === "POST")) {
      if (method !== "HEAD") method = "GET";
      body = undefined;
      for (const h of ["content-type", "content-length", "content-encoding", "content-language", "content-location"]) delete headers[h];
    }
    if (next.origin !== url.origin) delete headers.authorization;
    url = next;
  }
}

type Answer = { status: number; statusText: string; headers: http.IncomingHttpHeaders; raw: string[]; body: Buffer };

function exchange(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: Buffer | undefined,
  signal: AbortSignal | undefined,
): Promise<Answer> {
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return Promise.reject(new TypeError("fetch failed", { cause: new Error(`unsupported protocol ${url.protocol}`) }));
  }
  return new Promise((resolve, reject) => {
    let done = false;
    const fail = (e: unknown, aborted = false) => {
      if (done) return;
      done = true;
      signal?.removeEventListener("abort", onAbort);
      reject(aborted ? e : new TypeError("fetch failed", { cause: e }));
    };
    const onAbort = () => {
      req.destroy();
      fail(signal!.reason, true);
    };
    const send = url.protocol === "https:" ? https.request : http.request;
    const req = send(
      url,
      { method, headers: body === undefined ? headers : { ...headers, "content-length": String(body.length) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", (e) => fail(e));
        res.on("close", () => {
          if (!res.complete) fail(new Error("the response was cut off"));
        });
        res.on("end", () => {
          if (done) return;
          if (!res.complete) return fail(new Error("the response was cut off"));
          done = true;
          signal?.removeEventListener("abort", onAbort);
          try {
            const raw = Buffer.concat(chunks);
            resolve({
              status: res.statusCode ?? 0,
              statusText: res.statusMessage ?? "",
              headers: res.headers,
              raw: res.rawHeaders,
              body: decode(raw, res.headers["content-encoding"]),
            });
          } catch (e) {
            reject(new TypeError("fetch failed", { cause: e }));
          }
        });
      },
    );
    req.on("error", (e) => fail(e));
    signal?.addEventListener("abort", onAbort, { once: true });
    req.end(body);
  });
}

function toResponse(a: Answer, method: string): Response {
  const headers = new Headers();
  for (let i = 0; i + 1 < a.raw.length; i += 2) headers.append(a.raw[i]!, a.raw[i + 1]!);
  const body = NO_BODY.has(a.status) || method === "HEAD" ? null : a.body;
  // The Web Response refuses statuses outside 200..599; such an answer is not HTTP we can use.
  if (a.status < 200 || a.status > 599) throw new TypeError("fetch failed", { cause: new Error(`HTTP status ${a.status}`) });
  return new Response(body, { status: a.status, statusText: a.statusText, headers });
}

function decode(raw: Buffer, encoding: string | undefined): Buffer {
  switch (encoding?.trim().toLowerCase()) {
    case "gzip":
    case "x-gzip":
      return gunzipSync(raw);
    case "deflate":
      return inflateSync(raw);
    case "br":
      return brotliDecompressSync(raw);
    default:
      return raw;
  }
}

function headerRecord(given: RequestInit["headers"]): Record<string, string> {
  const out: Record<string, string> = {};
  new Headers(given).forEach((value, key) => {
    out[key] = value;
  });
  return out;
}

/** The body's bytes; a Blob's, FormData's or URLSearchParams' content type is set as fetch sets it. */
async function bodyBytes(body: RequestInit["body"], headers: Record<string, string>): Promise<Buffer | undefined> {
  if (body === undefined || body === null) return undefined;
  if (typeof body === "string") {
    headers["content-type"] ??= "text/plain;charset=UTF-8";
    return Buffer.from(body);
  }
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const serialised = new Response(body);
  const type = serialised.headers.get("content-type");
  if (type && headers["content-type"] === undefined) headers["content-type"] = type;
  return Buffer.from(await serialised.arrayBuffer());
}
