// The CLI's only way to the orchestrator: a small typed client of the daemon's REST API (the event
// stream is in event-stream.ts). Every answer is validated; every failure becomes a CboError with
// the daemon's own code, so `cbo` exits 1 for what the user can fix and 2 for the rest.
import type { z } from "zod";
import { CboError, ERROR_CODES, type ErrorCode } from "../kit/errors.ts";
import {
  ErrorBodySchema,
  EventSchema,
  PlanSchema,
  ReleaseDetailSchema,
  ReleaseSchema,
  StatusSchema,
  VersionsSchema,
  type ApiEvent,
  type ApiPlan,
  type ApiRelease,
  type ApiReleaseDetail,
  type ApiStatus,
  type ApiVersions,
} from "./api-schemas.ts";

export type ApiClientOptions = { url: string; token?: string | undefined; timeoutMs?: number };

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

export function createApiClient(opts: ApiClientOptions) {
  const base = opts.url.replace(/\/+$/, "");
  const timeoutMs = opts.timeoutMs ?? 30_000;

  async function request<S extends z.ZodType>(method: string, path: string, schema: S, body?: unknown): Promise<z.infer<S>> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (opts.token) headers["authorization"] = `Bearer ${opts.token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    try {
      res = await fetch(base + path, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      if ((e as Error).name === "TimeoutError") {
        throw new CboError("ERR_IO", `The daemon at ${base} did not answer ${method} ${path} within ${timeoutMs / 1000} s.`, { cause: e });
      }
      throw daemonDown(base, e);
    }
    const text = await res.text();
    if (!res.ok) throw errorFromResponse(res.status, text);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new CboError("ERR_INTERNAL", `The daemon answered ${method} ${path} with something that is not JSON.`, { cause: e });
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new CboError("ERR_INTERNAL", `The daemon's answer to ${method} ${path} has an unexpected shape (at ${issue?.path.join(".") || "the top"}: ${issue?.message}).`, {
        hint: "are the cbo CLI and the daemon the same version?",
      });
    }
    return parsed.data;
  }

  const enc = encodeURIComponent;
  return {
    url: base,
    token: opts.token,
    status: (): Promise<ApiStatus> => request("GET", "/v1/status", StatusSchema),
    plan: (worker: string): Promise<ApiPlan> => request("GET", `/v1/workers/${enc(worker)}/plan`, PlanSchema),
    versions: (worker: string): Promise<ApiVersions> => request("GET", `/v1/workers/${enc(worker)}/versions`, VersionsSchema),
    release: (worker: string): Promise<ApiRelease> => request("POST", "/v1/releases", ReleaseSchema, { worker }),
    getRelease: (id: string): Promise<ApiReleaseDetail> => request("GET", `/v1/releases/${enc(id)}`, ReleaseDetailSchema),
    rollback: (worker: string, to?: string): Promise<ApiRelease> =>
      request("POST", `/v1/workers/${enc(worker)}/rollback`, ReleaseSchema, to === undefined ? {} : { to }),
    events(q: { after?: number; release?: string; limit?: number } = {}): Promise<ApiEvent[]> {
      const qs = new URLSearchParams();
      if (q.after !== undefined) qs.set("after", String(q.after));
      if (q.release !== undefined) qs.set("release", q.release);
      if (q.limit !== undefined) qs.set("limit", String(q.limit));
      const s = qs.toString();
      return request("GET", `/v1/events${s ? `?${s}` : ""}`, EventSchema.array());
    },
  };
}
export type ApiClient = ReturnType<typeof createApiClient>;
