// Durable Object namespaces (one per (script, class) created by a migration) and each script's
// current migration tag. A namespace keeps its id through renames and transfers, and the id is
// what object ids and object storage hang off, so storage survives both.
import type { EdgeDb } from "./db.ts";

export type DoNamespace = { id: string; account_id: string; script: string; class: string; use_sqlite: boolean; created_on: string };

type Row = Record<string, unknown>;
const toNamespace = (r: Row): DoNamespace => ({
  id: r.id as string,
  account_id: r.account_id as string,
  script: r.script as string,
  class: r.class as string,
  use_sqlite: r.use_sqlite === 1,
  created_on: r.created_on as string,
});

export function createDoStore(db: EdgeDb) {
  return {
    list(accountId: string): DoNamespace[] {
      return (db.prepare("SELECT * FROM do_namespaces WHERE account_id = ? ORDER BY created_on, id").all(accountId) as Row[]).map(
        toNamespace,
      );
    },
    get(accountId: string, id: string): DoNamespace | undefined {
      const r = db.prepare("SELECT * FROM do_namespaces WHERE account_id = ? AND id = ?").get(accountId, id) as Row | undefined;
      return r && toNamespace(r);
    },
    byClass(accountId: string, script: string, className: string): DoNamespace | undefined {
      const r = db
        .prepare("SELECT * FROM do_namespaces WHERE account_id = ? AND script = ? AND class = ?")
        .get(accountId, script, className) as Row | undefined;
      return r && toNamespace(r);
    },
    ofScript(accountId: string, script: string): DoNamespace[] {
      return (
        db.prepare("SELECT * FROM do_namespaces WHERE account_id = ? AND script = ? ORDER BY class").all(accountId, script) as Row[]
      ).map(toNamespace);
    },
    insert(ns: DoNamespace): void {
      db.prepare("INSERT INTO do_namespaces (id, account_id, script, class, use_sqlite, created_on) VALUES (?, ?, ?, ?, ?, ?)").run(
        ns.id,
        ns.account_id,
        ns.script,
        ns.class,
        ns.use_sqlite ? 1 : 0,
        ns.created_on,
      );
    },
    /** Renames (same script) or transfers (another script) a namespace; its id, and so its objects, stay. */
    move(id: string, script: string, className: string): void {
      db.prepare("UPDATE do_namespaces SET script = ?, class = ? WHERE id = ?").run(script, className, id);
    },
    delete(id: string): void {
      db.prepare("DELETE FROM do_namespaces WHERE id = ?").run(id);
    },
    deleteOfScript(accountId: string, script: string): void {
      db.prepare("DELETE FROM do_namespaces WHERE account_id = ? AND script = ?").run(accountId, script);
      db.prepare("DELETE FROM script_migration_tags WHERE account_id = ? AND script = ?").run(accountId, script);
    },
    migrationTag(accountId: string, script: string): string | undefined {
      const r = db.prepare("SELECT tag FROM script_migration_tags WHERE account_id = ? AND script = ?").get(accountId, script) as
        | Row
        | undefined;
      return r ? (r.tag as string) : undefined;
    },
    setMigrationTag(accountId: string, script: string, tag: string): void {
      db.prepare(
        `INSERT INTO script_migration_tags (account_id, script, tag) VALUES (?, ?, ?)
         ON CONFLICT (account_id, script) DO UPDATE SET tag = excluded.tag`,
      ).run(accountId, script, tag);
    },
  };
}
export type DoStore = ReturnType<typeof createDoStore>;
