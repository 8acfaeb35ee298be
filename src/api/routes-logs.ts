// Fleet logs and the metrics page's series: the kept lines (GET /v1/logs), what the log pipeline
// is doing (GET /v1/logs/status), the live stream (WS /v1/logs/stream, served by logs-ws.ts), and
// requests, errors and p99 per worker, target and minute (GET /v1/metrics/series).
// A viewer reads lines as they are shipped (redacted); the other roles read the raw line with
// secret values masked (src/fleet-logs/redact.ts).
import * as z from "zod";
import { CboError } from "../kit/errors.ts";
import type { ReadLevel } from "../fleet-logs/index.ts";
import type { Principal } from "../security/index.ts";
import type { RouteContext } from "./context.ts";
import { requireWorker } from "./context.ts";
import { route, type RouteDef } from "./route.ts";
import {
  ErrorBodySchema,
  LogLineSchema,
  LogsQuerySchema,
  LogsStatusSchema,
  LogStreamQuerySchema,
  MetricsSeriesQuerySchema,
  MetricsSeriesSchema,
} from "../contract/index.ts";

export const LOG_STREAM_PATH = "/v1/logs/stream";

/** How much of a line a caller may read (see the module comment). */
export const readLevelOf = (p: Principal | null): ReadLevel => (p?.role === "viewer" ? "redacted" : "raw");

const unavailable = (what: string) =>
  new CboError("ERR_CONFLICT", `This daemon runs without ${what}.`, { hint: "It is wired by the daemon (cbo up, cbo daemon)." });

export function logRoutes(ctx: RouteContext): RouteDef[] {
  const logs = () => {
    if (!ctx.deps.fleetLogs) throw unavailable("fleet logs");
    return ctx.deps.fleetLogs;
  };
  return [
    route({
      id: "listLogs",
      method: "get",
      path: "/v1/logs",
      summary: "Kept fleet log lines matching the filters, oldest first (the newest `limit`; page back with `before`)",
      role: "viewer",
      query: LogsQuerySchema,
      response: z.array(LogLineSchema),
      errors: [409],
      handle({ query, principal }) {
        if (query.worker !== undefined) requireWorker(ctx.deps.spec(), query.worker);
        return logs().list(query, readLevelOf(principal));
      },
    }),
    route({
      id: "logsStatus",
      method: "get",
      path: "/v1/logs/status",
      summary:
        "The log pipeline: tail sessions per worker and target, the local copy (lines, bytes, retention), shipping (queued, shipped, dropped)",
      role: "viewer",
      response: LogsStatusSchema,
      handle: () => logs().status(),
    }),
    route({
      id: "streamLogs",
      method: "get",
      path: LOG_STREAM_PATH,
      summary: "WebSocket: fleet log lines as they arrive, one JSON LogLine per text message, filtered",
      role: "viewer",
      query: LogStreamQuerySchema,
      response: ErrorBodySchema,
      websocket: {
        message: LogLineSchema,
        description:
          "Upgrade to a WebSocket, authenticated like /v1/events/stream. With ?worker= the daemon keeps that worker's tail sessions " +
          "open on every target while the socket is open (one session per worker and target, shared by every follower); without it, " +
          "the lines of the workers whose logs are kept. ?target=, ?status=ok|error and ?search= filter. Lines are live only (read " +
          "kept ones with GET /v1/logs). Close codes: 1008 refused (the reason starts with the error code), 4400 invalid query or " +
          "unknown worker, 1013 client too slow, 1001 daemon shutting down.",
      },
      handle() {
        throw new CboError("ERR_VALIDATION", `${LOG_STREAM_PATH} speaks WebSocket only: send an Upgrade request.`, {
          hint: "Use a WebSocket client (cbo logs <worker> --follow does).",
        });
      },
    }),
    route({
      id: "metricsSeries",
      method: "get",
      path: "/v1/metrics/series",
      summary: "Requests, errors, error rate and p99 per worker, target and minute, from Cloudflare's analytics and the agents' heartbeats",
      role: "viewer",
      query: MetricsSeriesQuerySchema,
      response: MetricsSeriesSchema,
      errors: [409],
      async handle({ query }) {
        if (!ctx.deps.fleetMetrics) throw unavailable("metrics series");
        if (query.worker !== undefined) requireWorker(ctx.deps.spec(), query.worker);
        return ctx.deps.fleetMetrics.series(query);
      },
    }),
  ];
}
