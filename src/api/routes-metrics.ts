// GET /metrics: the daemon's metrics in the Prometheus text format (src/telemetry/catalog.ts lists
// them). On the API's own port behind a token, rather than on a second, unauthenticated port: a
// `metrics` token (cbo tokens create --role metrics) reads this route and nothing else, a viewer or
// higher may read it too, refusals are counted and audited like any other, and nothing new listens.
import * as z from "zod";
import { CboError } from "../kit/errors.ts";
import { METRICS_CONTENT_TYPE } from "../telemetry/index.ts";
import type { RouteContext } from "./context.ts";
import { route, type RouteDef } from "./route.ts";

export function metricsRoutes(ctx: RouteContext): RouteDef[] {
  return [
    route({
      id: "metrics",
      method: "get",
      path: "/metrics",
      summary: "The daemon's metrics, Prometheus text exposition format 0.0.4 (a metrics token, or viewer and up)",
      role: "metrics",
      contentType: METRICS_CONTENT_TYPE,
      response: z.string().describe("Prometheus text exposition format 0.0.4"),
      handle() {
        if (!ctx.deps.metrics) throw new CboError("ERR_NOT_FOUND", "This API serves no metrics.");
        return ctx.deps.metrics.registry.render();
      },
    }),
  ];
}
