// Every failure leaves the API as `{"error": {"code", "message", "details"}}` with the code's HTTP
// status. Our own CboErrors keep their message; anything else is a bug, logged here in full and
// answered with a generic message so that no internals (paths, SQL, stacks) reach the caller.
import type * as z from "zod";
import { CboError } from "../kit/errors.ts";
import { maskTokens, type Logger } from "../telemetry/index.ts";

export function errorResponse(err: CboError): Response {
  const headers: Record<string, string> = { "content-type": "application/json; charset=UTF-8" };
  // A 429 says when to come back (seconds), as HTTP clients expect.
  const retryAfter = err.code === "ERR_RATE_LIMITED" || err.code === "ERR_CF_BUDGET" ? err.details?.retryAfter : undefined;
  if (typeof retryAfter === "number") headers["retry-after"] = String(retryAfter);
  // The rest of an oversized body is never read: the connection cannot carry another request.
  if (err.code === "ERR_PAYLOAD_TOO_LARGE") headers["connection"] = "close";
  // A token pasted where a name or id goes is named back in the answer ("No token with id …"):
  // masked, so that it does not reach the client's terminal, CI log or proxy log a second time.
  return new Response(maskTokens(JSON.stringify(err.toJSON())), { status: err.status, headers });
}

/** Maps anything thrown by a route to its response; `log` receives what the caller is not told. */
export function toErrorResponse(err: unknown, log: Logger): Response {
  if (err instanceof CboError) {
    // Not the daemon's failures: a client that hung up, a Cloudflare budget spent by requests.
    if (err.code === "ERR_IO" && err.details?.clientGone === true) log.info(`api: ${err.message}`);
    else if (err.code === "ERR_CF_BUDGET") log.warn(`api: ${err.code}: ${err.message}`);
    else if (!err.isUserError) log.error(`api: ${err.code}: ${err.message}`);
    return errorResponse(err);
  }
  log.error(`api: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  return errorResponse(new CboError("ERR_INTERNAL", "The orchestrator hit an internal error; the daemon's log has the details."));
}

/** `body.worker`, `query.after`, `params.name`: where a zod issue sits in the request. */
export function issuePath(where: string, path: PropertyKey[]): string {
  return [where, ...path.map((p) => (typeof p === "number" ? `[${p}]` : String(p)))].join(".").replace(/\.\[/g, "[");
}

/** ERR_VALIDATION naming the path of every problem (the first ones in the message, all in details). */
export function validationError(where: string, error: z.ZodError): CboError {
  const issues = error.issues.map((i) => ({ path: issuePath(where, i.path), message: i.message }));
  const shown = issues
    .slice(0, 3)
    .map((i) => `${i.path}: ${i.message}`)
    .join("; ");
  const more = issues.length > 3 ? ` (and ${issues.length - 3} more)` : "";
  return new CboError("ERR_VALIDATION", `Invalid request: ${shown}${more}`, { details: { issues } });
}
