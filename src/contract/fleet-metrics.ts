// The metrics page's time series: requests, errors and latency per worker, target and minute,
// from the agents' heartbeats (what the edge agent counted) and Cloudflare's invocation analytics
// (GraphQL workersInvocationsAdaptive): src/fleet-metrics/.
import * as z from "zod";

export const MetricsSeriesQuerySchema = z.object({
  worker: z.string().min(1).max(64).optional(),
  target: z.string().min(1).max(64).optional(),
  minutes: z.coerce.number().int().min(5).max(360).optional().describe("How far back, in minutes (default 60)"),
});
export type MetricsSeriesQuery = z.input<typeof MetricsSeriesQuerySchema>;

export const MetricsPointSchema = z.object({
  t: z.string().describe("The minute's start"),
  requests: z.number().describe("Invocations (analytics; the agents' count when the target has no analytics)"),
  errors: z.number().describe("Cloudflare's errors: exceptions, exceeded limits, internal errors"),
  errorRate: z.number().nullable().describe("errors ÷ requests; null without requests"),
  p99Ms: z.number().nullable().describe("99th percentile wall time in ms (analytics); null without requests"),
  agentRequests: z.number().describe("Requests the edge agents counted (heartbeats)"),
  agentErrors: z.number().describe("Of which the agents counted as errors (5xx answers and exceptions)"),
});

export const MetricsSeriesSchema = z.object({
  from: z.string(),
  to: z.string(),
  stepSeconds: z.literal(60),
  series: z.array(z.object({ worker: z.string(), target: z.string(), points: z.array(MetricsPointSchema) })),
  sources: z.array(
    z.object({
      target: z.string(),
      analytics: z.enum(["ok", "error", "none"]).describe("none: not read yet"),
      readAt: z.string().nullable(),
      error: z.string().nullable(),
    }),
  ),
});
export type MetricsSeries = z.output<typeof MetricsSeriesSchema>;
