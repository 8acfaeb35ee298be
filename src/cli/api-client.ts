// The CLI's only way to the orchestrator: a small typed client of the daemon's REST API (the event
// stream is in event-stream.ts). Every answer is validated; every failure becomes a CboError with
// the daemon's own code, so `cbo` exits 1 for what the user can fix and 2 for the rest.
import type * as z from "zod";
import { requestJson } from "./api-request.ts";
import {
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

export { DAEMON_DOWN_HINT, daemonDown, errorFromResponse } from "./api-errors.ts";

export function createApiClient(opts: ApiClientOptions) {
  const base = opts.url.replace(/\/+$/, "");
  const timeoutMs = opts.timeoutMs ?? 30_000;

  // One implementation of "a JSON request to the daemon" for every command (api-request.ts).
  const conn = { url: base, token: opts.token, timeoutMs };
  const request = <S extends z.ZodType>(method: string, path: string, schema: S, body?: unknown): Promise<z.infer<S>> =>
    requestJson(conn, method, path, schema, body);

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
