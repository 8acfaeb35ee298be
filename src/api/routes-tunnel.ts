// Cloudflare Tunnel: create the daemon's tunnel and its ingress, show and re-apply the ingress, and
// the tunnel's state (Cloudflare's view and the local cloudflared process). The connector token
// never leaves the daemon's host: it is written to a 0600 file and no answer carries it.
import * as z from "zod";
import { CboError } from "../kit/errors.ts";
import { nextSteps } from "../tunnel/next-steps.ts";
import type { TunnelManager, TunnelRecord } from "../tunnel/index.ts";
import { actorOf } from "../security/index.ts";
import type { RouteContext } from "./context.ts";
import { route, type RouteDef } from "./route.ts";

const Host = z.string().min(1).max(253).describe("A DNS name, e.g. orchestrator.example.com (no scheme, port or path)");
const Rule = z.object({ hostname: z.string().optional(), path: z.string().optional(), service: z.string() });
const ProcessStates = ["disabled", "not-installed", "no-tunnel", "starting", "running", "backoff", "stopped"] as const;

export const TunnelHealthSchema = z.object({
  configured: z.boolean(),
  process: z.enum(ProcessStates).describe("The supervised cloudflared (see GET /v1/tunnel/status)"),
  restarts: z.number().int(),
});

const ProcessSchema = z.object({
  state: z.enum(ProcessStates),
  binary: z.string().nullable(),
  pid: z.number().int().nullable(),
  startedAt: z.string().nullable(),
  restarts: z.number().int(),
  attempt: z.number().int().describe("Quick failures in a row; the next restart delay grows with it"),
  nextRestartMs: z.number().nullable(),
  exits: z.array(z.object({ code: z.number().int().nullable(), signal: z.string().nullable(), at: z.string(), ranMs: z.number(), restartInMs: z.number().nullable() })),
  install: z.string().nullable().describe("How to install cloudflared, when it is missing"),
});

const TunnelInfoSchema = z.object({
  id: z.string(), name: z.string(), target: z.string(), accountId: z.string(),
  hostname: z.string(), agentHostname: z.string().nullable(),
  publicUrl: z.string(), agentUrl: z.string().describe("CBO_ORCHESTRATOR_URL for Workers"),
  local: z.boolean(), configVersion: z.number().int().nullable(), appliedAt: z.string(),
});

export const TunnelStatusSchema = z.object({
  configured: z.boolean(),
  tunnel: TunnelInfoSchema.nullable(),
  remote: z.object({ status: z.string().nullable(), connections: z.number().int(), error: z.string().nullable() }).nullable(),
  process: ProcessSchema,
  files: z.object({ config: z.string(), token: z.string(), record: z.string() }).nullable(),
  note: z.string().nullable(),
});

export const TunnelConfigSchema = z.object({
  configured: z.literal(true),
  hostname: z.string(),
  agentHostname: z.string().nullable(),
  applied: z.array(Rule).describe("The ingress as last applied through the Cloudflare API (catch-all last)"),
  desired: z.array(Rule).describe("What applying now would send"),
  inSync: z.boolean(),
  configVersion: z.number().int().nullable(),
  appliedAt: z.string(),
});

export const TunnelCreatedSchema = TunnelStatusSchema.extend({
  adopted: z.boolean().describe("A tunnel of this name existed already (an interrupted create) and was taken over"),
  nextSteps: z.array(z.string()),
});

function manager(ctx: RouteContext): TunnelManager {
  const t = ctx.deps.tunnel;
  if (!t) throw new CboError("ERR_CONFLICT", "This daemon runs without a tunnel manager.", { hint: "Start the daemon with `cbo daemon` or `cbo up`." });
  return t;
}

export function tunnelRoutes(ctx: RouteContext): RouteDef[] {
  const { trail } = ctx.deps.security;
  const recorded = (action: string, actor: string, tenant: string, via: string) => (r: TunnelRecord) =>
    trail.record({
      actor, action, target: `tunnel:${r.name}`, tenant, outcome: "ok",
      details: { id: r.id, target: r.target, hostname: r.hostname, agentHostname: r.agentHostname, service: r.service, rules: r.ingress.length, configVersion: r.configVersion, via },
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
      body: z
        .object({
          target: z.string().max(63).optional().describe("The target whose account holds the tunnel (default: the first)"),
          name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/).optional().describe("Tunnel name (default clawdbot-orchestrator)"),
          hostname: Host.optional().describe("The daemon's public hostname (default on the local edge: <name>.tunnel.test)"),
          agentHostname: Host.optional().describe("A hostname for Workers that exposes only the relay and heartbeat endpoints"),
        })
        .strict(),
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
      body: z.object({ hostname: Host.optional(), agentHostname: Host.nullable().optional().describe("null removes the separate agent hostname") }).strict(),
      response: TunnelConfigSchema,
      errors: [404, 409, 503],
      audit: { action: "tunnel.config", target: () => "tunnel" },
      handle: ({ body, principal, tenant }) => manager(ctx).apply(body, recorded("tunnel.config", actorOf(principal!), tenant, "api")),
    }),
  ];
}

function noManager(): z.infer<typeof TunnelStatusSchema> {
  return {
    configured: false, tunnel: null, remote: null, files: null, note: "This daemon runs without a tunnel manager.",
    process: { state: "disabled", binary: null, pid: null, startedAt: null, restarts: 0, attempt: 0, nextRestartMs: null, exits: [], install: null },
  };
}
