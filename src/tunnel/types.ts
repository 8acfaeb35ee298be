// The tunnel's record (what `cbo tunnel create` leaves in <data>/tunnel/tunnel.json) and the
// shapes the manager reports. The record holds no secret: the connector token is a file of its own.
import * as z from "zod";
import type { CloudflareClient } from "../cloudflare/index.ts";

/** A DNS name cloudflared can route: lowercase labels, at least two of them, no port, no wildcard. */
export const HostnameSchema = z
  .string()
  .max(253)
  .transform((s) => s.toLowerCase())
  .refine((s) => /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/.test(s), {
    message: "a DNS name such as orchestrator.example.com (letters, digits, dashes and dots; no scheme, port or path)",
  });

export const IngressRuleSchema = z
  .object({
    hostname: z.string().optional(),
    path: z.string().optional(),
    service: z.string(),
  })
  .strict();
export type IngressRule = z.infer<typeof IngressRuleSchema>;

export const TunnelRecordSchema = z
  .object({
    version: z.literal(1),
    id: z.string().min(1),
    name: z.string().min(1),
    /** The target (region/account) whose Cloudflare account holds the tunnel. */
    target: z.string(),
    accountId: z.string(),
    /** The target is the embedded local edge (it routes tunnel hostnames itself, no connector). */
    local: z.boolean(),
    /** Public hostname of the daemon: the whole API (operators, CLI, dashboard). */
    hostname: z.string(),
    /** Hostname Workers use, exposing only the relay and heartbeat endpoints; null: `hostname`. */
    agentHostname: z.string().nullable(),
    /** The origin every rule points at: the daemon's loopback URL. */
    service: z.string(),
    ingress: z.array(IngressRuleSchema),
    /** The configuration version Cloudflare answered with when the ingress was last applied. */
    configVersion: z.number().int().nullable(),
    createdAt: z.string(),
    appliedAt: z.string(),
  })
  .strict();
export type TunnelRecord = z.infer<typeof TunnelRecordSchema>;

/** What the manager needs of one target: its account and a client bound to it (daemon.ts maps TargetRuntime). */
export type TunnelAccount = { target: string; accountId: string; client: CloudflareClient; local: boolean };

/**
 * The supervised cloudflared. States:
 *   disabled       supervision switched off (CBO_CLOUDFLARED=off: cloudflared runs elsewhere)
 *   not-installed  no cloudflared binary found; `install` says how to get one
 *   no-tunnel      a binary, but no tunnel created yet
 *   starting       spawned, not yet confirmed running
 *   running        the process is up (pid)
 *   backoff        it exited; restarting after `nextRestartMs`
 *   stopped        the daemon is shutting down
 */
export const PROCESS_STATES = ["disabled", "not-installed", "no-tunnel", "starting", "running", "backoff", "stopped"] as const;
export type ProcessState = (typeof PROCESS_STATES)[number];

export type ExitInfo = { code: number | null; signal: string | null; at: string; ranMs: number; restartInMs: number | null };

export type ProcessStatus = {
  state: ProcessState;
  binary: string | null;
  pid: number | null;
  startedAt: string | null;
  /** Restarts since the daemon started (each exit that was followed by a new start). */
  restarts: number;
  /** Consecutive quick failures; the next delay grows with it and resets after a stable run. */
  attempt: number;
  nextRestartMs: number | null;
  /** The newest exits first (at most 10). */
  exits: ExitInfo[];
  /** How to install cloudflared, when it is missing. */
  install: string | null;
};

export type RemoteStatus = {
  /** Cloudflare's view: inactive | degraded | healthy | down; null when it could not be read. */
  status: string | null;
  connections: number;
  error: string | null;
};

export type TunnelStatus = {
  configured: boolean;
  tunnel: {
    id: string;
    name: string;
    target: string;
    accountId: string;
    hostname: string;
    agentHostname: string | null;
    publicUrl: string;
    agentUrl: string;
    local: boolean;
    configVersion: number | null;
    appliedAt: string;
  } | null;
  remote: RemoteStatus | null;
  process: ProcessStatus;
  files: { config: string; token: string; record: string } | null;
  note: string | null;
};

/** The small summary GET /v1/health carries (public: no hostnames, ids or paths). */
export type TunnelHealth = { configured: boolean; process: ProcessState; restarts: number };
