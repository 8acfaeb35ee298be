// D1 databases per account: the registry rows. Each database's data and Time Travel history
// live in their own files (src/local-edge/d1/), opened through the pool.
import type { EdgeDb } from "./db.ts";

export type D1Database = {
  uuid: string;
  account_id: string;
  name: string;
  created_at: string;
  jurisdiction: string | null;
  location: string | null;
  /** "auto" or "disabled" (the default); stored and served, replicas are not emulated. */
  read_replication?: string;
};

export function createD1Store(db: EdgeDb) {
  const row = (r: unknown) => r as D1Database | undefined;
  // byId runs on every D1 query a Worker makes: prepared once.
  const byIdStmt = db.prepare("SELECT * FROM d1_databases WHERE uuid = ?");
  return {
    insert(d: D1Database): void {
      db.prepare("INSERT INTO d1_databases (uuid, account_id, name, created_at, jurisdiction, location) VALUES (?, ?, ?, ?, ?, ?)").run(
        d.uuid,
        d.account_id,
        d.name,
        d.created_at,
        d.jurisdiction,
        d.location,
      );
    },
    /** By uuid or by name (the API accepts either in the path). */
    find(accountId: string, idOrName: string): D1Database | undefined {
      return (
        row(db.prepare("SELECT * FROM d1_databases WHERE account_id = ? AND uuid = ?").get(accountId, idOrName.toLowerCase())) ??
        row(db.prepare("SELECT * FROM d1_databases WHERE account_id = ? AND name = ?").get(accountId, idOrName))
      );
    },
    byId(uuid: string): D1Database | undefined {
      return row(byIdStmt.get(uuid));
    },
    list(accountId: string, opts: { name?: string; limit: number; offset: number }): D1Database[] {
      return opts.name !== undefined
        ? (db
            .prepare("SELECT * FROM d1_databases WHERE account_id = ? AND name = ? ORDER BY created_at, uuid LIMIT ? OFFSET ?")
            .all(accountId, opts.name, opts.limit, opts.offset) as D1Database[])
        : (db
            .prepare("SELECT * FROM d1_databases WHERE account_id = ? ORDER BY created_at, uuid LIMIT ? OFFSET ?")
            .all(accountId, opts.limit, opts.offset) as D1Database[]);
    },
    setReadReplication(uuid: string, mode: string): void {
      db.prepare("UPDATE d1_databases SET read_replication = ? WHERE uuid = ?").run(mode, uuid);
    },
    count(accountId: string): number {
      return Number((db.prepare("SELECT count(*) AS n FROM d1_databases WHERE account_id = ?").get(accountId) as { n: number }).n);
    },
    delete(uuid: string): void {
      db.prepare("DELETE FROM d1_databases WHERE uuid = ?").run(uuid);
    },
  };
}
export type D1Store = ReturnType<typeof createD1Store>;
