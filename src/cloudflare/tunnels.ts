// Cloudflare Tunnels (cfd_tunnel): create, list, ingress configuration and the connector token
// for `cloudflared tunnel run --token`. Plain JSON; the list pages to the empty page.
import * as z from "zod";
import { type ApiContext, seg } from "./context.ts";
import { TunnelConfigSchema, type TunnelConfig, TunnelSchema, type Tunnel } from "./schemas.ts";

/** An ingress rule; cloudflared wants the last one to be a catch-all without hostname. */
export type IngressRule = {
  hostname?: string;
  path?: string;
  service: string;
  originRequest?: Record<string, unknown>;
};

export type TunnelConfigInput = {
  ingress: IngressRule[];
  originRequest?: Record<string, unknown>;
};

export function createTunnelsApi(ctx: ApiContext) {
  const base = async () => `/accounts/${seg(await ctx.accountId())}/cfd_tunnel`;

  return {
    /** Remotely managed (`config_src: "cloudflare"`) unless a `tunnelSecret` (base64, ≥32 bytes) is given. */
    async createTunnel(name: string, opts: { tunnelSecret?: string } = {}): Promise<Tunnel> {
      const body =
        opts.tunnelSecret === undefined
          ? { name, config_src: "cloudflare" }
          : { name, config_src: "local", tunnel_secret: opts.tunnelSecret };
      return ctx.json("POST", await base(), TunnelSchema, { endpoint: "tunnels.create", body });
    },

    /** Not deleted ones unless `includeDeleted`; `name` filters exactly. */
    async listTunnels(opts: { name?: string; includeDeleted?: boolean } = {}): Promise<Tunnel[]> {
      return ctx.list(await base(), TunnelSchema, {
        paging: "pages",
        endpoint: "tunnels.list",
        query: { name: opts.name, is_deleted: opts.includeDeleted ? undefined : false },
      });
    },

    async deleteTunnel(tunnelId: string): Promise<void> {
      await ctx.json("DELETE", `${await base()}/${seg(tunnelId)}`, z.unknown(), { endpoint: "tunnels.delete" });
    },

    /** Replace the ingress configuration of a remotely managed tunnel. */
    async putTunnelConfig(tunnelId: string, config: TunnelConfigInput): Promise<TunnelConfig> {
      return ctx.json("PUT", `${await base()}/${seg(tunnelId)}/configurations`, TunnelConfigSchema, {
        endpoint: "tunnels.configurations.put",
        body: { config },
      });
    },

    /** The connector token (a string) for `cloudflared tunnel run --token`. */
    async getTunnelToken(tunnelId: string): Promise<string> {
      return ctx.json("GET", `${await base()}/${seg(tunnelId)}/token`, z.string(), { endpoint: "tunnels.token.get" });
    },
  };
}
