// Cloudflare Tunnels (cfd_tunnel): create, list, ingress configuration and the connector token
// for `cloudflared tunnel run --token`. All SDK: plain JSON, and its list pages to the empty page.
import type Cloudflare from "cloudflare";
import { z } from "zod";
import type { ApiContext } from "./context.ts";
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

// The SDK types every ingress rule with a hostname, but the catch-all rule has none.
type SdkTunnelConfig = NonNullable<Parameters<Cloudflare["zeroTrust"]["tunnels"]["cloudflared"]["configurations"]["update"]>[1]["config"]>;

export function createTunnelsApi(ctx: ApiContext) {
  const account = () => ctx.accountId();
  const base = (account_id: string) => `/accounts/${account_id}/cfd_tunnel`;

  return {
    /** Remotely managed (`config_src: "cloudflare"`) unless a `tunnelSecret` (base64, ≥32 bytes) is given. */
    async createTunnel(name: string, opts: { tunnelSecret?: string } = {}): Promise<Tunnel> {
      const account_id = await account();
      return ctx.viaSdk({ method: "POST", path: base(account_id) }, TunnelSchema, (s) =>
        s.zeroTrust.tunnels.cloudflared.create({
          account_id,
          name,
          ...(opts.tunnelSecret === undefined
            ? { config_src: "cloudflare" as const }
            : { config_src: "local" as const, tunnel_secret: opts.tunnelSecret }),
        }),
      );
    },

    /** Not deleted ones unless `includeDeleted`; `name` filters exactly. */
    async listTunnels(opts: { name?: string; includeDeleted?: boolean } = {}): Promise<Tunnel[]> {
      const account_id = await account();
      return ctx.viaSdkPages({ method: "GET", path: base(account_id) }, TunnelSchema, (s) =>
        s.zeroTrust.tunnels.cloudflared.list({
          account_id,
          ...(opts.name === undefined ? {} : { name: opts.name }),
          ...(opts.includeDeleted ? {} : { is_deleted: false }),
        }),
      );
    },

    async deleteTunnel(tunnelId: string): Promise<void> {
      const account_id = await account();
      await ctx.viaSdk({ method: "DELETE", path: `${base(account_id)}/${tunnelId}` }, z.unknown(), (s) =>
        s.zeroTrust.tunnels.cloudflared.delete(tunnelId, { account_id }),
      );
    },

    /** Replace the ingress configuration of a remotely managed tunnel. */
    async putTunnelConfig(tunnelId: string, config: TunnelConfigInput): Promise<TunnelConfig> {
      const account_id = await account();
      return ctx.viaSdk({ method: "PUT", path: `${base(account_id)}/${tunnelId}/configurations` }, TunnelConfigSchema, (s) =>
        s.zeroTrust.tunnels.cloudflared.configurations.update(tunnelId, { account_id, config: config as SdkTunnelConfig }),
      );
    },

    /** The connector token (a string) for `cloudflared tunnel run --token`. */
    async getTunnelToken(tunnelId: string): Promise<string> {
      const account_id = await account();
      return ctx.viaSdk({ method: "GET", path: `${base(account_id)}/${tunnelId}/token` }, z.string(), (s) =>
        s.zeroTrust.tunnels.cloudflared.token.get(tunnelId, { account_id }),
      );
    },
  };
}
