// GET /v1/kit: the deployment kit (src/packaging) for this daemon's configuration, as a .tar.gz.
// Admin only: it describes the whole installation (targets, accounts, paths), though it holds no
// secret: it is built from the spec and the daemon's port and tunnel, never from the vault or the
// environment. Each download is on the audit record with the archive's hash.
import * as z from "zod";
import { KIT_CONTENT_TYPE, KitOverridesSchema } from "../contract/index.ts";
import type { KitOptions } from "../packaging/facts.ts";
import { actorOf } from "../security/index.ts";
import type { RouteContext } from "./context.ts";
import { route, type RouteDef } from "./route.ts";

/**
 * What the running daemon knows about itself: the port it listens on, its local edge's port (else
 * the kit's README and launchers named the default edge port beside this daemon's own port), and
 * its tunnel's hostname.
 */
function daemonFacts(ctx: RouteContext): KitOptions {
  const url = ctx.deps.daemonUrl?.();
  const port = url ? Number(new URL(url).port) : undefined;
  const edgePort = ctx.deps.edgeApiUrl ? Number(new URL(ctx.deps.edgeApiUrl).port) : undefined;
  const tunnel = ctx.deps.tunnel;
  return {
    ...(port ? { port } : {}),
    ...(edgePort ? { edgePort } : {}),
    ...(tunnel?.health().configured ? { tunnelHostname: tunnel.config().hostname } : {}),
  };
}

export function deploymentKitRoutes(ctx: RouteContext): RouteDef[] {
  return [
    route({
      id: "downloadKit",
      method: "get",
      path: "/v1/kit",
      summary:
        "The deployment kit (.tar.gz) for this configuration: Dockerfile, compose.yaml with cloudflared, PM2 ecosystem, systemd units, setup-vps.sh, .env.example, README and the product; no secret. Query parameters override the VPS paths and ports",
      role: "admin",
      query: KitOverridesSchema,
      response: z.string().describe("a gzipped tar archive"),
      contentType: KIT_CONTENT_TYPE,
      stream: true,
      async handle({ query, principal, tenant }) {
        // Loaded on first download: the kit's renderers and tar writer stay out of an idle daemon.
        const { buildKit } = await import("../packaging/index.ts");
        // The daemon's own port and tunnel first; what the request names wins.
        const defined = Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined));
        const kit = buildKit({
          spec: ctx.deps.spec(),
          options: { ...daemonFacts(ctx), ...defined },
          ...(ctx.deps.protectedPaths ? { protect: ctx.deps.protectedPaths } : {}),
        });
        ctx.deps.security.trail.note({
          actor: actorOf(principal!),
          action: "kit.download",
          target: "kit",
          tenant,
          outcome: "ok",
          details: {
            sha256: kit.sha256,
            bytes: kit.bytes.length,
            files: kit.files.length,
            port: kit.facts.port,
            dataDir: kit.facts.dataDir,
            tunnel: kit.facts.tunnel?.hostname ?? null,
          },
        });
        return new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(kit.bytes);
            controller.close();
          },
        });
      },
    }),
  ];
}
