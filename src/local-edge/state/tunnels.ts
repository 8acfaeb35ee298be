// Cloudflare Tunnel (cfd_tunnel) records and their remotely-managed ingress configuration.
import type { EdgeDb } from "./db.ts";
import type { Tunnel } from "./model.ts";

type Row = Record<string, unknown>;

function toTunnel(r: Row): Tunnel {
  return {
    id: r.id as string,
    account_id: r.account_id as string,
    name: r.name as string,
    secret: r.secret as string,
    config_src: r.config_src as string,
    created_at: r.created_at as string,
    deleted_at: (r.deleted_at as string | null) ?? null,
    config: r.config == null ? null : JSON.parse(r.config as string),
    config_version: Number(r.config_version),
  };
}

export function createTunnelStore(db: EdgeDb) {
  return {
    get(accountId: string, id: string): Tunnel | undefined {
      const r = db.prepare("SELECT * FROM tunnels WHERE account_id = ? AND id = ?").get(accountId, id) as Row | undefined;
      return r && toTunnel(r);
    },
    list(accountId: string): Tunnel[] {
      return (db.prepare("SELECT * FROM tunnels WHERE account_id = ? ORDER BY created_at, id").all(accountId) as Row[]).map(toTunnel);
    },
    insert(t: Tunnel): void {
      db.prepare(
        "INSERT INTO tunnels (id, account_id, name, secret, config_src, created_at, deleted_at, config, config_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      ).run(
        t.id,
        t.account_id,
        t.name,
        t.secret,
        t.config_src,
        t.created_at,
        t.deleted_at,
        t.config == null ? null : JSON.stringify(t.config),
        t.config_version,
      );
    },
    update(t: Tunnel): void {
      db.prepare("UPDATE tunnels SET name = ?, deleted_at = ?, config = ?, config_version = ?, config_src = ? WHERE id = ?").run(
        t.name,
        t.deleted_at,
        t.config == null ? null : JSON.stringify(t.config),
        t.config_version,
        t.config_src,
        t.id,
      );
    },
  };
}
export type TunnelStore = ReturnType<typeof createTunnelStore>;
