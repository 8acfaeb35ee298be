// Where and when a Worker runs besides its version (CLOUDFLARE-API-FLEET §5, §8.2-8.4): cron
// schedules, routes (the script's set, and zone routes for tokens without "All Zones"), custom
// domains (the records PUT wrangler sends from CI, and the account's /workers/domains), and the
// workers.dev subdomain with preview URLs. Each PUT replaces the whole set it names.
import * as z from "zod";
import { type ApiContext, seg } from "./context.ts";
import {
  CustomDomainSchema,
  type CustomDomain,
  SchedulesSchema,
  type Schedule,
  ScriptSubdomainSchema,
  type ScriptSubdomain,
  WorkerRouteSchema,
  type WorkerRoute,
  ZoneSchema,
  type Zone,
} from "./schemas-scripts.ts";

/** A route of the script: a pattern, in a zone given by id or name (or found from the host). */
export type RouteInput = { pattern: string; zoneId?: string; zoneName?: string };

/** A custom domain of the script (wrangler's `origins`). */
export type CustomDomainInput = { hostname: string; zoneId?: string; zoneName?: string; enabled?: boolean; previewsEnabled?: boolean };

export type CustomDomainsOptions = {
  /** Replace the script's whole set of custom domains (wrangler always sends true). Default true. */
  overrideScope?: boolean;
  /** Move a hostname that points at another Worker (wrangler in CI: true). Default true. */
  overrideExistingOrigin?: boolean;
  /** Replace a DNS record already at the hostname (wrangler in CI: true). Default true. */
  overrideExistingDnsRecord?: boolean;
};

/** The date wrangler sends on the subdomain POST (`Cloudflare-Workers-Script-Api-Date`). */
export const SCRIPT_API_DATE = "2025-08-01";

export function routeBody(r: RouteInput): Record<string, string> {
  return {
    pattern: r.pattern,
    ...(r.zoneId !== undefined ? { zone_id: r.zoneId } : r.zoneName !== undefined ? { zone_name: r.zoneName } : {}),
  };
}

export function originBody(d: CustomDomainInput): Record<string, unknown> {
  return {
    hostname: d.hostname,
    ...(d.zoneId === undefined ? {} : { zone_id: d.zoneId }),
    ...(d.zoneName === undefined ? {} : { zone_name: d.zoneName }),
    ...(d.enabled === undefined ? {} : { enabled: d.enabled }),
    ...(d.previewsEnabled === undefined ? {} : { previews_enabled: d.previewsEnabled }),
  };
}

