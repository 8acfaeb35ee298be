// How the daemon's answers become CboErrors in the CLI: the daemon's own code when it sent one.
import type * as z from "zod";
import { CboError, ERROR_CODES, type ErrorCode } from "../kit/errors.ts";
import { ErrorBodySchema } from "./api-schemas.ts";

export const DAEMON_DOWN_HINT = "start it with `cbo up` or `npm start`";

export function daemonDown(url: string, cause?: unknown): CboError {
  return new CboError("ERR_IO", `The daemon at ${url} is not answering.`, { hint: DAEMON_DOWN_HINT, cause });
}

const FALLBACK_BY_STATUS: Record<number, ErrorCode> = {
  400: "ERR_VALIDATION",
  401: "ERR_UNAUTHORIZED",
  403: "ERR_FORBIDDEN",
  404: "ERR_NOT_FOUND",
  409: "ERR_CONFLICT",
};

const HINTS: Partial<Record<ErrorCode, string>> = {
  ERR_UNAUTHORIZED: "pass a valid token with --token or CBO_TOKEN (the daemon writes its admin token to <data>/admin-token)",
  ERR_FORBIDDEN: "this token's role is too low; use a deployer or admin token",
  ERR_DISK_FULL: "free that much space on the daemon's disk; it resumes writing by itself, then retry",
  ERR_STORE_CORRUPT: "stop the daemon, keep its database for investigation, and restore the newest backup with `cbo restore <archive> --data <new dir>`",
  ERR_BUNDLE_CONFINED: "a Worker's bundle reads only files inside its project (the directory of orchestrator.yaml) and installed packages; move the file into the project, and keep secrets in the vault (cbo secrets set)",
};

/** Maps a non-2xx answer to the CboError it stands for: the daemon's code when it sent one. */
export function errorFromResponse(status: number, text: string): CboError {
  let body: z.infer<typeof ErrorBodySchema> | undefined;
  try {
    const parsed = ErrorBodySchema.safeParse(JSON.parse(text));
    if (parsed.success) body = parsed.data;
  } catch {
    body = undefined;
  }
  const sent = body?.error.code;
  const code: ErrorCode =
    sent !== undefined && Object.hasOwn(ERROR_CODES, sent)
      ? (sent as ErrorCode)
      : (FALLBACK_BY_STATUS[status] ?? (status >= 400 && status < 500 ? "ERR_VALIDATION" : "ERR_INTERNAL"));
  const message = body?.error.message ?? `The daemon answered HTTP ${status}.`;
  const hint = HINTS[code];
  return new CboError(code, message, { ...(body?.error.details ? { details: body.error.details } : {}), ...(hint ? { hint } : {}) });
}
