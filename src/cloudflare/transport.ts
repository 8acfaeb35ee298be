// The one place where requests to the Cloudflare API leave the process: a fetch-compatible
// function that every call of the client goes through, so budget and retries are applied once.
//
// Per request:  attempt n ── acquire a budget slot ── fetch
//   ├─ 2xx..4xx except 429 ──> return the response
//   ├─ 429 / 5xx ── retries left ──> wait max(retry-after, jittered backoff) ──> attempt n+1
//   │            └─ none left, or retry-after beyond maxRetryAfterMs ──> return the response
//   └─ network error / attempt timeout ── retries left ──> wait backoff ──> attempt n+1
//   (a request marked `once` gets no retry after a 5xx, a network error or a timeout: it may have landed)
//                                       └─ none left ──> throw ERR_CF_UNAVAILABLE
// A caller's abort ends it at once with the abort reason. The call scope (call-scope.ts) gives the
// budget slot its priority and longest wait, and its signal cancels the call like the caller's.
import { backoffDelay, parseRetryAfter, sleep } from "../kit/backoff.ts";
import { CboError } from "../kit/errors.ts";
import type { RequestBudget } from "./budget.ts";
import { currentCallScope } from "./call-scope.ts";
import { nodeFetch } from "./node-fetch.ts";
import { span, type CboMetrics, type Span } from "../telemetry/index.ts";

export type TransportRequestInfo = {
  method: string;
  /**
   * The endpoint class: a stable, low-cardinality name of the call (`d1.query`,
   * `workers.versions.create`), for counting API requests per endpoint; `unclassified` for a
   * request made without one.
   */
  endpoint: string;
  /** API path below the base URL, without the query. */
  path: string;
  /** 0 for the first attempt. */
  attempt: number;
  /** When the budget let this attempt start (budget clock). */
  startedAt: number;
};

export type TransportOptions = {
  /** e.g. `https://api.cloudflare.com/client/v4`; paths starting with `/` are resolved against it. */
  baseUrl: string;
  apiToken: string;
  budget: RequestBudget;
  /** Retries after the first attempt. Default 5. */
  maxRetries?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** A 429/5xx asking us to wait longer than this is returned as it is. Default 5 minutes. */
  maxRetryAfterMs?: number;
  /** Per attempt. Default 60 s. */
  timeoutMs?: number;
  /** Default: nodeFetch (node-fetch.ts), not the global fetch. */
  fetch?: typeof globalThis.fetch;
  /** Whose requests these are (a target's name), for the call scope's retry notices. */
  label?: string;
  /** Called as each attempt starts (after its budget slot is granted). */
  onRequest?: (info: TransportRequestInfo) => void;
  /** For tests: the jitter source. */
  random?: () => number;
  /** Attempts counted by endpoint class and status, 429s, retries and durations (GET /metrics). */
  metrics?: Pick<CboMetrics, "cloudflareRequests" | "cloudflareRateLimited" | "cloudflareRetries" | "cloudflareDuration">;
};

/** A fetch init that may name the endpoint class (never sent: it only labels the request). */
export type TransportInit = RequestInit & {
  endpoint?: string;
  /**
   * Not to be sent twice (a D1 Time Travel restore): a timeout, a lost connection or a 5xx may
   * follow the change landing, so it is not retried and the caller learns the outcome is unknown.
   * A 429 is still retried: Cloudflare refused it before running it.
   */
  once?: boolean;
};

export type Transport = (input: string | URL | Request, init?: TransportInit) => Promise<Response>;

/** What the transport knows about a response it returned. */
export type ResponseInfo = { method: string; path: string; attempts: number; endpoint: string };

/** The class of a request made without one. */
export const UNCLASSIFIED = "unclassified";

const responseInfos = new WeakMap<Response, ResponseInfo>();

export function responseInfo(of: Response): ResponseInfo | undefined {
  return responseInfos.get(of);
}

