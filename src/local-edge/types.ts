// The local edge's public surface: what `cbo edge`, `cbo up`, tests and benchmarks hold.
import * as z from "zod";

export const FaultSchema = z
  .object({
    /** The region's Workers answer 503 (and the region's account API answers 503). */
    outage: z.boolean().optional(),
    /** Added to every Worker request and every API call of the region's account. */
    latencyMs: z.number().int().min(0).max(60_000).optional(),
    /** Share (0..1) of Worker requests answered 500 instead of reaching the Worker. */
    errorRate: z.number().min(0).max(1).optional(),
    /** GraphQL analytics of the region's account show a minute only this long after it ends (Cloudflare's lag). */
    analyticsLagSec: z.number().int().min(0).max(3600).optional(),
    /** API calls of the region's account beyond `limit` per `windowSec` get 429, code 971. */
    rateLimit: z
      .object({ limit: z.number().int().min(0), windowSec: z.number().int().min(1).max(3600) })
      .strict()
      .optional(),
  })
  .strict();
export type Fault = z.infer<typeof FaultSchema>;

export type RegionInfo = {
  /** Region name, e.g. `eu`. */
  name: string;
  /** The region's Cloudflare account id (32 hex), stable across restarts. */
  accountId: string;
  accountName: string;
  /** workers.dev subdomain of the account: Workers answer to `<name>.<subdomain>.workers.dev`. */
  subdomain: string;
  /** The region's public port: Workers answer at `http://<worker>.localhost:<port>/`. */
  port: number;
  publicUrl: string;
};

export type LocalEdgeOptions = {
  /** Where its log lines go (default stderr); `cbo up` hands them to the daemon's logger. */
  log?: (line: string) => void;
  /** API port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Region public ports, by region name; default: port+1, port+2, … when port is set, else free ones. */
  regionPorts?: Record<string, number>;
  /** Where state lives (SQLite file, token); it survives restarts. */
  dataDir: string;
  /** Region names; default `["eu", "us", "ap"]`. */
  regions?: string[];
  /** The API token clients must present; default: read from, or generated into, `<dataDir>/token`. */
  token?: string;
  /** Fire due cron triggers of live Workers while the edge runs (default off; `cbo edge` turns it on). */
  crons?: boolean;
  /**
   * Count every Worker invocation for the GraphQL Analytics API (default on). Off, the routers
   * count nothing and GraphQL answers no rows; `wrangler tail` works either way.
   */
  analytics?: boolean;
  /** How long invocation counts are kept, in days (default 7); older minutes are pruned and refused. */
  analyticsRetentionDays?: number;
};

export type LocalEdge = {
  /** `http://127.0.0.1:<port>/client/v4`: give it to wrangler as CLOUDFLARE_API_BASE_URL. */
  apiUrl: string;
  /** `http://127.0.0.1:<port>/__edge`: fault injection and info (same bearer token). */
  adminUrl: string;
  token: string;
  regions: RegionInfo[];
  region(name: string): RegionInfo;
  /** Resolves once the region's workerd applies it (API-side faults apply at once). */
  setFault(region: string, fault: Fault | null): Promise<void>;
  getFault(region: string): Fault;
  /** Number of API requests received per account id since start (rate-limited ones included). */
  apiRequestCount(accountId?: string): number;
  close(): Promise<void>;
};
