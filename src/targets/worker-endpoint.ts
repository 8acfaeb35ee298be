// Where the daemon reaches a Worker over HTTP on a target (gate probes, the health monitor, config
// pokes). Its workers.dev address (the local edge's `<name>.localhost`) while that is on. With
// workers.dev turned off (`workers_dev = false`, or wrangler's default for a Worker with routes),
// Cloudflare answers that address 404 for every path, so a probe there checks nothing: the gate saw
// only 404s and passed any version, and the monitor called a healthy Worker unhealthy. Then the
// Worker is reached on its first custom domain, else on the host of its first route that covers the
// whole host (`host/*`), with the same version-override header as on workers.dev. A Worker with
// neither (a route such as `example.com/api/*` only) keeps the workers.dev address.
import type { Route, WorkerSource } from "../config/source/model.ts";
import type { Endpoint, TargetRuntime } from "./types.ts";

/** The host a Worker without workers.dev answers every path on, from its routes; undefined when none does. */
export function ownHost(routes: readonly Route[]): string | undefined {
  const strip = (p: string) => p.replace(/^https?:\/\//, "");
  const domain = routes.find((r) => r.customDomain === true && r.enabled !== false);
  if (domain) return strip(domain.pattern).replace(/\/.*$/, "");
  for (const r of routes) {
    if (r.customDomain || r.enabled === false) continue;
    const m = /^([^/*]+)\/\*$/.exec(strip(r.pattern));
    if (m) return m[1];
  }
  return undefined;
}

export function workerEndpoint(
  runtime: TargetRuntime,
  worker: { name: string; source?: WorkerSource; sources?: Record<string, WorkerSource> },
): Endpoint {
  const src = worker.sources?.[runtime.name] ?? worker.source;
  if (src?.settings.workersDev !== false || !runtime.hostEndpoint) return runtime.endpoint(worker.name);
  const host = ownHost(src.routes);
  return host ? runtime.hostEndpoint(host) : runtime.endpoint(worker.name);
}
