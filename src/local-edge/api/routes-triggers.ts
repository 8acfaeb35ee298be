// Where a Worker answers besides workers.dev (CLOUDFLARE-API-FLEET §8.2-8.3): its routes
// (PUT replaces the script's whole set) and its custom domains (the records PUT and changeset
// that wrangler uses, and the account-level /workers/domains API). Each change reaches the
// region's router at once.
import { Hono, type Context } from "hono";
import { hexId } from "../../kit/ids.ts";
import { transaction, type EdgeDb } from "../state/db.ts";
import { CF_CODES, CfApiError, badRequest, notFoundScript, ok } from "./envelope.ts";
import { readJson } from "./json-body.ts";
import type { ScriptStore } from "../state/scripts.ts";
import type { WorkerStores } from "../state/worker-stores.ts";
import { zoneNameOf, type WorkerDomain, type WorkerRoute, type Zone } from "../state/routes.ts";
import type { Ops } from "./operations.ts";
import type { EdgeEnv } from "./routes-workers.ts";

type Origin = { hostname: string; zone_id?: string; zone_name?: string; enabled?: boolean; previews_enabled?: boolean };

const hostOfPattern = (pattern: string) =>
  pattern
    .replace(/^https?:\/\//i, "")
    .split("/")[0]!
    .toLowerCase();

export const routeJson = (r: WorkerRoute, zone?: Zone) => ({
  id: r.id,
  pattern: r.pattern,
  script: r.script ?? "",
  ...(zone ? { zone_id: zone.id, zone_name: zone.name } : {}),
});

export const domainJson = (d: WorkerDomain) => ({
  id: d.id,
  zone_id: d.zone_id,
  zone_name: d.zone_name,
  hostname: d.hostname,
  service: d.service,
  environment: d.environment,
  enabled: d.enabled,
  previews_enabled: d.previews_enabled,
  cert_id: "",
  created_on: d.created_on,
});

export function triggersRoutes(deps: { db: EdgeDb; scripts: ScriptStore; ops: Ops; stores: WorkerStores }) {
  const { routes } = deps.stores;
  const app = new Hono<EdgeEnv>();
  const script = (acct: string, name: string) => {
    const s = deps.scripts.get(acct, name);
    if (!s) throw notFoundScript(name);
    return s;
  };

  /** The zone a route or domain lives in: given by id or name, else the host's own. */
  const zoneFor = (acct: string, host: string, given: { zone_id?: unknown; zone_name?: unknown }, what: string): Zone => {
    let zone: Zone | undefined;
    if (typeof given.zone_id === "string" && given.zone_id !== "") {
      zone = routes.zoneById(given.zone_id);
      if (!zone || zone.account_id !== acct)
        throw new CfApiError(404, CF_CODES.ZONE_NOT_FOUND, `Zone ${given.zone_id} (of ${what}) does not exist in this account.`);
    } else if (typeof given.zone_name === "string" && given.zone_name !== "") {
      zone = routes.zone(acct, given.zone_name);
    } else {
      const name = zoneNameOf(host.replace(/^\*\.?/, ""));
      zone = name ? routes.zone(acct, name) : undefined;
    }
    if (!zone) throw badRequest(`Could not find a zone for ${what}: use a hostname under a domain such as example.com.`);
    const bare = host.replace(/^\*\.?/, "");
    if (bare !== zone.name && !bare.endsWith(`.${zone.name}`)) throw badRequest(`${what} is not in zone ${zone.name}.`);
    return zone;
  };

  // --- routes ---
  app.get("/workers/scripts/:name/routes", (c) => {
    const s = script(c.var.account.id, c.req.param("name"));
    return ok(
      c,
      routes.routesOfScript(s.account_id, s.name).map((r) => routeJson(r, routes.zoneById(r.zone_id))),
    );
  });
  app.put("/workers/scripts/:name/routes", async (c) => {
    const acct = c.var.account.id;
    const s = script(acct, c.req.param("name"));
    const body = await readJson(c);
    if (!Array.isArray(body)) throw badRequest('Routes must be an array of {"pattern": "example.com/*", "zone_id"?|"zone_name"?}.');
    const wanted = body.map((r: unknown, i) => {
      const route = typeof r === "string" ? { pattern: r } : (r as { pattern?: unknown; zone_id?: unknown; zone_name?: unknown });
      if (!route || typeof route.pattern !== "string" || route.pattern.trim() === "") throw badRequest(`routes[${i}].pattern is required.`);
      const pattern = route.pattern.trim();
      return { pattern, zone: zoneFor(acct, hostOfPattern(pattern), route, `route "${pattern}"`) };
    });
    const out = transaction(deps.db, () => {
      routes.deleteRoutesOfScript(acct, s.name);
      return wanted.map(({ pattern, zone }) => {
        const taken = routes.routeByPattern(zone.id, pattern);
        if (taken?.script && taken.script !== s.name) {
          throw new CfApiError(
            409,
            CF_CODES.ROUTE_CONFLICT,
            `The route with pattern "${pattern}" is already associated with another worker called "${taken.script}".`,
          );
        }
        const r: WorkerRoute = taken
          ? { ...taken, script: s.name }
          : { id: hexId(), account_id: acct, zone_id: zone.id, pattern, script: s.name };
        if (taken) routes.updateRoute(r);
        else routes.insertRoute(r);
        return routeJson(r, zone);
      });
    });
    await deps.ops.refresh(acct);
    return ok(c, out);
  });

  // --- custom domains ---
  const parseOrigins = (body: unknown, where: string): Origin[] => {
    if (!Array.isArray(body))
      throw badRequest(`${where} must be an array of {"hostname", "zone_id"?|"zone_name"?, "enabled"?, "previews_enabled"?}.`);
    return body.map((o: unknown, i) => {
      const origin = o as Origin;
      if (!origin || typeof origin.hostname !== "string" || origin.hostname === "")
        throw badRequest(`${where}[${i}].hostname is required.`);
      if (origin.hostname.includes("*") || origin.hostname.includes("/"))
        throw badRequest(`Custom domain "${origin.hostname}" must be a plain hostname (no wildcard, no path).`);
      return { ...origin, hostname: origin.hostname.toLowerCase() };
    });
  };
  const attach = (acct: string, service: string, o: Origin, environment = "production"): WorkerDomain => {
    const zone = zoneFor(acct, o.hostname, o, `custom domain "${o.hostname}"`);
    const existing = routes.domainByHostname(acct, o.hostname);
    const d: WorkerDomain = {
      id: existing?.id ?? hexId(),
      account_id: acct,
      zone_id: zone.id,
      zone_name: zone.name,
      hostname: o.hostname,
      service,
      environment,
      enabled: o.enabled ?? true,
      previews_enabled: o.previews_enabled ?? false,
      created_on: existing?.created_on ?? new Date().toISOString(),
    };
    routes.putDomain(d);
    return d;
  };

  app.post("/workers/scripts/:name/domains/changeset", async (c) => {
    const acct = c.var.account.id;
    const s = script(acct, c.req.param("name"));
    const origins = parseOrigins(await readJson(c), "The changeset");
    const mine = routes.domains(acct).filter((d) => d.service === s.name);
    const added: Origin[] = [];
    const updated: Array<ReturnType<typeof domainJson> & { modified: boolean }> = [];
    for (const o of origins) {
      const d = routes.domainByHostname(acct, o.hostname);
      if (!d) added.push(o);
      else {
        const modified =
          d.service !== s.name ||
          (o.enabled !== undefined && o.enabled !== d.enabled) ||
          (o.previews_enabled !== undefined && o.previews_enabled !== d.previews_enabled);
        updated.push({ ...domainJson(d), modified });
      }
    }
    const removed =
      c.req.query("replace_state") === "true" ? mine.filter((d) => !origins.some((o) => o.hostname === d.hostname)).map(domainJson) : [];
    return ok(c, { added, removed, updated, conflicting: [] });
  });
  app.put("/workers/scripts/:name/domains/records", async (c) => {
    const acct = c.var.account.id;
    const s = script(acct, c.req.param("name"));
    const body = (await readJson(c)) as { override_scope?: unknown; override_existing_origin?: unknown; origins?: unknown };
    const origins = parseOrigins(body.origins, "origins");
    const out = transaction(deps.db, () => {
      for (const o of origins) {
        const d = routes.domainByHostname(acct, o.hostname);
        if (d && d.service !== s.name && body.override_existing_origin !== true) {
          throw new CfApiError(
            409,
            CF_CODES.ROUTE_CONFLICT,
            `Custom domain ${o.hostname} already points at Worker "${d.service}"; set override_existing_origin to move it.`,
          );
        }
      }
      if (body.override_scope === true) {
        for (const d of routes.domains(acct))
          if (d.service === s.name && !origins.some((o) => o.hostname === d.hostname)) routes.deleteDomain(d.id);
      }
      return origins.map((o) => domainJson(attach(acct, s.name, o)));
    });
    await deps.ops.refresh(acct);
    return ok(c, out);
  });

  const domainFilter = (q: (k: string) => string | undefined) => (d: WorkerDomain) =>
    (!q("hostname") || d.hostname === q("hostname")) &&
    (!q("service") || d.service === q("service")) &&
    (!q("zone_id") || d.zone_id === q("zone_id")) &&
    (!q("zone_name") || d.zone_name === q("zone_name")) &&
    (!q("environment") || d.environment === q("environment"));
  const listDomains = (c: Context<EdgeEnv>) =>
    ok(
      c,
      routes
        .domains(c.var.account.id)
        .filter(domainFilter((k) => c.req.query(k)))
        .map(domainJson),
    );
  app.get("/workers/domains", listDomains);
  app.get("/workers/domains/records", listDomains);
  app.put("/workers/domains", async (c) => {
    const acct = c.var.account.id;
    const body = (await readJson(c)) as {
      hostname?: unknown;
      service?: unknown;
      environment?: unknown;
      zone_id?: unknown;
      zone_name?: unknown;
    };
    if (typeof body.service !== "string" || body.service === "") throw badRequest("A custom domain needs `service`: the Worker's name.");
    script(acct, body.service);
    const [origin] = parseOrigins([body], "The domain");
    const d = transaction(deps.db, () =>
      attach(acct, body.service as string, origin!, typeof body.environment === "string" ? body.environment : "production"),
    );
    await deps.ops.refresh(acct);
    return ok(c, domainJson(d));
  });
  const oneDomain = (acct: string, id: string) => {
    const d = routes.domain(acct, id);
    if (!d) throw new CfApiError(404, CF_CODES.DOMAIN_NOT_FOUND, `Custom domain ${id} does not exist.`);
    return d;
  };
  app.get("/workers/domains/records/:id", (c) => ok(c, domainJson(oneDomain(c.var.account.id, c.req.param("id")))));
  app.get("/workers/domains/:id", (c) => ok(c, domainJson(oneDomain(c.var.account.id, c.req.param("id")))));
  const removeDomain = async (c: Context<EdgeEnv>) => {
    const d = oneDomain(c.var.account.id, c.req.param("id") ?? "");
    routes.deleteDomain(d.id);
    await deps.ops.refresh(c.var.account.id);
    return ok(c, null);
  };
  app.delete("/workers/domains/records/:id", removeDomain);
  app.delete("/workers/domains/:id", removeDomain);
  return app;
}
