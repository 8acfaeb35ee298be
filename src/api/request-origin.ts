// Where a request comes from, asked of the node:http request itself (REST and WebSocket upgrades
// alike): which client address it counts as (client-address.ts) and whether its Host is one the
// daemon goes by (host-allowlist.ts). A refused Host is recorded as host.denied through the
// trail's grouped denials, and answered 421 ERR_HOST_NOT_ALLOWED. In-process requests
// (app.request: no socket, no browser) have no address and are not checked.
import type { IncomingMessage } from "node:http";
import { CboError } from "../kit/errors.ts";
import type { AuditTrail } from "../security/index.ts";
import { CF_CONNECTING_IP, clientAddress, limitKeyOf } from "./client-address.ts";
import { createHostPolicy } from "./host-allowlist.ts";

export type RequestOrigin = ReturnType<typeof createRequestOrigin>;

export function createRequestOrigin(o: {
  /** The tunnel's hostnames now (empty without a tunnel); asked on every request. */
  tunnelHosts: () => readonly string[];
  extraHosts: readonly string[];
  trail: AuditTrail;
  tenant: () => string;
}) {
  const hosts = createHostPolicy({ tunnelHosts: o.tunnelHosts, extraHosts: o.extraHosts });

  /** The client's address: the tunnel's CF-Connecting-IP when it comes from the tunnel's connection, else the peer. */
  function clientOf(req: IncomingMessage | undefined): string | undefined {
    if (!req) return undefined;
    const cf = req.headers[CF_CONNECTING_IP];
    return clientAddress(req.socket?.remoteAddress, typeof cf === "string" ? cf : undefined, o.tunnelHosts().length > 0);
  }

  return {
    clientOf,
    /** ERR_HOST_NOT_ALLOWED (recorded as host.denied) unless `req`'s Host is one the daemon goes by. */
    checkHost(req: IncomingMessage | undefined, route: string): void {
      if (!req || hosts.allows(req.headers.host)) return;
      const client = clientOf(req) ?? "in-process";
      o.trail.denied(
        {
          actor: `client:${client}`,
          action: "host.denied",
          target: route,
          tenant: o.tenant(),
          outcome: "denied",
          details: { reason: "host not allowed", host: String(req.headers.host ?? "").slice(0, 200), client },
        },
        `client:${limitKeyOf(client)}`,
      );
      throw new CboError("ERR_HOST_NOT_ALLOWED", "This daemon does not answer for that Host.", {
        hint: "Use http://127.0.0.1:<port> or the tunnel's hostname; add other names the daemon is reached by to CBO_ALLOWED_HOSTS.",
      });
    },
  };
}
