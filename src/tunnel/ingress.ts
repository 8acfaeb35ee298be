// The tunnel's ingress, planned from the record alone (pure). cloudflared matches rules in order and
// wants the last one to be a catch-all without hostname or path; ours answers 404, so a hostname or
// path nobody configured never reaches the daemon.
//
// With a separate agent hostname, Workers' hostname exposes only the two endpoints they call (relay
// and heartbeats, both authenticated by the per-Worker key rather than an API token), so the
// operator's hostname can sit behind Cloudflare Access without locking the Workers out.
import { CboError } from "../kit/errors.ts";
import { HEARTBEAT_PATH, RELAY_PATH } from "../kit/protocol/index.ts";
import type { IngressRule } from "./types.ts";

export const CATCH_ALL: IngressRule = { service: "http_status:404" };

/** The paths Workers call on the orchestrator, as cloudflared path rules (Go regexps, anchored). */
export const AGENT_PATHS = [RELAY_PATH, HEARTBEAT_PATH];
const anchored = (path: string) => `^${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`;

export function buildIngress(o: { hostname: string; agentHostname: string | null; service: string }): IngressRule[] {
  const rules: IngressRule[] = [];
  if (o.agentHostname !== null && o.agentHostname !== o.hostname) {
    for (const path of AGENT_PATHS) rules.push({ hostname: o.agentHostname, path: anchored(path), service: o.service });
  }
  rules.push({ hostname: o.hostname, service: o.service });
  rules.push(CATCH_ALL);
  checkIngress(rules);
  return rules;
}

/** cloudflared's own rule, checked before anything is sent: exactly one catch-all, and it is last. */
export function checkIngress(rules: IngressRule[]): void {
  const last = rules.at(-1);
  if (!last || last.hostname !== undefined || last.path !== undefined) {
    throw new CboError("ERR_INTERNAL", "The tunnel's ingress must end with a catch-all rule (no hostname, no path).");
  }
  if (rules.slice(0, -1).some((r) => r.hostname === undefined && r.path === undefined)) {
    throw new CboError("ERR_INTERNAL", "Only the last ingress rule may be a catch-all: cloudflared would never reach the rules after it.");
  }
}

/**
 * The origin cloudflared forwards to: the daemon's URL, on loopback even when the daemon was told
 * to listen on every interface (cloudflared runs beside it).
 */
export function ingressService(daemonUrl: string): string {
  const u = new URL(daemonUrl);
  if (u.hostname === "0.0.0.0") u.hostname = "127.0.0.1";
  if (u.hostname === "[::]") u.hostname = "[::1]";
  return `${u.protocol}//${u.host}`;
}

export function sameIngress(a: IngressRule[], b: IngressRule[]): boolean {
  const key = (r: IngressRule) => JSON.stringify([r.hostname ?? null, r.path ?? null, r.service]);
  return a.length === b.length && a.every((r, i) => key(r) === key(b[i]!));
}

/** The URL Workers get as CBO_ORCHESTRATOR_URL, and the one operators use. */
export const publicUrlOf = (hostname: string) => `https://${hostname}`;
