// Building the targets of the spec: for each, a Cloudflare client bound to its account and where
// its Workers answer. The one builder, used by the daemon and by `cbo init` (which checks each
// target before the daemon starts). A target on the local edge needs the edge (embedded, or a
// running `cbo edge`); one on Cloudflare needs an API token.
import type { Target } from "../config/schema.ts";
import { createCloudflareClient } from "../cloudflare/index.ts";
import { CboError } from "../kit/errors.ts";
import type { TargetRuntime } from "./types.ts";
import type { CboMetrics } from "../telemetry/index.ts";

/** What the targets are built on: the local edge's API and regions, and the Cloudflare API token. */
export type TargetSources = {
  edge?: { apiUrl: string; token: string; regions: ReadonlyArray<{ name: string; accountId: string; port: number }> } | undefined;
  cloudflareToken?: string | undefined;
  /**
   * Look up each Cloudflare target's workers.dev subdomain now, in the background, for its Workers'
   * URLs (default true; `cbo init` only checks the accounts).
   */
  subdomains?: boolean;
  /** Cloudflare API requests are counted here (GET /metrics). */
  metrics?: CboMetrics | undefined;
  /** What to do when a target cannot be built, in the caller's words (default: the daemon's). */
  hints?: { noEdge?: string; noRegion?: string; noToken?: string };
};

export function buildTargets(targets: readonly Target[], src: TargetSources): Map<string, TargetRuntime> {
  const map = new Map<string, TargetRuntime>();
  for (const t of targets) map.set(t.name, buildTarget(t, src));
  return map;
}

export function buildTarget(t: Target, src: TargetSources): TargetRuntime {
  if (t.api === "local") {
    const edge = src.edge;
    if (!edge) {
      throw new CboError("ERR_VALIDATION", `Target "${t.name}" uses the local edge (api: local), but none is running.`, {
        hint:
          src.hints?.noEdge ??
          "Start everything with `cbo up`, or point the target at Cloudflare (api: https://api.cloudflare.com/client/v4 with account_id).",
      });
    }
    const region = edge.regions.find((r) => r.name === (t.region ?? t.name));
    if (!region) {
      throw new CboError(
        "ERR_VALIDATION",
        `Target "${t.name}" names local region "${t.region ?? t.name}", which the local edge does not have (it has ${edge.regions.map((r) => r.name).join(", ")}).`,
        {
          hint: src.hints?.noRegion ?? "Set `region:` on the target to one of those, or start the edge with --regions.",
        },
      );
    }
    const client = createCloudflareClient({
      baseUrl: edge.apiUrl,
      apiToken: edge.token,
      accountId: region.accountId,
      ...(src.metrics ? { metrics: src.metrics } : {}),
    });
    return {
      name: t.name,
      accountId: region.accountId,
      client,
      endpoint: (worker) => ({ url: `http://127.0.0.1:${region.port}/`, host: `${worker}.localhost` }),
    };
  }
  if (!src.cloudflareToken) {
    throw new CboError("ERR_VALIDATION", `Target "${t.name}" talks to ${t.api}, but no Cloudflare API token is set.`, {
      hint: src.hints?.noToken ?? "Set CLOUDFLARE_API_TOKEN for the daemon.",
    });
  }
  const client = createCloudflareClient({
    baseUrl: t.api,
    apiToken: src.cloudflareToken,
    accountId: t.account_id!,
    ...(src.metrics ? { metrics: src.metrics } : {}),
  });
  let subdomain: string | undefined;
  if (src.subdomains !== false)
    void client.getSubdomain().then(
      (s) => (subdomain = s),
      () => {},
    );
  return {
    name: t.name,
    accountId: t.account_id!,
    client,
    endpoint: (worker) => ({ url: `https://${worker}.${subdomain ?? "workers"}.workers.dev/` }),
  };
}
