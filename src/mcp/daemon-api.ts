// The MCP server's only way to the orchestrator: the daemon's REST API with the agent's own token.
// Every request says which tool made it (`x-cbo-via: mcp:<tool>`), which the daemon keeps as a
// detail of the audit entries the token writes. Answers are validated where they enter; failures
// become CboErrors with the daemon's code and message, never the token or a request body.
import type * as z from "zod";
import { CboError, ERROR_CODES, type ErrorCode } from "../kit/errors.ts";
import { ErrorBodySchema } from "./schemas.ts";

export type DaemonApiOptions = {
  url: string;
  token: string;
  /** Per request; a release followed with `wait` polls with requests of its own. */
  timeoutMs?: number;
  fetch?: typeof fetch;
};

export type DaemonApi = {
  url: string;
  get<S extends z.ZodType>(tool: string, path: string, schema: S, query?: Record<string, string | number | undefined>): Promise<z.output<S>>;
  send<S extends z.ZodType>(tool: string, method: "POST" | "PUT", path: string, schema: S, body: unknown): Promise<z.output<S>>;
};

const BY_STATUS: Record<number, ErrorCode> = { 400: "ERR_VALIDATION", 401: "ERR_UNAUTHORIZED", 403: "ERR_FORBIDDEN", 404: "ERR_NOT_FOUND", 409: "ERR_CONFLICT", 429: "ERR_RATE_LIMITED" };

export function createDaemonApi(opts: DaemonApiOptions): DaemonApi {
  const base = opts.url.replace(/\/+$/, "");
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const doFetch = opts.fetch ?? fetch;

  async function request<S extends z.ZodType>(tool: string, method: string, path: string, schema: S, body?: unknown): Promise<z.output<S>> {
    const headers: Record<string, string> = { accept: "application/json", authorization: `Bearer ${opts.token}`, "x-cbo-via": `mcp:${tool}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    try {
      res = await doFetch(base + path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }), signal: AbortSignal.timeout(timeoutMs) });
    } catch (e) {
      const timedOut = (e as Error).name === "TimeoutError";
      throw new CboError("ERR_IO", timedOut ? `The orchestrator at ${base} did not answer ${method} ${path} within ${timeoutMs / 1000} s.` : `The orchestrator at ${base} is not answering.`, {
        hint: "Is the daemon running (cbo up / cbo daemon), and is CBO_URL right?",
      });
    }
    const text = await res.text();
    if (!res.ok) throw fromResponse(res.status, text);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new CboError("ERR_INTERNAL", `The orchestrator answered ${method} ${path} with something that is not JSON.`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new CboError("ERR_INTERNAL", `The orchestrator's answer to ${method} ${path} has an unexpected shape (at ${issue?.path.join(".") || "the top"}: ${issue?.code ?? "invalid"}).`, {
        hint: "Are `cbo mcp` and the daemon the same version?",
      });
    }
    return parsed.data;
  }

  return {
    url: base,
    get(tool, path, schema, query) {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) qs.set(k, String(v));
      const s = qs.toString();
      return request(tool, "GET", s ? `${path}?${s}` : path, schema);
    },
    send: (tool, method, path, schema, body) => request(tool, method, path, schema, body),
  };
}

/** The daemon's error body as a CboError (its own code when it sent one), with a hint for agents. */
function fromResponse(status: number, text: string): CboError {
  let body: z.output<typeof ErrorBodySchema> | undefined;
  try {
    const parsed = ErrorBodySchema.safeParse(JSON.parse(text));
    if (parsed.success) body = parsed.data;
  } catch {
    body = undefined;
  }
  const sent = body?.error.code;
  const code: ErrorCode = sent !== undefined && Object.hasOwn(ERROR_CODES, sent) ? (sent as ErrorCode) : (BY_STATUS[status] ?? (status < 500 ? "ERR_VALIDATION" : "ERR_INTERNAL"));
  const hint =
    code === "ERR_FORBIDDEN"
      ? "This agent's token may not do this. Tell the user; the operator can run the matching `cbo` command or grant a token with a higher role."
      : code === "ERR_UNAUTHORIZED"
        ? "The agent's token is unknown, revoked or expired: the operator makes a new one with `cbo tokens create --role agent`."
        : undefined;
  return new CboError(code, body?.error.message ?? `The orchestrator answered HTTP ${status}.`, { ...(body?.error.details ? { details: body.error.details } : {}), ...(hint ? { hint } : {}) });
}
