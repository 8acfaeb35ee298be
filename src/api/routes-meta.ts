// Routes that need no token: liveness and the API's own description.
import type { RouteContext } from "./context.ts";
import { route, type RouteDef } from "./route.ts";
import { DaemonHealthSchema, OpenApiDocumentSchema, type DaemonHealth } from "../contract/index.ts";

export function metaRoutes(ctx: RouteContext): RouteDef[] {
  return [
    route({
      id: "health",
      method: "get",
      path: "/v1/health",
      summary:
        "Liveness of the daemon, its disk (full or not) and its tunnel's connector process (no paths, hostnames or ids: this route is public)",
      role: null,
      response: DaemonHealthSchema,
      handle: () => ({
        ok: true as const,
        storage: storageHealth(ctx),
        ...(ctx.deps.tunnel ? { tunnel: ctx.deps.tunnel.health() } : {}),
        // Only that there is one: the reason names a path, and this route is public.
        ...(ctx.deps.specRefusal?.() ? { specRefused: true } : {}),
      }),
    }),
    route({
      id: "openapi",
      method: "get",
      path: "/v1/openapi.json",
      summary: "This OpenAPI 3.1 document, generated from the API's zod schemas",
      role: null,
      response: OpenApiDocumentSchema,
      handle: () => ctx.openapi(),
    }),
  ];
}

function storageHealth(ctx: RouteContext): DaemonHealth["storage"] {
  const s = ctx.deps.store.storage.state();
  return s.full ? { full: true, since: s.since, neededBytes: s.neededBytes } : { full: false };
}
