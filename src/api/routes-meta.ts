// Routes that need no token: liveness and the API's own description.
import type { RouteContext } from "./context.ts";
import { route, type RouteDef } from "./route.ts";
import { OkSchema, OpenApiDocumentSchema } from "./schemas.ts";
import { TunnelHealthSchema } from "./routes-tunnel.ts";

export function metaRoutes(ctx: RouteContext): RouteDef[] {
  return [
    route({
      id: "health",
      method: "get",
      path: "/v1/health",
      summary: "Liveness of the daemon, and its tunnel's connector process (no hostnames or ids: this route is public)",
      role: null,
      response: OkSchema.extend({ tunnel: TunnelHealthSchema.optional() }),
      handle: () => ({ ok: true as const, ...(ctx.deps.tunnel ? { tunnel: ctx.deps.tunnel.health() } : {}) }),
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
