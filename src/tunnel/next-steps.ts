// What the operator does after `cbo tunnel create` (pure): DNS for a Cloudflare tunnel, installing
// cloudflared when it is missing, and a release so that Workers pick up the tunnel URL.
import { publicUrlOf } from "./ingress.ts";
import type { ProcessState, TunnelRecord } from "./types.ts";

export function nextSteps(r: TunnelRecord, process: ProcessState): string[] {
  const steps: string[] = [];
  const hosts = [r.hostname, ...(r.agentHostname && r.agentHostname !== r.hostname ? [r.agentHostname] : [])];
  if (!r.local) {
    for (const h of hosts)
      steps.push(
        `Point DNS at the tunnel: a proxied CNAME ${h} -> ${r.id}.cfargotunnel.com (or: cloudflared tunnel route dns ${r.id} ${h}).`,
      );
    steps.push(
      r.agentHostname
        ? `Put ${publicUrlOf(r.hostname)} behind Cloudflare Access; leave ${publicUrlOf(r.agentHostname)} open: it answers only the Workers' signed relay and heartbeat requests.`
        : `Consider a separate --agent-hostname for Workers, so that ${publicUrlOf(r.hostname)} can sit behind Cloudflare Access.`,
    );
  }
  // The local edge routes tunnel hostnames itself; only a Cloudflare tunnel needs the connector.
  if (process === "not-installed" && !r.local)
    steps.push("Install cloudflared (`cbo tunnel status` says how); the daemon starts it by itself on its next start.");
  if (process === "disabled") steps.push("Run cloudflared where it is managed (CBO_CLOUDFLARED=off), with the token file written here.");
  steps.push(
    `Workers get ${publicUrlOf(r.agentHostname ?? r.hostname)} as CBO_ORCHESTRATOR_URL with their next release: cbo release <worker>.`,
  );
  return steps;
}
