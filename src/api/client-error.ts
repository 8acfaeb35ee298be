// Requests that never reach a route: HTTP that node's parser refuses (a header block over its
// 16 KiB, a malformed request line or header, a broken chunked body) and requests Hono's node
// adapter cannot turn into a Request (no Host, a Host that is not one, a backslash in the path).
// Left to their defaults, both answer a bare status with no body: here they get the API's one
// error shape, a code and what to fix, like every other refusal. Nothing from the request is
// echoed back (a header that was too long may well hold a token).
import type { Duplex } from "node:stream";
import { CboError } from "../kit/errors.ts";
import { errorResponse } from "./errors.ts";

/** node:http's parser error codes (llhttp), as a sentence for the caller. */
const PARSER_ERRORS: Record<string, string> = {
  HPE_INVALID_METHOD: "an unknown HTTP method",
  HPE_INVALID_URL: "a request target that is not a valid URL path",
  HPE_INVALID_VERSION: "an HTTP version other than 1.0 or 1.1",
  HPE_INVALID_HEADER_TOKEN: "a header name or value with characters HTTP does not allow",
  HPE_INVALID_CONTENT_LENGTH: "a Content-Length that is not one number",
  HPE_UNEXPECTED_CONTENT_LENGTH: "a Content-Length repeated or beside Transfer-Encoding",
  HPE_INVALID_TRANSFER_ENCODING: "a Transfer-Encoding other than chunked",
  HPE_INVALID_CHUNK_SIZE: "a chunked body with a bad chunk size",
  HPE_INVALID_CONSTANT: "bytes that are not HTTP where HTTP was expected",
  HPE_LF_EXPECTED: "a line that does not end in CRLF",
  HPE_CR_EXPECTED: "a line that does not end in CRLF",
};

/** The CboError for a request node's HTTP parser refused (`err.code` is its HPE_* or ERR_* code). */
export function parserRefusal(code: string | undefined): CboError {
  if (code === "HPE_HEADER_OVERFLOW")
    // The parser counts the request line with the headers: a long URL (a pasted value as a name or
    // filter) overflows it as surely as a long header, so the message names both.
    return new CboError("ERR_HEADERS_TOO_LARGE", "The request's URL and headers are larger than the 16 KiB the daemon reads.", {
      hint: "Send a shorter URL and shorter headers: a token is about 60 characters, and no name, id or filter the API reads needs more than a few hundred.",
      details: { limit: 16 * 1024 },
    });
  if (code === "HPE_CHUNK_EXTENSIONS_OVERFLOW")
    return new CboError("ERR_PAYLOAD_TOO_LARGE", "The request's chunk extensions are larger than the daemon reads.", {
      hint: "Send the body without chunk extensions.",
    });
  const what = (code && PARSER_ERRORS[code]) ?? "something that is not valid HTTP/1.1";
  return new CboError("ERR_VALIDATION", `The request is not valid HTTP: it has ${what}.`, {
    hint: "Send an HTTP/1.1 request with a Host header, a path starting with /, and headers of ASCII text.",
    details: { reason: code ?? "unknown" },
  });
}

/** node:http's `clientError`: answers the parser's refusal as JSON, then closes the connection. */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  // A client that went away, or a half-written answer already on the wire: nothing to say to it.
  const sent = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
  if (err.code === "ECONNRESET" || !socket.writable || sent) {
    socket.destroy();
    return;
  }
  if (err.code === "ERR_HTTP_REQUEST_TIMEOUT") {
    socket.end("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    return;
  }
  endWithError(socket, parserRefusal(err.code));
}

const REASONS: Record<number, string> = {
  400: "Bad Request",
  404: "Not Found",
  413: "Payload Too Large",
  431: "Request Header Fields Too Large",
};

/** Answers `err` in the API's error shape straight on a socket no HTTP response object owns, and closes it. */
export function endWithError(socket: Duplex, err: CboError): void {
  const body = JSON.stringify(err.toJSON());
  socket.end(
    `HTTP/1.1 ${err.status} ${REASONS[err.status] ?? "Error"}\r\nContent-Type: application/json; charset=UTF-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * Hono's node adapter's errorHandler: a request it could not build (its RequestError: no or a bad
 * Host, a backslash in the path, an absolute URL it cannot parse) is the client's; anything else
 * thrown before Hono's own error handling is ours, said without internals.
 */
export function adapterRefusal(err: unknown): Response {
  if (err instanceof Error && err.name === "RequestError") {
    return errorResponse(
      new CboError("ERR_VALIDATION", `The request could not be read: ${requestErrorText(err.message)}.`, {
        hint: "Send a Host header naming the daemon (e.g. 127.0.0.1:<port>) and a path starting with / without backslashes.",
      }),
    );
  }
  return errorResponse(new CboError("ERR_INTERNAL", "The orchestrator hit an internal error; the daemon's log has the details."));
}

/** The adapter's own messages are fixed sentences; anything else is not repeated. */
function requestErrorText(message: string): string {
  const known = ["Missing host header", "Invalid host header", "Backslash in request path", "Invalid absolute URL", "Unsupported scheme"];
  return known.includes(message) ? message.toLowerCase() : "its target or Host is not valid";
}
