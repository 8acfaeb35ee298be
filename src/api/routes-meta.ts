// Routes that need no token: liveness and the API's own description.
import type { RouteContext } from "./context.ts";
import { route, type RouteDef } from "./route.ts";
import { OkSchema, OpenApiDocumentSchema } from "./schemas.ts";

export function metaRoutes(ctx: RouteContext): RouteDef[] {
  return [
    route({
      id: "health",
      method: "get",
      path: "/v1/health",
      summary: "Liveness of the daemon",
      role: null,
      response: OkSchema,
      handle: () => ({ ok: true as const }),
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
