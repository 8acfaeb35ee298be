// Region accounts: one Cloudflare account per region, created on first start.
import type { EdgeDb } from "./db.ts";
import type { Account } from "./model.ts";

export type WorkerAccountSettings = { default_usage_model: string; green_compute: boolean };
const DEFAULT_WORKER_SETTINGS: WorkerAccountSettings = { default_usage_model: "standard", green_compute: false };

export function createAccountStore(db: EdgeDb) {
  return {
    list(): Account[] {
      return db.prepare("SELECT * FROM accounts ORDER BY created_on, region").all() as Account[];
    },
    get(id: string): Account | undefined {
      return db.prepare("SELECT * FROM accounts WHERE id = ?").get(id) as Account | undefined;
    },
    byRegion(region: string): Account | undefined {
      return db.prepare("SELECT * FROM accounts WHERE region = ?").get(region) as Account | undefined;
    },
    insert(a: Account): void {
      db.prepare("INSERT INTO accounts (id, name, region, subdomain, created_on) VALUES (?, ?, ?, ?, ?)").run(
        a.id,
        a.name,
        a.region,
        a.subdomain,
        a.created_on,
      );
    },
    /** The account's Workers settings (GET/PUT …/workers/account-settings), over Cloudflare's defaults. */
    workerSettings(id: string): WorkerAccountSettings {
      const r = db.prepare("SELECT worker_settings FROM accounts WHERE id = ?").get(id) as { worker_settings: string } | undefined;
      return { ...DEFAULT_WORKER_SETTINGS, ...(r ? (JSON.parse(r.worker_settings) as Partial<WorkerAccountSettings>) : {}) };
    },
    setWorkerSettings(id: string, settings: WorkerAccountSettings): void {
      db.prepare("UPDATE accounts SET worker_settings = ? WHERE id = ?").run(JSON.stringify(settings), id);
    },
    setSubdomain(id: string, subdomain: string): void {
      db.prepare("UPDATE accounts SET subdomain = ? WHERE id = ?").run(subdomain, id);
    },
  };
}
export type AccountStore = ReturnType<typeof createAccountStore>;
