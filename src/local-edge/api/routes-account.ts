// Identity and tunnels: /user, /user/tokens/verify, /accounts, /memberships, /accounts/:acct/cfd_tunnel.
import { Hono, type Context } from "hono";
import { randomBytes } from "node:crypto";
import type { AccountStore } from "../state/accounts.ts";
import type { TunnelStore } from "../state/tunnels.ts";
import type { Account } from "../state/model.ts";
import { CF_CODES, CfApiError, badRequest, ok, pageInfo, pageParams } from "./envelope.ts";
import { readJsonObject } from "./json-body.ts";
import { tunnelJson } from "./present.ts";
import type { EdgeEnv } from "./routes-workers.ts";

const TOKEN_ID = "0000000000000000000000000000cb0e";

export function identityRoutes(deps: { accounts: AccountStore }) {
  const app = new Hono();
  const accountJson = (a: Account) => ({
    id: a.id,
    name: a.name,
    type: "standard",
    settings: { enforce_twofactor: false },
    created_on: a.created_on,
  });
  app.get("/user/tokens/verify", (c) => ok(c, { id: TOKEN_ID, status: "active" }));
  app.get("/user", (c) =>
    ok(c, { id: "local-edge-user", email: "local-edge@localhost", first_name: "Local", last_name: "Edge", suspended: false }),
  );
  // A token scoped to some accounts (scoped-tokens.ts) sees only those, as on Cloudflare.
  const visible = (c: Context) => {
    const scope = (c.var as { scopedAccounts?: Set<string> }).scopedAccounts;
    return deps.accounts.list().filter((a) => !scope || scope.has(a.id));
  };
  app.get("/accounts", (c) => {
    const all = visible(c);
    const { page, perPage, offset } = pageParams(c);
    const items = all.slice(offset, offset + perPage);
    return ok(c, items.map(accountJson), pageInfo(page, perPage, items.length, all.length));
  });
  const membershipJson = (a: Account) => ({
    id: `m-${a.id}`,
    status: "accepted",
    account: { id: a.id, name: a.name },
    roles: ["Administrator"],
    permissions: {},
  });
  app.get("/memberships", (c) => {
    const all = visible(c);
    const { page, perPage, offset } = pageParams(c);
    const items = all.slice(offset, offset + perPage).map(membershipJson);
    return ok(c, items, pageInfo(page, perPage, items.length, all.length));
  });
  // The SDK's memberships.get: one of the ids the list gave; any other id routes nowhere.
  app.get("/memberships/:id", (c) => {
    const a = visible(c).find((x) => `m-${x.id}` === c.req.param("id"));
    if (!a)
      throw new CfApiError(
        404,
        CF_CODES.NO_ROUTE,
        `Could not route to ${new URL(c.req.url).pathname}, perhaps your object identifier is invalid?`,
      );
    return ok(c, membershipJson(a));
  });
  return { app, accountJson, TOKEN_ID };
}

