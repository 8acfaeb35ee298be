// /zones: the zone lookups and zone-scoped Workers routes wrangler falls back on (§8.2): zones
// by name (any two-label domain is a zone of the account at the local edge), and the routes of
// a zone. Zones name their account, so these sit outside /accounts/:acct.
import { Hono, type Context } from "hono";
import { hexId } from "../../kit/ids.ts";
import { CF_CODES, CfApiError, badRequest, ok, pageInfo, pageParams } from "./envelope.ts";
import { readJson } from "./json-body.ts";
import type { AccountStore } from "../state/accounts.ts";
import type { ScriptStore } from "../state/scripts.ts";
import type { WorkerStores } from "../state/worker-stores.ts";
import type { Zone } from "../state/routes.ts";
import type { Ops } from "./operations.ts";
import { routeJson } from "./routes-triggers.ts";

export function zoneRoutes(deps: { accounts: AccountStore; scripts: ScriptStore; ops: Ops; stores: WorkerStores }) {
  const { routes } = deps.stores;
  const app = new Hono();
  const zoneJson = (z: Zone) => {
    const a = deps.accounts.get(z.account_id);
    return { id: z.id, name: z.name, status: "active", paused: false, type: "full", account: { id: z.account_id, name: a?.name ?? "" } };
  };
  const zoneOf = (c: Context) => {
    const z = routes.zoneById(c.req.param("zone") ?? "");
    if (!z) throw new CfApiError(404, CF_CODES.ZONE_NOT_FOUND, `Zone ${c.req.param("zone")} does not exist.`);
    return z;
  };

  app.get("/zones", (c) => {
    const name = c.req.query("name");
    const acct = c.req.query("account.id");
    const accounts = acct ? deps.accounts.list().filter((a) => a.id === acct) : deps.accounts.list();
    const zones = name ? accounts.flatMap((a) => routes.zone(a.id, name) ?? []) : [];
    // wrangler pages these with a cursor (an empty one ends its loop); the SDK's zones.list asks
    // for page+1 until a page is empty, so a later page must be empty, not the same zones again.
    const { page, perPage, offset } = pageParams(c, 20, 50);
    const items = zones.slice(offset, offset + perPage);
    return ok(c, items.map(zoneJson), { ...pageInfo(page, perPage, items.length, zones.length), cursor: "" });
  });
  app.get("/zones/:zone", (c) => ok(c, zoneJson(zoneOf(c))));
  app.get("/zones/:zone/workers/routes", (c) => {
    const z = zoneOf(c);
    const all = routes.routesOfZone(z.id);
    return ok(
      c,
      all.map((r) => routeJson(r)),
      { page: 1, per_page: 1000, count: all.length, total_count: all.length, cursor: "" },
    );
  });
  const routeBody = async (c: Context, z: Zone) => {
    const body = (await readJson(c)) as { pattern?: unknown; script?: unknown };
    if (typeof body.pattern !== "string" || body.pattern.trim() === "") throw badRequest("A route needs a `pattern`, e.g. example.com/*.");
    const host = body.pattern
      .replace(/^https?:\/\//i, "")
      .split("/")[0]!
      .replace(/^\*\.?/, "")
      .toLowerCase();
    if (host !== z.name && !host.endsWith(`.${z.name}`)) throw badRequest(`Route "${body.pattern}" is not in zone ${z.name}.`);
    const script = typeof body.script === "string" && body.script !== "" ? body.script : null;
    if (script && !deps.scripts.get(z.account_id, script))
      throw new CfApiError(404, CF_CODES.SCRIPT_NOT_FOUND, `Worker ${script} does not exist on this zone's account.`);
    return { pattern: body.pattern.trim(), script };
  };
  app.post("/zones/:zone/workers/routes", async (c) => {
    const z = zoneOf(c);
    const { pattern, script } = await routeBody(c, z);
    if (routes.routeByPattern(z.id, pattern))
      throw new CfApiError(409, CF_CODES.ROUTE_CONFLICT, `A route with pattern "${pattern}" already exists in zone ${z.name}.`);
    const r = { id: hexId(), account_id: z.account_id, zone_id: z.id, pattern, script };
    routes.insertRoute(r);
    await deps.ops.refresh(z.account_id);
    return ok(c, routeJson(r));
  });
  const route = (c: Context, z: Zone) => {
    const r = routes.route(c.req.param("route") ?? "");
    if (!r || r.zone_id !== z.id)
      throw new CfApiError(404, CF_CODES.ZONE_NOT_FOUND, `Route ${c.req.param("route")} does not exist in zone ${z.name}.`);
    return r;
  };
  app.get("/zones/:zone/workers/routes/:route", (c) => ok(c, routeJson(route(c, zoneOf(c)))));
  app.put("/zones/:zone/workers/routes/:route", async (c) => {
    const z = zoneOf(c);
    const r = route(c, z);
    const { pattern, script } = await routeBody(c, z);
    const next = { ...r, pattern, script };
    routes.updateRoute(next);
    await deps.ops.refresh(z.account_id);
    return ok(c, routeJson(next));
  });
  app.delete("/zones/:zone/workers/routes/:route", async (c) => {
    const z = zoneOf(c);
    const r = route(c, z);
    routes.deleteRoute(r.id);
    await deps.ops.refresh(z.account_id);
    return ok(c, { id: r.id });
  });
  return app;
}
