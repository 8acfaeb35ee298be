// GET /accounts/:acct/workers/durable_objects/namespaces (CLOUDFLARE-API-FLEET §4.6): one
// namespace per (script, class) created by a migration, as the OpenAPI `workers_namespace` shape.
import { Hono } from "hono";
import { CF_CODES, CfApiError, ok, pageInfo, pageParams } from "./envelope.ts";
import type { WorkerStores } from "../state/worker-stores.ts";
import type { DoNamespace } from "../state/durable-objects.ts";
import type { EdgeEnv } from "./routes-workers.ts";

const namespaceJson = (n: DoNamespace) => ({
  id: n.id,
  name: `${n.script}_${n.class}`,
  script: n.script,
  class: n.class,
  use_sqlite: n.use_sqlite,
});

export function durableObjectRoutes(deps: { stores: WorkerStores }) {
  const { dos } = deps.stores;
  const app = new Hono<EdgeEnv>();
  app.get("/workers/durable_objects/namespaces", (c) => {
    const all = dos.list(c.var.account.id);
    const { page, perPage, offset } = pageParams(c, 20, 1000);
    const items = all.slice(offset, offset + perPage);
    return ok(c, items.map(namespaceJson), pageInfo(page, perPage, items.length, all.length));
  });
  app.get("/workers/durable_objects/namespaces/:id", (c) => {
    const n = dos.get(c.var.account.id, c.req.param("id"));
    if (!n) throw new CfApiError(404, CF_CODES.DO_NAMESPACE_NOT_FOUND, `Durable Object namespace ${c.req.param("id")} does not exist.`);
    return ok(c, namespaceJson(n));
  });
  return app;
}
