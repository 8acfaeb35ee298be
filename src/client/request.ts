// One JSON request to the daemon, for every client: the CLI and the MCP server (a bearer token) and
// the dashboard (the session cookie, with its CSRF token on mutations). Browser-safe: fetch only.
// Every answer is validated with the contract's schema; every failure becomes a CboError with the
// daemon's own code, so a client exits or shows the same error whichever way it talks to it. A
// body that is not JSON is never kept as an error's cause, and schema failures name types, not
// values: an answer may hold a secret value.
import type * as z from "zod";
import { AnyErrorBodySchema, decodeSpecRefused, SPEC_REFUSED_HEADER } from "../contract/index.ts";
import { CboError, ERROR_CODES, type ErrorCode } from "../kit/errors.ts";
import { formatTraceparent, newSpanId, newTraceId } from "../kit/trace-context.ts";
import { readUpTo } from "../kit/read-up-to.ts";

export type Connection = {
  /** The daemon's base URL; "" for the page's own origin (the dashboard). */
  url: string;
  /** A bearer token (CLI, MCP); without one, the browser's session cookie goes along (same origin). */
  token?: string | undefined;
  /** The session's CSRF token, sent on every mutation (the dashboard). */
  csrf?: (() => string) | undefined;
  /** `x-cbo-via`: what the caller acts through (`mcp:release`), a detail of its audit entries. */
  via?: string | undefined;
  /** Per request (default 30 s). */
  timeoutMs?: number | undefined;
  fetch?: typeof fetch | undefined;
  /** How errors name the other side: "daemon" (the CLI) or "orchestrator" (an agent's MCP tools). */
  label?: string | undefined;
  /** What to do about an error, per code, in the caller's words. */
  hints?: Partial<Record<ErrorCode, string>> | undefined;
  /** The hints when the daemon does not answer, does not answer in time, and answers in an unexpected shape. */
  downHint?: string | undefined;
  /** The caller's own error for a daemon that does not answer, when it knows why (the CLI: still starting). */
  downError?: ((url: string, cause: unknown) => CboError | undefined) | undefined;
  timeoutHint?: string | undefined;
  /** The largest answer read (bytes; default MAX_ANSWER_BYTES). */
  maxAnswerBytes?: number | undefined;
  versionHint?: string | undefined;
  /** Called on a 401 before it is thrown (the dashboard goes back to its login form). */
  onUnauthorized?: (() => void) | undefined;
  /**
   * The W3C `traceparent` each request carries: one for all of a client's requests (a CLI command
   * is one trace), or a function for one per request (the dashboard, the MCP server's tools).
   */
  traceparent?: string | (() => string | undefined) | undefined;
  /**
   * Called with every answer: why orchestrator.yaml on disk is refused (the daemon keeps the
   * previous spec), or undefined when it is not. The CLI warns on stderr, the dashboard shows a banner.
   */
  onSpecRefused?: ((refused: string | undefined) => void) | undefined;
};

/**
 * The largest answer a client reads: far above the largest real one (an audit page of 10,000
 * entries with details at their 16 KiB cap is about 170 MB), and far enough below what one string
 * may hold (about 512 M characters in V8) that an answer is refused by name, not by the engine's
 * "Cannot create a string longer than…".
 */
export const MAX_ANSWER_BYTES = 256 * 1024 * 1024;

