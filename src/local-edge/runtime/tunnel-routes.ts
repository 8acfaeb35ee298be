// The Node side of tunnel routing: every live tunnel's ingress, read from the edge's state on each
// lookup (a PUT .../configurations applies to the next request, no push needed), in creation order.
import { routeTunnel, type IngressRule, type TunnelIngress, type TunnelRoute } from "../workers/tunnel-ingress.ts";

type StoredTunnel = { id: string; created_at: string; deleted_at: string | null; config: unknown };

function rulesOf(config: unknown): IngressRule[] | undefined {
  const ingress = (config as { ingress?: unknown } | null)?.ingress;
  if (!Array.isArray(ingress)) return undefined;
  return ingress
    .filter(
      (r): r is Record<string, unknown> => typeof r === "object" && r !== null && typeof (r as { service?: unknown }).service === "string",
    )
    .map((r) => ({
      service: r.service as string,
      ...(typeof r.hostname === "string" ? { hostname: r.hostname } : {}),
      ...(typeof r.path === "string" ? { path: r.path } : {}),
    }));
}

export function createTunnelRoutes(list: () => StoredTunnel[]): (host: string, path: string) => TunnelRoute | undefined {
  return (host, path) => {
    const live: TunnelIngress[] = list()
      .filter((t) => t.deleted_at === null)
      .sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id))
      .flatMap((t) => {
        const rules = rulesOf(t.config);
        return rules ? [{ tunnelId: t.id, rules }] : [];
      });
    return routeTunnel(live, host, path);
  };
}
