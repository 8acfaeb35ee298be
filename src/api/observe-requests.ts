// Every API request, observed once, ahead of everything else (app.ts registers it first):
//   - a server span: the caller's `traceparent` (and `tracestate`) continued, or a new trace; the
//     answer carries the span's own `traceparent` and the request id (`x-request-id`: the caller's
//     when it is a plain token, else a new one), so a caller can quote both;
//   - the access log line: method, route template (never the raw path: it may hold names a caller
//     chose), status, duration, the principal's name (never a token), request and trace ids;
//     busy token-less routes (heartbeats) are logged at debug;
//   - cbo_http_requests_total and cbo_http_request_duration_seconds by method and route template.
import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { newSpanId, TRACEPARENT_HEADER, TRACESTATE_HEADER } from "../kit/trace-context.ts";
import { ACCESS_LOG_MSG, type CboMetrics, type Logger, type Tracer } from "../telemetry/index.ts";

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const principals = new WeakMap<Request, string>();

/** Who the request turned out to be (its token's or session's name), for the access log. */
export function notePrincipal(c: Context, name: string): void {
  principals.set(c.req.raw, name);
}

/** The route template that answered (the last matched handler that is not middleware). */
function routeOf(c: Context): string {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) if (routes[i]!.method !== "ALL") return routes[i]!.path;
  return "unmatched";
}

export function observeRequests(deps: {
  log: Logger;
  metrics?: CboMetrics | undefined;
  tracer?: Tracer | undefined;
  /** Routes logged at debug (the hot, token-less ones). */
  quiet: (path: string) => boolean;
}): MiddlewareHandler {
  const { log, metrics, tracer } = deps;
  return async (c, next) => {
    const started = performance.now();
    const method = c.req.method;
    const given = c.req.header("x-request-id");
    const requestId = given !== undefined && REQUEST_ID.test(given) ? given : newSpanId();
    const span = tracer?.startRoot(method, {
      parent: c.req.header(TRACEPARENT_HEADER),
      traceState: c.req.header(TRACESTATE_HEADER),
      kind: "server",
      requestId,
      attributes: { "http.request.method": method },
    });
    try {
      await (span ? span.within(next) : next());
    } finally {
      const route = routeOf(c);
      const status = c.res.status;
      const seconds = (performance.now() - started) / 1000;
      const traceparent = span?.traceparent();
      try {
        if (traceparent) c.res.headers.set(TRACEPARENT_HEADER, traceparent);
        c.res.headers.set("x-request-id", requestId);
      } catch {
        // A response with immutable headers (Response.redirect) goes out as it is.
      }
      if (span) {
        // Named `METHOD /route/:template` once the route is known (OpenTelemetry's HTTP convention).
        span.rename(`${method} ${route}`);
        span.setAttribute("http.route", route);
        span.setAttribute("http.response.status_code", status);
        if (status >= 500) span.fail(`HTTP ${status}`);
        span.end();
      }
      metrics?.httpRequests.inc({ method, route, status: String(status) });
      metrics?.httpDuration.observe({ method, route }, seconds);
      const principal = principals.get(c.req.raw);
      const fields = {
        method,
        route,
        status,
        duration_ms: Math.round(seconds * 10_000) / 10,
        ...(principal === undefined ? {} : { principal }),
        request_id: requestId,
        ...(span?.traceId ? { trace_id: span.traceId } : {}),
      };
      if (deps.quiet(c.req.path)) log.debug(ACCESS_LOG_MSG, fields);
      else log.info(ACCESS_LOG_MSG, fields);
    }
  };
}
