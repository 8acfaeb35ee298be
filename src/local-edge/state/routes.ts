// Zones, Workers routes (zone-scoped patterns) and custom domains (whole hostnames). Zones are
// implicit at the local edge: any registrable-looking name (two labels, e.g. example.com) is a zone
// of the account, created on first reference with a stable id.
import { createHash } from "node:crypto";
import type { EdgeDb } from "./db.ts";

export type Zone = { id: string; account_id: string; name: string };
export type WorkerRoute = { id: string; account_id: string; zone_id: string; pattern: string; script: string | null };
export type WorkerDomain = {
  id: string;
  account_id: string;
  zone_id: string;
  zone_name: string;
  hostname: string;
  service: string;
  environment: string;
  enabled: boolean;
  previews_enabled: boolean;
  created_on: string;
};

type Row = Record<string, unknown>;
const toDomain = (r: Row): WorkerDomain => ({
  id: r.id as string,
  account_id: r.account_id as string,
  zone_id: r.zone_id as string,
  zone_name: r.zone_name as string,
  hostname: r.hostname as string,
  service: r.service as string,
  environment: r.environment as string,
  enabled: r.enabled === 1,
  previews_enabled: r.previews_enabled === 1,
  created_on: r.created_on as string,
});

/** The zone a hostname belongs to: its last two labels (the local edge has no public suffix list). */
export function zoneNameOf(hostname: string): string | undefined {
  const labels = hostname.toLowerCase().replace(/\.$/, "").split(".");
  if (labels.length < 2 || labels.some((l) => !/^[a-z0-9*]([a-z0-9-]*[a-z0-9])?$/.test(l))) return undefined;
  const zone = labels.slice(-2).join(".");
  if (zone.includes("*") || zone === "workers.dev" || zone.endsWith(".localhost")) return undefined;
  return zone;
}

export function createRouteStore(db: EdgeDb) {
  const zoneId = (accountId: string, name: string) => createHash("sha256").update(`zone:${accountId}:${name}`).digest("hex").slice(0, 32);
  return {
    /** The account's zone called `name`, created on first use; undefined when `name` cannot be a zone. */
    zone(accountId: string, name: string): Zone | undefined {
      const n = name.toLowerCase();
      if (zoneNameOf(n) !== n) return undefined;
      const id = zoneId(accountId, n);
      db.prepare("INSERT OR IGNORE INTO zones (id, account_id, name) VALUES (?, ?, ?)").run(id, accountId, n);
      return { id, account_id: accountId, name: n };
    },
    zoneById(id: string): Zone | undefined {
      return db.prepare("SELECT * FROM zones WHERE id = ?").get(id) as Zone | undefined;
    },
    routesOfZone(zoneId: string): WorkerRoute[] {
      return db.prepare("SELECT * FROM worker_routes WHERE zone_id = ? ORDER BY pattern").all(zoneId) as WorkerRoute[];
    },
    routesOfScript(accountId: string, script: string): WorkerRoute[] {
      return db
        .prepare("SELECT * FROM worker_routes WHERE account_id = ? AND script = ? ORDER BY pattern")
        .all(accountId, script) as WorkerRoute[];
    },
    routesOfAccount(accountId: string): WorkerRoute[] {
      return db
        .prepare("SELECT * FROM worker_routes WHERE account_id = ? AND script IS NOT NULL ORDER BY pattern")
        .all(accountId) as WorkerRoute[];
    },
    route(id: string): WorkerRoute | undefined {
      return db.prepare("SELECT * FROM worker_routes WHERE id = ?").get(id) as WorkerRoute | undefined;
    },
    routeByPattern(zoneId: string, pattern: string): WorkerRoute | undefined {
      return db.prepare("SELECT * FROM worker_routes WHERE zone_id = ? AND pattern = ?").get(zoneId, pattern) as WorkerRoute | undefined;
    },
    insertRoute(r: WorkerRoute): void {
      db.prepare("INSERT INTO worker_routes (id, account_id, zone_id, pattern, script) VALUES (?, ?, ?, ?, ?)").run(
        r.id,
        r.account_id,
        r.zone_id,
        r.pattern,
        r.script,
      );
    },
    updateRoute(r: WorkerRoute): void {
      db.prepare("UPDATE worker_routes SET pattern = ?, script = ? WHERE id = ?").run(r.pattern, r.script, r.id);
    },
    deleteRoute(id: string): void {
      db.prepare("DELETE FROM worker_routes WHERE id = ?").run(id);
    },
    deleteRoutesOfScript(accountId: string, script: string): void {
      db.prepare("DELETE FROM worker_routes WHERE account_id = ? AND script = ?").run(accountId, script);
    },

    domains(accountId: string): WorkerDomain[] {
      return (db.prepare("SELECT * FROM worker_domains WHERE account_id = ? ORDER BY hostname").all(accountId) as Row[]).map(toDomain);
    },
    domain(accountId: string, id: string): WorkerDomain | undefined {
      const r = db.prepare("SELECT * FROM worker_domains WHERE account_id = ? AND id = ?").get(accountId, id) as Row | undefined;
      return r && toDomain(r);
    },
    domainByHostname(accountId: string, hostname: string): WorkerDomain | undefined {
      const r = db.prepare("SELECT * FROM worker_domains WHERE account_id = ? AND hostname = ?").get(accountId, hostname) as
        | Row
        | undefined;
      return r && toDomain(r);
    },
    putDomain(d: WorkerDomain): void {
      db.prepare(
        `INSERT INTO worker_domains (id, account_id, zone_id, zone_name, hostname, service, environment, enabled, previews_enabled, created_on)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (account_id, hostname) DO UPDATE SET service = excluded.service, environment = excluded.environment,
           enabled = excluded.enabled, previews_enabled = excluded.previews_enabled`,
      ).run(
        d.id,
        d.account_id,
        d.zone_id,
        d.zone_name,
        d.hostname,
        d.service,
        d.environment,
        d.enabled ? 1 : 0,
        d.previews_enabled ? 1 : 0,
        d.created_on,
      );
    },
    deleteDomain(id: string): void {
      db.prepare("DELETE FROM worker_domains WHERE id = ?").run(id);
    },
    deleteDomainsOfScript(accountId: string, script: string): void {
      db.prepare("DELETE FROM worker_domains WHERE account_id = ? AND service = ?").run(accountId, script);
    },
  };
}
export type RouteStore = ReturnType<typeof createRouteStore>;
