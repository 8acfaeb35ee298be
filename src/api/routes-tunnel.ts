// Cloudflare Tunnel: create the daemon's tunnel and its ingress, show and re-apply the ingress, and
// the tunnel's state (Cloudflare's view and the local cloudflared process). The connector token
// never leaves the daemon's host: it is written to a 0600 file and no answer carries it.
import {
  ApplyTunnelConfigBodySchema,
  CreateTunnelBodySchema,
  TunnelConfigSchema,
  TunnelCreatedSchema,
  TunnelStatusSchema,
  type TunnelStatus,
} from "../contract/index.ts";
import { CboError } from "../kit/errors.ts";
import { nextSteps } from "../tunnel/next-steps.ts";
import type { TunnelManager, TunnelRecord } from "../tunnel/index.ts";
import { actorOf } from "../security/index.ts";
import type { RouteContext } from "./context.ts";
import { route, type RouteDef } from "./route.ts";

function manager(ctx: RouteContext): TunnelManager {
  const t = ctx.deps.tunnel;
  if (!t)
    throw new CboError("ERR_CONFLICT", "This daemon runs without a tunnel manager.", {
      hint: "Start the daemon with `cbo daemon` or `cbo up`.",
    });
  return t;
}

export function tunnelRoutes(ctx: RouteContext): RouteDef[] {
  const { trail } = ctx.deps.security;
  const recorded = (action: string, actor: string, tenant: string, via: string) => (r: TunnelRecord) =>
    trail.record({
      actor,
      action,
      target: `tunnel:${r.name}`,
      tenant,
      outcome: "ok",
      details: {
        id: r.id,
        target: r.target,
        hostname: r.hostname,
        agentHostname: r.agentHostname,
        service: r.service,
        rules: r.ingress.length,
        configVersion: r.configVersion,
        via,
      },
    });
  return [
    route({
      id: "tunnelStatus",
      method: "get",
      path: "/v1/tunnel/status",
      summary: "The tunnel: Cloudflare's view (status, connections) and the supervised cloudflared process",
      role: "viewer",
      response: TunnelStatusSchema,
      handle: () => (ctx.deps.tunnel ? ctx.deps.tunnel.status() : noManager()),
    }),
    route({
      id: "createTunnel",
      method: "post",
      path: "/v1/tunnel",
      summary: "Create the daemon's tunnel and its ingress (catch-all last), write cloudflared's config and token file (0600)",
      role: "admin",
      body: CreateTunnelBodySchema,
      response: TunnelCreatedSchema,
      errors: [404, 409, 503],
      audit: { action: "tunnel.create", target: () => "tunnel" },
      async handle({ body, principal, tenant }) {
        const m = manager(ctx);
        const { adopted, record } = await m.create(body, recorded("tunnel.create", actorOf(principal!), tenant, "api"));
        const status = await m.status();
        return { ...status, adopted, nextSteps: nextSteps(record, status.process.state) };
      },
    }),
    route({
      id: "tunnelConfig",
      method: "get",
      path: "/v1/tunnel/config",
      summary: "The tunnel's ingress as applied, and as applying it now would send it",
      role: "viewer",
      response: TunnelConfigSchema,
      errors: [404, 409],
      handle: () => manager(ctx).config(),
    }),
    route({
      id: "applyTunnelConfig",
      method: "put",
      path: "/v1/tunnel/config",
      summary: "Re-apply the tunnel's ingress (idempotent), optionally with new hostnames; rewrites cloudflared's files",
      role: "admin",
      body: ApplyTunnelConfigBodySchema,
      response: TunnelConfigSchema,
      errors: [404, 409, 503],
      audit: { action: "tunnel.config", target: () => "tunnel" },
      handle: ({ body, principal, tenant }) => manager(ctx).apply(body, recorded("tunnel.config", actorOf(principal!), tenant, "api")),
    }),
  ];
}

function noManager(): TunnelStatus {
  return {
    configured: false,
    tunnel: null,
    remote: null,
    files: null,
    note: "This daemon runs without a tunnel manager.",
    process: {
      state: "disabled",
      binary: null,
      pid: null,
      startedAt: null,
      restarts: 0,
      attempt: 0,
      nextRestartMs: null,
      exits: [],
      install: null,
    },
  };
}
