// Region accounts: one Cloudflare account per region, created on first start.
import type { EdgeDb } from "./db.ts";
import type { Account } from "./model.ts";

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
    setSubdomain(id: string, subdomain: string): void {
      db.prepare("UPDATE accounts SET subdomain = ? WHERE id = ?").run(subdomain, id);
    },
  };
}
export type AccountStore = ReturnType<typeof createAccountStore>;
