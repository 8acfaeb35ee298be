// Cloudflare Tunnel routing as the local edge plays it (pure, runtime-neutral: the router Worker and
// Node both load it). At Cloudflare, DNS sends a hostname to a tunnel and cloudflared then matches
// the tunnel's ingress rules in order. The local edge has no DNS and no connector: a hostname
// belongs to the (oldest) tunnel with a rule naming it, and the edge forwards to the matching
// rule's service itself, as a running cloudflared would.

export type IngressRule = { hostname?: string; path?: string; service: string };
export type TunnelIngress = { tunnelId: string; rules: IngressRule[] };
export type TunnelRoute = { tunnelId: string; service: string };

/** cloudflared's rule: exact, or `*.example.com` for any name ending in `.example.com`. */
export function hostMatches(ruleHost: string | undefined, host: string): boolean {
  if (ruleHost === undefined || ruleHost === "" || ruleHost === "*") return true;
  const rule = ruleHost.toLowerCase();
  if (rule === host) return true;
  return rule.startsWith("*.") && host.endsWith(rule.slice(1));
}

function pathMatches(pattern: string | undefined, path: string): boolean {
  if (pattern === undefined || pattern === "") return true;
  try {
    // cloudflared uses Go's regexp, unanchored; the simple patterns ingress rules use mean the same in JS.
    return new RegExp(pattern).test(path);
  } catch {
    return false;
  }
}

const named = (r: IngressRule) => r.hostname !== undefined && r.hostname !== "" && r.hostname !== "*";

/** The service for host + path, or undefined when no tunnel claims the host. */
export function routeTunnel(tunnels: TunnelIngress[], rawHost: string, path: string): TunnelRoute | undefined {
  const host = rawHost.toLowerCase().replace(/:\d+$/, "");
  const owner = tunnels.find((t) => t.rules.some((r) => named(r) && hostMatches(r.hostname, host)));
  if (!owner) return undefined;
  const rule = owner.rules.find((r) => hostMatches(r.hostname, host) && pathMatches(r.path, path));
  // cloudflared refuses an ingress without a catch-all, so there always is one; 404 like it if not.
  return { tunnelId: owner.tunnelId, service: rule?.service ?? "http_status:404" };
}

/**
 * Whether a request's host could be a tunnel hostname at all: IP literals and localhost never are,
 * so requests to them (the orchestrator on 127.0.0.1, Workers on *.localhost) skip the lookup.
 */
export function mayBeTunnelHost(rawHost: string): boolean {
  const host = rawHost.toLowerCase().replace(/:\d+$/, "");
  if (host === "" || host === "localhost" || host.endsWith(".localhost")) return false;
  if (host.startsWith("[")) return false; // IPv6 literal
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(host)) return false;
  return host.includes(".");
}
