// Building the targets of the spec: for each, a Cloudflare client bound to its account and where
// its Workers answer. The one builder, used by the daemon and by `cbo init` (which checks each
// target before the daemon starts). A target on the local edge needs the edge (embedded, or a
// running `cbo edge`); one on Cloudflare needs an API token: its own (`api_token_secret`, a vault
// secret, for fleets spread over several accounts) or the daemon's (CLOUDFLARE_API_TOKEN), and an
// account: its `account_id`, or CLOUDFLARE_ACCOUNT_ID.
import type { Target } from "../config/schema.ts";
import { createCloudflareClient, type BudgetRegistry, type CloudflareClient } from "../cloudflare/index.ts";
import { CboError } from "../kit/errors.ts";
import type { ReadReuseRegistry } from "./read-reuse.ts";
import type { TargetRuntime } from "./types.ts";
import type { CboMetrics } from "../telemetry/index.ts";

/** What the targets are built on: the local edge's API and regions, and the Cloudflare API token. */
export type TargetSources = {
  edge?: { apiUrl: string; token: string; regions: ReadonlyArray<{ name: string; accountId: string; port: number }> } | undefined;
  cloudflareToken?: string | undefined;
  /** CLOUDFLARE_ACCOUNT_ID: the account of a Cloudflare target that names none. */
  defaultAccountId?: string | undefined;
  /**
   * The value of the vault secret a target names as its own token (`api_token_secret`); undefined
   * while the vault does not hold it. Without this function such a target cannot be built.
   */
  targetToken?: ((secret: string) => string | undefined) | undefined;
  /**
   * Look up each Cloudflare target's workers.dev subdomain now, in the background, for its Workers'
   * URLs (default true; `cbo init` only checks the accounts).
   */
  subdomains?: boolean;
  /** Cloudflare API requests are counted here (GET /metrics). */
  metrics?: CboMetrics | undefined;
  /** The request budget of each token (default: the process-wide one, 960 per 5 minutes). */
  budgets?: BudgetRegistry | undefined;
  /** Reads that plan, diff and status share for a few seconds (read-reuse.ts); default: none shared. */
  reuse?: ReadReuseRegistry | undefined;
  /**
   * Each Cloudflare API request's retries after a 429/5xx or a lost connection (default 5, backoff
   * from 250 ms doubling to 20 s): tests that hold a region out shorten the backoff, as waiting out
   * production's ~8 s per failing call is all such a test would spend its time on.
   */
  retry?: { maxRetries?: number; baseDelayMs?: number; maxDelayMs?: number } | undefined;
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
          "Start everything with `cbo up`; or run the local edge apart with `cbo edge` and give the daemon its directory " +
            "(`cbo daemon --edge DIR`; found by itself in <data>/edge); or point the target at Cloudflare " +
            "(api: https://api.cloudflare.com/client/v4 with account_id).",
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
      label: t.name,
      ...src.retry,
      ...(src.metrics ? { metrics: src.metrics } : {}),
      ...(src.budgets ? { budget: src.budgets.getBudgetFor(edge.token) } : {}),
    });
    return {
      name: t.name,
      accountId: region.accountId,
      tokenSource: "the local edge",
      client: src.reuse ? src.reuse.of(edge.apiUrl, region.accountId).wrap(client) : client,
      endpoint: (worker) => ({ url: `http://127.0.0.1:${region.port}/`, host: `${worker}.localhost` }),
      // The region's port routes by Host, routes and custom domains included.
      hostEndpoint: (host) => ({ url: `http://127.0.0.1:${region.port}/`, host }),
    };
  }
  const accountId = t.account_id ?? src.defaultAccountId;
  if (!accountId) {
    throw new CboError("ERR_VALIDATION", `Target "${t.name}" talks to ${t.api}, but names no account.`, {
      hint: "Set `account_id:` (32 hex) on the target in orchestrator.yaml, or CLOUDFLARE_ACCOUNT_ID for the daemon.",
    });
  }
  if (!/^[0-9a-f]{32}$/.test(accountId)) {
    throw new CboError("ERR_VALIDATION", `CLOUDFLARE_ACCOUNT_ID (the account of target "${t.name}") is not 32 lowercase hex characters.`, {
      hint: "Cloudflare dashboard → Workers & Pages → Account ID.",
    });
  }
  const secret = t.api_token_secret;
  const token = secret ? src.targetToken?.(secret) : src.cloudflareToken;
  const tokenSource = secret ? `vault secret ${secret}` : "CLOUDFLARE_API_TOKEN";
  if (secret && !src.targetToken) {
    throw new CboError(
      "ERR_VALIDATION",
      `Target "${t.name}" takes its token from the vault secret ${secret}, which only the daemon reads.`,
      {
        hint: src.hints?.noToken ?? "Start the daemon (cbo daemon); set the token with `cbo secrets set " + secret + "`.",
      },
    );
  }
  if (!token && !secret) {
    throw new CboError("ERR_VALIDATION", `Target "${t.name}" talks to ${t.api}, but no Cloudflare API token is set.`, {
      hint: src.hints?.noToken ?? "Set CLOUDFLARE_API_TOKEN for the daemon, or `api_token_secret:` on the target.",
    });
  }
  const built = createCloudflareClient({
    baseUrl: t.api,
    apiToken: token ?? `unset:${secret}`,
    accountId,
    label: t.name,
    ...src.retry,
    ...(src.metrics ? { metrics: src.metrics } : {}),
    ...(src.budgets ? { budget: src.budgets.getBudgetFor(token ?? `unset:${secret}`) } : {}),
  });
  // A token the vault does not hold yet: every call says so (the daemon reads it again when
  // orchestrator.yaml is reloaded), rather than the daemon refusing to start before it can be set.
  const shared = src.reuse && token ? src.reuse.of(t.api, accountId).wrap(built) : built;
  const client = token
    ? shared
    : withoutToken(
        built,
        new CboError(
          "ERR_VALIDATION",
          `Target "${t.name}" takes its Cloudflare API token from the vault secret ${secret}, which is not set.`,
          {
            hint: `Set it with \`cbo secrets set ${secret}\`, then touch orchestrator.yaml (or restart the daemon) so that it is read.`,
          },
        ),
      );
  let subdomain: string | undefined;
  if (src.subdomains !== false && token)
    void client.getSubdomain().then(
      (s) => (subdomain = s),
      () => {},
    );
  return {
    name: t.name,
    accountId,
    tokenSource,
    ...(secret ? { tokenSecret: { name: secret, set: token !== undefined } } : {}),
    client,
    endpoint: (worker) => ({ url: `https://${worker}.${subdomain ?? "workers"}.workers.dev/` }),
    hostEndpoint: (host) => ({ url: `https://${host}/` }),
  };
}

/** The client with every API call refused with `err` (its budget and account stay: loops read them). */
function withoutToken(client: CloudflareClient, err: CboError): CloudflareClient {
  const keep = new Set<PropertyKey>(["budget", "accountId", "forAccount"]);
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (keep.has(prop) || typeof prop === "symbol") return Reflect.get(target, prop, receiver);
      const v = Reflect.get(target, prop, receiver);
      return typeof v === "function" ? () => Promise.reject(err) : v;
    },
  });
}