export function createTransport(opts: TransportOptions): Transport {
  const baseUrl = opts.baseUrl.replace(/\/+$/, "");
  const basePath = new URL(baseUrl).pathname.replace(/\/+$/, "");
  const maxRetries = opts.maxRetries ?? 5;
  const backoff = { baseMs: opts.baseDelayMs ?? 250, maxMs: opts.maxDelayMs ?? 20_000, random: opts.random };
  const maxRetryAfterMs = opts.maxRetryAfterMs ?? 300_000;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const doFetch = opts.fetch ?? nodeFetch;

  const m = opts.metrics;
  // One span per call (all its attempts) when inside a trace; every attempt carries its traceparent.
  return (input, given) =>
    span(
      `cloudflare ${given?.endpoint ?? UNCLASSIFIED}`,
      { "cloudflare.endpoint": given?.endpoint ?? UNCLASSIFIED },
      (s) => call(input, given, s),
      "client",
    );

  async function call(input: string | URL | Request, given: TransportInit | undefined, s: Span): Promise<Response> {
    const { endpoint = UNCLASSIFIED, once = false, ...init } = given ?? {};
    const req = await normalize(input, init, baseUrl);
    const method = (req.init.method ?? "GET").toUpperCase();
    const url = new URL(req.url);
    const path = url.pathname.startsWith(basePath) ? url.pathname.slice(basePath.length) || "/" : url.pathname;
    const headers = new Headers(req.init.headers);
    if (!headers.has("authorization")) headers.set("authorization", `Bearer ${opts.apiToken}`);
    const traceparent = s.traceparent();
    if (traceparent) headers.set("traceparent", traceparent);
    s.setAttribute("http.request.method", method);
    const scope = currentCallScope();
    const signals = [req.init.signal, scope?.signal].filter((x): x is AbortSignal => x !== undefined && x !== null);
    const callerSignal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    const slot = {
      signal: callerSignal,
      priority: scope?.priority,
      maxWaitMs: scope?.maxWaitMs,
      onQueued: scope?.onQueued,
    };

    for (let attempt = 0; ; attempt++) {
      const startedAt = await opts.budget.acquire({ ...slot, need: scope?.need?.() });
      if (scope?.tally) scope.tally.sent++;
      opts.onRequest?.({ method, endpoint, path, attempt, startedAt });
      const signal = callerSignal ? AbortSignal.any([callerSignal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
      let response: Response;
      const sent = performance.now();
      try {
        response = await doFetch(req.url, { ...req.init, method, headers, signal });
      } catch (e) {
        m?.cloudflareRequests.inc({ endpoint, status: "error" });
        if (callerSignal?.aborted) throw e;
        if (once || attempt >= maxRetries) {
          throw new CboError(
            "ERR_CF_UNAVAILABLE",
            `Cloudflare API unreachable: ${method} ${path} failed after ${attempt + 1} attempt(s): ${describe(e)}`,
            { details: { attempts: attempt + 1, method, path }, cause: e },
          );
        }
        m?.cloudflareRetries.inc({ endpoint });
        const delayMs = backoffDelay(attempt, backoff);
        const why = signal.aborted
          ? `timed out after ${timeoutMs < 1000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)} s`}`
          : describe(e);
        scope?.onRetry?.({ target: opts.label, method, path, endpoint, attempt: attempt + 1, attempts: maxRetries + 1, why, delayMs });
        await sleep(delayMs, callerSignal);
        continue;
      }
      m?.cloudflareRequests.inc({ endpoint, status: String(response.status) });
      m?.cloudflareDuration.observe({ endpoint }, (performance.now() - sent) / 1000);
      if (response.status === 429) m?.cloudflareRateLimited.inc({ endpoint });
      const retryable = response.status === 429 || (!once && response.status >= 500);
      const retryAfter = retryable ? parseRetryAfter(response.headers) : undefined;
      if (!retryable || attempt >= maxRetries || (retryAfter ?? 0) > maxRetryAfterMs) {
        responseInfos.set(response, { method, path, attempts: attempt + 1, endpoint });
        s.setAttribute("http.response.status_code", response.status);
        s.setAttribute("cloudflare.attempts", attempt + 1);
        if (response.status >= 400) s.fail(`HTTP ${response.status}`);
        return response;
      }
      m?.cloudflareRetries.inc({ endpoint });
      await response.body?.cancel().catch(() => {});
      const delayMs = Math.max(retryAfter ?? 0, backoffDelay(attempt, backoff));
      scope?.onRetry?.({
        target: opts.label,
        method,
        path,
        endpoint,
        attempt: attempt + 1,
        attempts: maxRetries + 1,
        why: `HTTP ${response.status}`,
        delayMs,
      });
      await sleep(delayMs, callerSignal);
    }
  }
}

type Normalized = { url: string; init: RequestInit };

// Every attempt re-sends the body, so one-shot bodies (streams, a Request's body) are buffered
// first. Strings, bytes, Blobs, URLSearchParams and FormData can be sent again as they are.
async function normalize(input: string | URL | Request, init: RequestInit | undefined, baseUrl: string): Promise<Normalized> {
  if (input instanceof Request) {
    const merged: RequestInit = {
      method: input.method,
      headers: input.headers,
      signal: input.signal,
      ...init,
    };
    if (init?.body === undefined && input.body !== null) merged.body = await input.arrayBuffer();
    return { url: input.url, init: await replayable(merged) };
  }
  const raw = String(input);
  const url = raw.startsWith("/") ? baseUrl + raw : raw;
  return { url, init: await replayable({ ...init }) };
}

async function replayable(init: RequestInit): Promise<RequestInit> {
  const body = init.body;
  if (body === undefined || body === null) return init;
  const oneShot = body instanceof ReadableStream || (typeof body === "object" && Symbol.asyncIterator in body && !(body instanceof Blob));
  if (!oneShot) return init;
  const { duplex: _duplex, ...rest } = init as RequestInit & { duplex?: string };
  return { ...rest, body: await new Response(body as ReadableStream).arrayBuffer() };
}

function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = e.cause as { code?: unknown; message?: unknown } | undefined;
  const detail = cause && typeof cause === "object" ? (cause.code ?? cause.message) : undefined;
  return detail === undefined ? e.message : `${e.message} (${String(detail)})`;
}