export function accountRoutes(deps: { tunnels: TunnelStore; accountJson: (a: Account) => unknown }) {
  const { tunnels } = deps;
  const app = new Hono<EdgeEnv>();
  app.get("/", (c) => ok(c, deps.accountJson(c.var.account)));
  app.get("/tokens/verify", (c) => ok(c, { id: TOKEN_ID, status: "active" }));

  const tunnel = (acct: string, id: string) => {
    const t = tunnels.get(acct, id);
    if (!t) throw new CfApiError(404, CF_CODES.TUNNEL_NOT_FOUND, `Tunnel ${id} not found.`);
    return t;
  };
  const listTunnels = (c: Context<EdgeEnv>) => {
    let all = tunnels.list(c.var.account.id);
    const name = c.req.query("name");
    if (name) all = all.filter((t) => t.name === name);
    const isDeleted = c.req.query("is_deleted");
    if (isDeleted === "false") all = all.filter((t) => t.deleted_at === null);
    if (isDeleted === "true") all = all.filter((t) => t.deleted_at !== null);
    const { page, perPage, offset } = pageParams(c);
    const items = all.slice(offset, offset + perPage);
    return ok(c, items.map(tunnelJson), pageInfo(page, perPage, items.length, all.length));
  };
  app.get("/cfd_tunnel", listTunnels);
  app.get("/tunnels", listTunnels);
  app.post("/cfd_tunnel", async (c) => {
    const body = (await readJsonObject(c)) as { name?: unknown; config_src?: unknown; tunnel_secret?: unknown };
    if (typeof body.name !== "string" || body.name.trim() === "") throw badRequest("A tunnel needs a `name`.");
    if (tunnels.list(c.var.account.id).some((t) => t.name === body.name && t.deleted_at === null)) {
      throw new CfApiError(409, 1013, `A tunnel named "${body.name}" already exists.`);
    }
    const configSrc = body.config_src === "local" ? "local" : "cloudflare";
    let secret: string;
    if (typeof body.tunnel_secret === "string") {
      if (Buffer.from(body.tunnel_secret, "base64").length < 32) throw badRequest("tunnel_secret must be base64 of at least 32 bytes.");
      secret = body.tunnel_secret;
    } else secret = randomBytes(32).toString("base64");
    const t = {
      id: crypto.randomUUID(),
      account_id: c.var.account.id,
      name: body.name,
      secret,
      config_src: configSrc,
      created_at: new Date().toISOString(),
      deleted_at: null,
      config: null,
      config_version: 0,
    };
    tunnels.insert(t);
    return ok(c, tunnelJson(t));
  });
  app.get("/cfd_tunnel/:id", (c) => ok(c, tunnelJson(tunnel(c.var.account.id, c.req.param("id")))));
  app.patch("/cfd_tunnel/:id", async (c) => {
    const t = tunnel(c.var.account.id, c.req.param("id"));
    const body = (await readJsonObject(c)) as { name?: unknown };
    const next = { ...t, name: typeof body.name === "string" && body.name ? body.name : t.name };
    tunnels.update(next);
    return ok(c, tunnelJson(next));
  });
  app.delete("/cfd_tunnel/:id", (c) => {
    const t = tunnel(c.var.account.id, c.req.param("id"));
    const next = { ...t, deleted_at: t.deleted_at ?? new Date().toISOString() };
    tunnels.update(next);
    return ok(c, tunnelJson(next));
  });
  app.get("/cfd_tunnel/:id/configurations", (c) => {
    const t = tunnel(c.var.account.id, c.req.param("id"));
    return ok(c, {
      account_id: t.account_id,
      tunnel_id: t.id,
      config: t.config,
      version: t.config_version,
      source: "cloudflare",
      created_at: t.created_at,
    });
  });
  app.put("/cfd_tunnel/:id/configurations", async (c) => {
    const t = tunnel(c.var.account.id, c.req.param("id"));
    const body = (await readJsonObject(c)) as { config?: { ingress?: unknown } };
    const ingress = body.config?.ingress;
    if (!Array.isArray(ingress) || ingress.length === 0) throw badRequest("config.ingress must be a non-empty array of rules.");
    for (const [i, rule] of (ingress as Array<Record<string, unknown>>).entries()) {
      if (typeof rule?.service !== "string") throw badRequest(`config.ingress[${i}].service is required.`);
    }
    const last = ingress[ingress.length - 1] as Record<string, unknown>;
    if (last.hostname !== undefined || last.path !== undefined)
      throw badRequest('The last ingress rule must be a catch-all (no hostname, no path), e.g. {"service":"http_status:404"}.');
    const next = { ...t, config: body.config, config_version: t.config_version + 1 };
    tunnels.update(next);
    return ok(c, {
      account_id: t.account_id,
      tunnel_id: t.id,
      config: next.config,
      version: next.config_version,
      source: "cloudflare",
      created_at: new Date().toISOString(),
    });
  });
  app.get("/cfd_tunnel/:id/token", (c) => {
    const t = tunnel(c.var.account.id, c.req.param("id"));
    return ok(c, Buffer.from(JSON.stringify({ a: t.account_id, t: t.id, s: t.secret })).toString("base64"));
  });
  app.get("/cfd_tunnel/:id/connections", (c) => ok(c, (tunnel(c.var.account.id, c.req.param("id")), [])));
  app.delete("/cfd_tunnel/:id/connections", (c) => ok(c, (tunnel(c.var.account.id, c.req.param("id")), null)));
  return app;
}
