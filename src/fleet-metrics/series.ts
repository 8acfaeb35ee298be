// The metrics page's series (GET /v1/metrics/series): per worker, target and minute, requests,
// errors, error rate and p99 from Cloudflare's analytics (analytics-cache.ts), beside what the
// edge agents counted in their heartbeats. Every minute of the range has a point (zeros where
// nothing ran), so that a chart's x axis is the time axis.
import type { ResolvedSpec } from "../config/load.ts";
import type { MetricsSeries } from "../contract/index.ts";
import type { TargetRuntime } from "../targets/types.ts";
import { createAnalyticsCache } from "./analytics-cache.ts";
import type { Logger } from "../telemetry/index.ts";

const MINUTE = 60_000;

export type AgentMinute = { worker: string; target: string; minute: number; requests: number; errors: number };

export type FleetMetricsDeps = {
  spec: () => ResolvedSpec;
  targets: () => Map<string, TargetRuntime>;
  /** The agents' requests and errors per worker, target and minute (epoch s) since `sinceSec`. */
  agentMinutes: (tenant: string, sinceSec: number) => AgentMinute[];
  /** Analytics are read again at most this often (default 10 s: Cloudflare allows 300 GraphQL queries per 5 minutes). */
  freshMs?: number;
  /** How far back the daemon keeps (and a reader may ask): default 360 minutes. */
  keepMinutes?: number;
  log?: Logger;
  now?: () => number;
};

export function createFleetMetrics(deps: FleetMetricsDeps) {
  const keepMinutes = deps.keepMinutes ?? 360;
  const now = deps.now ?? Date.now;
  const cache = createAnalyticsCache({ targets: deps.targets, freshMs: deps.freshMs ?? 10_000, keepMinutes, log: deps.log });

  return {
    async series(q: { worker?: string | undefined; target?: string | undefined; minutes?: number | undefined }): Promise<MetricsSeries> {
      const spec = deps.spec();
      const minutes = Math.min(q.minutes ?? 60, keepMinutes);
      const to = Math.floor(now() / MINUTE) * MINUTE + MINUTE;
      const from = to - minutes * MINUTE;
      const workers = spec.workers.filter((w) => q.worker === undefined || w.name === q.worker);
      const targets = [...new Set(workers.flatMap((w) => w.targets))].filter((t) => q.target === undefined || t === q.target);
      const analytics = new Map(
        await Promise.all(
          targets.map(
            async (t) =>
              [
                t,
                await cache.get(
                  t,
                  spec.workers.filter((w) => w.targets.includes(t)).map((w) => w.name),
                  from,
                  to,
                ),
              ] as const,
          ),
        ),
      );
      const agents = new Map<string, { requests: number; errors: number }>();
      for (const a of deps.agentMinutes(spec.tenant, from / 1000)) agents.set(`${a.worker}\u0000${a.target}\u0000${a.minute * 1000}`, a);
      const series = workers.flatMap((w) =>
        w.targets
          .filter((t) => targets.includes(t))
          .map((t) => {
            const a = analytics.get(t);
            const cells = a?.cells.get(w.name);
            const points = [];
            for (let m = from; m < to; m += MINUTE) {
              const agent = agents.get(`${w.name}\u0000${t}\u0000${m}`);
              const cell = cells?.get(m);
              // Without analytics for the target (never read, or failing), the agents' count stands in.
              const useAgents = a?.status !== "ok";
              const requests = useAgents ? (agent?.requests ?? 0) : (cell?.requests ?? 0);
              const errors = useAgents ? (agent?.errors ?? 0) : (cell?.errors ?? 0);
              points.push({
                t: new Date(m).toISOString(),
                requests,
                errors,
                errorRate: requests > 0 ? errors / requests : null,
                p99Ms: cell && cell.requests > 0 ? cell.p99Ms : null,
                agentRequests: agent?.requests ?? 0,
                agentErrors: agent?.errors ?? 0,
              });
            }
            return { worker: w.name, target: t, points };
          }),
      );
      return {
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        stepSeconds: 60 as const,
        series,
        sources: targets.map((t) => {
          const a = analytics.get(t);
          return {
            target: t,
            analytics: a?.status ?? "none",
            readAt: a?.readAt ? new Date(a.readAt).toISOString() : null,
            error: a?.error ?? null,
          };
        }),
      };
    },
  };
}
export type FleetMetrics = ReturnType<typeof createFleetMetrics>;