/** The answer's bytes, counted while they stream in: refused as soon as they pass the limit. */
export async function readAnswer(c: Pick<Connection, "label" | "maxAnswerBytes">, res: Response, what: string): Promise<Uint8Array> {
  const limit = c.maxAnswerBytes ?? MAX_ANSWER_BYTES;
  const tooLarge = () =>
    new CboError("ERR_IO", `${The(c)}'s answer to ${what} is larger than ${sizeText(limit)}, more than this client reads.`, {
      details: { limitBytes: limit },
      hint: "ask for less at a time (a smaller --limit, or a narrower filter), or look for what made the answer this large",
    });
  if (Number(res.headers.get("content-length") ?? 0) > limit) {
    await res.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  const bytes = await readUpTo(res.body, limit);
  if (bytes === undefined) throw tooLarge();
  return bytes;
}

const sizeText = (bytes: number) => (bytes >= 1024 * 1024 ? `${Math.round(bytes / (1024 * 1024))} MiB` : `${bytes} bytes`);
const answerText = async (c: Pick<Connection, "label" | "maxAnswerBytes">, res: Response, what: string) =>
  new TextDecoder().decode(await readAnswer(c, res, what));

/** A new trace's `traceparent` (sampled): the root of a command's or an action's requests. */
export function newTraceparent(): string {
  return formatTraceparent({ traceId: newTraceId(), spanId: newSpanId(), sampled: true });
}

const FALLBACK_BY_STATUS: Record<number, ErrorCode> = {
  400: "ERR_VALIDATION",
  401: "ERR_UNAUTHORIZED",
  403: "ERR_FORBIDDEN",
  404: "ERR_NOT_FOUND",
  409: "ERR_CONFLICT",
  429: "ERR_RATE_LIMITED",
};

const The = (c: Pick<Connection, "label">) => `The ${c.label ?? "daemon"}`;

/** The daemon does not answer at `url` (connection refused, reset, DNS): a system error it may recover from. */
export function daemonDown(c: Pick<Connection, "label" | "downHint" | "downError">, url: string, cause?: unknown): CboError {
  const known = c.downError?.(url, cause);
  if (known) return known;
  return new CboError("ERR_IO", `${The(c)} at ${url} is not answering.`, { ...(c.downHint ? { hint: c.downHint } : {}), cause });
}

/** Maps a non-2xx answer to the CboError it stands for: the daemon's code when it sent one. */
export function errorFromResponse(c: Pick<Connection, "label" | "hints">, status: number, text: string): CboError {
  let body: z.output<typeof AnyErrorBodySchema> | undefined;
  try {
    const parsed = AnyErrorBodySchema.safeParse(JSON.parse(text));
    if (parsed.success) body = parsed.data;
  } catch {
    body = undefined;
  }
  const sent = body?.error.code;
  const code: ErrorCode =
    sent !== undefined && Object.hasOwn(ERROR_CODES, sent)
      ? (sent as ErrorCode)
      : (FALLBACK_BY_STATUS[status] ?? (status >= 400 && status < 500 ? "ERR_VALIDATION" : "ERR_INTERNAL"));
  const message = body?.error.message ?? `${The(c)} answered HTTP ${status}.`;
  // The caller's words for this code first (they name its flags), else the daemon's own fix.
  const hint = c.hints?.[code] ?? body?.error.hint;
  return new CboError(code, message, { ...(body?.error.details ? { details: body.error.details } : {}), ...(hint ? { hint } : {}) });
}

/** "?a=1&b=x" from the defined entries, "" when there are none. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) qs.set(k, String(v));
  const s = qs.toString();
  return s ? `?${s}` : "";
}

/** Per request: the Idempotency-Key of a mutation (the same on each of its retries). */
export type RequestOptions = { idempotencyKey?: string | undefined };

/** Waits between attempts of a keyed mutation whose connection failed, or whose first attempt is still running. */
const RETRY_DELAYS_MS = [200, 800];

/**
 * The answer's bytes as they came (a non-JSON route: the deployment kit), after the same error
 * handling. A mutation with an Idempotency-Key is retried with the same key when the connection
 * fails before an answer (the daemon may or may not have run it: the key makes that safe) or when
 * the daemon says its first attempt is still running; without a key nothing is retried.
 */
export async function requestRaw(c: Connection, method: string, path: string, body?: unknown, o: RequestOptions = {}): Promise<Response> {
  // Whether some attempt of a mutation may have reached the daemon: its connection broke after it
  // was made (reset, closed, timed out), where a refused one never carried the request.
  let mayHaveArrived = false;
  for (let attempt = 0; ; attempt++) {
    const last = o.idempotencyKey === undefined || attempt >= RETRY_DELAYS_MS.length;
    try {
      return await requestOnce(c, method, path, body, o);
    } catch (e) {
      mayHaveArrived ||= method !== "GET" && method !== "HEAD" && e instanceof CboError && cutOff.has(e);
      const retry = e instanceof CboError && (noAnswer.has(e) || e.code === "ERR_IDEMPOTENCY_IN_FLIGHT");
      if (last || !retry)
        throw mayHaveArrived && e instanceof CboError && (cutOff.has(e) || noAnswer.has(e)) ? outcomeUnknown(c, method, path, e) : e;
    }
    await new Promise((r) => setTimeout(r, RETRY_DELAYS_MS[attempt]));
  }
}

/** Errors of requests that got no answer at all (refused, reset): a keyed retry is safe. */
const noAnswer = new WeakSet<CboError>();
/** Errors of requests cut off after they were sent (reset, closed, timed out): the daemon may have run them. */
const cutOff = new WeakSet<CboError>();
/**
 * Errors (undici's and the system's) of a connection that was made and then broke: the request had
 * gone out on it. Anything else (refused, no such host, a port fetch never dials) never left here.
 */
const CUT_OFF_CODES = new Set(["UND_ERR_SOCKET", "UND_ERR_CLOSED", "ECONNRESET", "EPIPE", "ECONNABORTED", "ETIMEDOUT"]);

/** Whether a failed fetch broke a connection after the request went out (its cause chain names a code above). */
function brokeAfterSending(e: unknown): boolean {
  for (let cur = e, depth = 0; cur && depth < 4; cur = (cur as { cause?: unknown }).cause, depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === "string" && CUT_OFF_CODES.has(code)) return true;
  }
  return false;
}