export function createTriggersApi(ctx: ApiContext) {
  const account = async () => `/accounts/${seg(await ctx.accountId())}`;
  const scriptPath = async (script: string) => `${await account()}/workers/scripts/${seg(script)}`;

  return {
    async getSchedules(script: string): Promise<Schedule[]> {
      return (await ctx.json("GET", `${await scriptPath(script)}/schedules`, SchedulesSchema, { endpoint: "workers.schedules.get" }))
        .schedules;
    },

    /** Replaces every schedule (`[]` clears them). An invalid cron is refused (the local edge: 10100) and nothing changes. */
    async putSchedules(script: string, crons: string[]): Promise<Schedule[]> {
      const body = crons.map((cron) => ({ cron }));
      return (await ctx.json("PUT", `${await scriptPath(script)}/schedules`, SchedulesSchema, { endpoint: "workers.schedules.put", body }))
        .schedules;
    },

    async getScriptRoutes(script: string): Promise<WorkerRoute[]> {
      return ctx.json("GET", `${await scriptPath(script)}/routes`, z.array(WorkerRouteSchema), { endpoint: "workers.routes.get" });
    },

    /**
     * Replaces the script's routes. Code 10000 means the token lacks "All Zones" (wrangler then
     * falls back on the zone routes below); a pattern owned by another Worker is refused.
     */
    async putScriptRoutes(script: string, routes: RouteInput[]): Promise<WorkerRoute[]> {
      return ctx
        .json("PUT", `${await scriptPath(script)}/routes`, z.array(WorkerRouteSchema).nullish(), {
          endpoint: "workers.routes.put",
          body: routes.map(routeBody),
        })
        .then((r) => r ?? []);
    },

    /** The zone of that exact name in this account, or null. */
    async findZone(name: string): Promise<Zone | null> {
      const zones = await ctx.list("/zones", ZoneSchema, {
        paging: "cursor",
        query: { name, "account.id": await ctx.accountId() },
        endpoint: "zones.list",
      });
      return zones.find((z) => z.name === name) ?? null;
    },

    async listZoneRoutes(zoneId: string): Promise<WorkerRoute[]> {
      return ctx.list(`/zones/${seg(zoneId)}/workers/routes`, WorkerRouteSchema, {
        paging: "single",
        endpoint: "zones.workers-routes.list",
      });
    },

    /** A pattern already in the zone is refused. */
    async createZoneRoute(zoneId: string, route: { pattern: string; script: string }): Promise<WorkerRoute> {
      return ctx.json("POST", `/zones/${seg(zoneId)}/workers/routes`, WorkerRouteSchema, {
        endpoint: "zones.workers-routes.create",
        body: route,
      });
    },

    async deleteZoneRoute(zoneId: string, routeId: string): Promise<void> {
      await ctx.json("DELETE", `/zones/${seg(zoneId)}/workers/routes/${seg(routeId)}`, z.unknown(), {
        endpoint: "zones.workers-routes.delete",
      });
    },

    /**
     * Sets the script's custom domains as wrangler deploy does outside a TTY: one records PUT
     * with the override flags. With overrideScope (the default) domains not listed are removed.
     */
    async putCustomDomains(script: string, domains: CustomDomainInput[], opts: CustomDomainsOptions = {}): Promise<CustomDomain[]> {
      const body = {
        override_scope: opts.overrideScope ?? true,
        override_existing_origin: opts.overrideExistingOrigin ?? true,
        override_existing_dns_record: opts.overrideExistingDnsRecord ?? true,
        origins: domains.map(originBody),
      };
      return ctx
        .json("PUT", `${await scriptPath(script)}/domains/records`, z.array(CustomDomainSchema).nullish(), {
          endpoint: "workers.domains.records.put",
          body,
        })
        .then((r) => r ?? []);
    },

    /** The account's custom domains, filtered by Worker (`service`) or hostname. */
    async listCustomDomains(filter: { service?: string; hostname?: string; zoneName?: string } = {}): Promise<CustomDomain[]> {
      return ctx.list(`${await account()}/workers/domains`, CustomDomainSchema, {
        paging: "single",
        query: { service: filter.service, hostname: filter.hostname, zone_name: filter.zoneName },
        endpoint: "workers.domains.list",
      });
    },

    async deleteCustomDomain(domainId: string): Promise<void> {
      await ctx.json("DELETE", `${await account()}/workers/domains/${seg(domainId)}`, z.unknown(), { endpoint: "workers.domains.delete" });
    },

    /** workers.dev for the script: `enabled` and `previews_enabled`. */
    async getScriptSubdomain(script: string): Promise<ScriptSubdomain> {
      return ctx.json("GET", `${await scriptPath(script)}/subdomain`, ScriptSubdomainSchema, { endpoint: "workers.subdomain.get" });
    },

    /** Turns workers.dev (and preview URLs, when given) on or off; unset previews are left to the API. */
    async setScriptSubdomain(script: string, setting: { enabled: boolean; previewsEnabled?: boolean }): Promise<ScriptSubdomain> {
      return ctx.json("POST", `${await scriptPath(script)}/subdomain`, ScriptSubdomainSchema, {
        endpoint: "workers.subdomain.post",
        body: { enabled: setting.enabled, ...(setting.previewsEnabled === undefined ? {} : { previews_enabled: setting.previewsEnabled }) },
        headers: { "cloudflare-workers-script-api-date": SCRIPT_API_DATE },
      });
    },
  };
}
