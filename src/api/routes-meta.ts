// Routes that need no token: liveness and the API's own description.
import type { RouteContext } from "./context.ts";
import { z } from "zod";
import { route, type RouteDef } from "./route.ts";
import { OkSchema, OpenApiDocumentSchema } from "./schemas.ts";
import { TunnelHealthSchema } from "./routes-tunnel.ts";

/** Whether the disk under the data is full (store/storage.ts); no path, this route is public. */
const StorageHealthSchema = z.object({
  full: z.boolean().describe("True while writes fail for lack of room: background work is paused, writes answer 507 ERR_DISK_FULL"),
  since: z.string().optional(),
  neededBytes: z.number().int().optional().describe("Free space at which writing resumes by itself"),
});

export function metaRoutes(ctx: RouteContext): RouteDef[] {
  return [
    route({
      id: "health",
      method: "get",
      path: "/v1/health",
      summary: "Liveness of the daemon, its disk (full or not) and its tunnel's connector process (no paths, hostnames or ids: this route is public)",
      role: null,
      response: OkSchema.extend({ storage: StorageHealthSchema, tunnel: TunnelHealthSchema.optional() }),
      handle: () => ({ ok: true as const, storage: storageHealth(ctx), ...(ctx.deps.tunnel ? { tunnel: ctx.deps.tunnel.health() } : {}) }),
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

function storageHealth(ctx: RouteContext): z.infer<typeof StorageHealthSchema> {
  const s = ctx.deps.store.storage.state();
  return s.full ? { full: true, since: s.since, neededBytes: s.neededBytes } : { full: false };
}