/**
 * A mutation whose connection broke after it was sent: the daemon may have done it before it went
 * away (a kill -9 mid-request, a restart). Saying only "not answering" invites running it again,
 * which can release twice or rotate twice; the outcome has to be looked up first.
 */
function outcomeUnknown(c: Pick<Connection, "label">, method: string, path: string, down: CboError): CboError {
  return new CboError(
    "ERR_IO",
    `${down.message} ${method} ${path} had been sent, so ${The(c).toLowerCase()} may have done it (or may still be doing it).`,
    {
      hint: `Once it answers again, check what it did (the event log: \`cbo events\`, or \`cbo status\`) before you run the command again.${down.hint ? ` ${down.hint}` : ""}`,
      cause: down,
    },
  );
}

/**
 * A token is one word of visible ASCII (`cbo_admin_…`). One with a line break, a space or a
 * non-ASCII byte (a pasted line, a file in another encoding) cannot go in a header: fetch refused
 * it before sending, and that was reported as "the daemon is not answering".
 */
export function checkTokenText(token: string | undefined, hint?: string): void {
  if (token === undefined || /^[\x21-\x7e]+$/.test(token)) return;
  throw new CboError(
    "ERR_VALIDATION",
    "The token holds a character no token has (a space, line break, control or non-ASCII character), so it was not sent.",
    {
      hint: hint ?? "Give the token as one line of text, e.g. cbo_admin_… (a token file is read with its surrounding whitespace trimmed).",
    },
  );
}

async function requestOnce(c: Connection, method: string, path: string, body: unknown, o: RequestOptions): Promise<Response> {
  checkTokenText(c.token);
  const base = c.url.replace(/\/+$/, "");
  const timeoutMs = c.timeoutMs ?? 30_000;
  const headers: Record<string, string> = { accept: "application/json" };
  if (c.token) headers["authorization"] = `Bearer ${c.token}`;
  if (c.via) headers["x-cbo-via"] = c.via;
  const traceparent = typeof c.traceparent === "function" ? c.traceparent() : c.traceparent;
  if (traceparent) headers["traceparent"] = traceparent;
  if (method !== "GET" && c.csrf) headers["x-csrf-token"] = c.csrf();
  if (o.idempotencyKey !== undefined) headers["idempotency-key"] = o.idempotencyKey;
  if (body !== undefined) headers["content-type"] = "application/json";
  let res: Response;
  try {
    res = await (c.fetch ?? fetch)(base + path, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(timeoutMs),
      ...(c.token ? {} : { credentials: "same-origin" as const }),
    });
  } catch (e) {
    if ((e as Error).name === "TimeoutError") {
      const late = new CboError("ERR_IO", `${The(c)} at ${base} did not answer ${method} ${path} within ${timeoutMs / 1000} s.`, {
        ...(c.timeoutHint ? { hint: c.timeoutHint } : {}),
        cause: e,
      });
      cutOff.add(late);
      throw late;
    }
    const down = daemonDown(c, base, e);
    noAnswer.add(down);
    if (brokeAfterSending(e)) cutOff.add(down);
    throw down;
  }
  if (c.onSpecRefused) {
    const refused = res.headers.get(SPEC_REFUSED_HEADER);
    c.onSpecRefused(refused ? decodeSpecRefused(refused) : undefined);
  }
  if (!res.ok) {
    const text = await answerText(c, res, `${method} ${path}`);
    if (res.status === 401) c.onUnauthorized?.();
    throw errorFromResponse(c, res.status, text);
  }
  return res;
}

export async function requestJson<S extends z.ZodType>(
  c: Connection,
  method: string,
  path: string,
  schema: S,
  body?: unknown,
  o: RequestOptions = {},
): Promise<z.output<S>> {
  const res = await requestRaw(c, method, path, body, o);
  const text = await answerText(c, res, `${method} ${path}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // No cause: the text may be a secret value (GET …/value) and causes print with --debug.
    throw new CboError("ERR_INTERNAL", `${The(c)} answered ${method} ${path} with something that is not JSON.`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    // Only the path and zod's message (which names types, not values) of the first issue.
    const issue = parsed.error.issues[0];
    throw new CboError(
      "ERR_INTERNAL",
      `${The(c)}'s answer to ${method} ${path} has an unexpected shape (at ${issue?.path.join(".") || "the top"}: ${issue?.code ?? "invalid"}).`,
      {
        ...(c.versionHint ? { hint: c.versionHint } : {}),
      },
    );
  }
  return parsed.data;
}
