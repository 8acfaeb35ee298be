// The daemon's Cloudflare Tunnel on the wire: its state (Cloudflare's view and the supervised
// cloudflared), its ingress as applied and as it would be sent now, and the create/apply requests.
// The connector token is never in any of them.
import * as z from "zod";

const Host = z.string().min(1).max(253).describe("A DNS name, e.g. orchestrator.example.com (no scheme, port or path)");
const Rule = z.object({ hostname: z.string().optional(), path: z.string().optional(), service: z.string() });
export const TUNNEL_PROCESS_STATES = ["disabled", "not-installed", "no-tunnel", "starting", "running", "backoff", "stopped"] as const;

export const TunnelHealthSchema = z.object({
  configured: z.boolean(),
  process: z.enum(TUNNEL_PROCESS_STATES).describe("The supervised cloudflared (see GET /v1/tunnel/status)"),
  restarts: z.number().int(),
});

const ProcessSchema = z.object({
  state: z.enum(TUNNEL_PROCESS_STATES),
  binary: z.string().nullable(),
  pid: z.number().int().nullable(),
  startedAt: z.string().nullable(),
  restarts: z.number().int(),
  attempt: z.number().int().describe("Quick failures in a row; the next restart delay grows with it"),
  nextRestartMs: z.number().nullable(),
  exits: z.array(
    z.object({
      code: z.number().int().nullable(),
      signal: z.string().nullable(),
      at: z.string(),
      ranMs: z.number(),
      restartInMs: z.number().nullable(),
    }),
  ),
  install: z.string().nullable().describe("How to install cloudflared, when it is missing"),
});

const TunnelInfoSchema = z.object({
  id: z.string(),
  name: z.string(),
  target: z.string(),
  accountId: z.string(),
  hostname: z.string(),
  agentHostname: z.string().nullable(),
  publicUrl: z.string(),
  agentUrl: z.string().describe("CBO_ORCHESTRATOR_URL for Workers"),
  local: z.boolean(),
  configVersion: z.number().int().nullable(),
  appliedAt: z.string(),
});

export const TunnelStatusSchema = z.object({
  configured: z.boolean(),
  tunnel: TunnelInfoSchema.nullable(),
  remote: z.object({ status: z.string().nullable(), connections: z.number().int(), error: z.string().nullable() }).nullable(),
  process: ProcessSchema,
  files: z.object({ config: z.string(), token: z.string(), record: z.string() }).nullable(),
  note: z.string().nullable(),
});
export type TunnelStatus = z.output<typeof TunnelStatusSchema>;

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
export type TunnelConfig = z.output<typeof TunnelConfigSchema>;

export const TunnelCreatedSchema = TunnelStatusSchema.extend({
  adopted: z.boolean().describe("A tunnel of this name existed already (an interrupted create) and was taken over"),
  nextSteps: z.array(z.string()),
});
export type TunnelCreated = z.output<typeof TunnelCreatedSchema>;

export const CreateTunnelBodySchema = z
  .object({
    target: z.string().max(63).optional().describe("The target whose account holds the tunnel (default: the first)"),
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,62}$/)
      .optional()
      .describe("Tunnel name (default clawdbot-orchestrator)"),
    hostname: Host.optional().describe("The daemon's public hostname (default on the local edge: <name>.tunnel.test)"),
    agentHostname: Host.optional().describe("A hostname for Workers that exposes only the relay and heartbeat endpoints"),
  })
  .strict();
export type CreateTunnelBody = z.input<typeof CreateTunnelBodySchema>;

export const ApplyTunnelConfigBodySchema = z
  .object({ hostname: Host.optional(), agentHostname: Host.nullable().optional().describe("null removes the separate agent hostname") })
  .strict();
export type ApplyTunnelConfigBody = z.input<typeof ApplyTunnelConfigBodySchema>;
