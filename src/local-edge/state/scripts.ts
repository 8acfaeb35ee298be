// Scripts, their immutable versions (with modules) and their deployments.
import type { EdgeDb } from "./db.ts";
import type { Deployment, Script, StoredModule, Version } from "./model.ts";

type Row = Record<string, unknown>;

function toScript(r: Row): Script {
  return {
    account_id: r.account_id as string,
    name: r.name as string,
    tag: r.tag as string,
    created_on: r.created_on as string,
    modified_on: r.modified_on as string,
    settings: JSON.parse(r.settings as string),
    schedules: JSON.parse(r.schedules as string),
    subdomain_enabled: r.subdomain_enabled === 1,
    previews_enabled: r.previews_enabled === 1,
  };
}

function toVersion(r: Row): Version {
  return {
    id: r.id as string,
    account_id: r.account_id as string,
    script: r.script as string,
    number: Number(r.number),
    created_on: r.created_on as string,
    source: r.source as string,
    author_email: r.author_email as string,
    annotations: JSON.parse(r.annotations as string),
    main_module: r.main_module as string,
    compatibility_date: r.compatibility_date as string,
    compatibility_flags: JSON.parse(r.compatibility_flags as string),
    bindings: JSON.parse(r.bindings as string),
    etag: r.etag as string,
  };
}

function toDeployment(r: Row): Deployment {
  return {
    id: r.id as string,
    seq: Number(r.seq),
    account_id: r.account_id as string,
    script: r.script as string,
    created_on: r.created_on as string,
    source: r.source as string,
    author_email: r.author_email as string,
    annotations: JSON.parse(r.annotations as string),
    versions: JSON.parse(r.versions as string),
  };
}

export function createScriptStore(db: EdgeDb) {
  return {
    get(accountId: string, name: string): Script | undefined {
      const r = db.prepare("SELECT * FROM scripts WHERE account_id = ? AND name = ?").get(accountId, name) as Row | undefined;
      return r && toScript(r);
    },
    list(accountId: string): Script[] {
      return (db.prepare("SELECT * FROM scripts WHERE account_id = ? ORDER BY name").all(accountId) as Row[]).map(toScript);
    },
    insert(s: Script): void {
      db.prepare(
        `INSERT INTO scripts (account_id, name, tag, created_on, modified_on, settings, schedules, subdomain_enabled, previews_enabled)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        s.account_id,
        s.name,
        s.tag,
        s.created_on,
        s.modified_on,
        JSON.stringify(s.settings),
        JSON.stringify(s.schedules),
        s.subdomain_enabled ? 1 : 0,
        s.previews_enabled ? 1 : 0,
      );
    },
    update(s: Script): void {
      db.prepare(
        `UPDATE scripts SET modified_on = ?, settings = ?, schedules = ?, subdomain_enabled = ?, previews_enabled = ?
         WHERE account_id = ? AND name = ?`,
      ).run(
        s.modified_on,
        JSON.stringify(s.settings),
        JSON.stringify(s.schedules),
        s.subdomain_enabled ? 1 : 0,
        s.previews_enabled ? 1 : 0,
        s.account_id,
        s.name,
      );
    },
    delete(accountId: string, name: string): void {
      const ids = db.prepare("SELECT id FROM versions WHERE account_id = ? AND script = ?").all(accountId, name) as Row[];
      for (const { id } of ids) db.prepare("DELETE FROM modules WHERE version_id = ?").run(id as string);
      db.prepare("DELETE FROM versions WHERE account_id = ? AND script = ?").run(accountId, name);
      db.prepare("DELETE FROM deployments WHERE account_id = ? AND script = ?").run(accountId, name);
      db.prepare("DELETE FROM scripts WHERE account_id = ? AND name = ?").run(accountId, name);
    },

    // --- versions ---
    getVersion(id: string): Version | undefined {
      const r = db.prepare("SELECT * FROM versions WHERE id = ?").get(id) as Row | undefined;
      return r && toVersion(r);
    },
    latestVersion(accountId: string, script: string): Version | undefined {
      const r = db
        .prepare("SELECT * FROM versions WHERE account_id = ? AND script = ? ORDER BY number DESC LIMIT 1")
        .get(accountId, script) as Row | undefined;
      return r && toVersion(r);
    },
    /** Newest first. */
    listVersions(accountId: string, script: string, limit: number, offset: number): Version[] {
      return (
        db
          .prepare("SELECT * FROM versions WHERE account_id = ? AND script = ? ORDER BY number DESC LIMIT ? OFFSET ?")
          .all(accountId, script, limit, offset) as Row[]
      ).map(toVersion);
    },
    countVersions(accountId: string, script: string): number {
      return Number((db.prepare("SELECT COUNT(*) AS n FROM versions WHERE account_id = ? AND script = ?").get(accountId, script) as Row).n);
    },
    insertVersion(v: Version, modules: StoredModule[]): void {
      db.prepare(
        `INSERT INTO versions (id, account_id, script, number, created_on, source, author_email, annotations, main_module,
           compatibility_date, compatibility_flags, bindings, etag) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        v.id,
        v.account_id,
        v.script,
        v.number,
        v.created_on,
        v.source,
        v.author_email,
        JSON.stringify(v.annotations),
        v.main_module,
        v.compatibility_date,
        JSON.stringify(v.compatibility_flags),
        JSON.stringify(v.bindings),
        v.etag,
      );
      const ins = db.prepare("INSERT INTO modules (version_id, name, type, content) VALUES (?, ?, ?, ?)");
      for (const m of modules) ins.run(v.id, m.name, m.type, m.content);
    },
    modules(versionId: string): StoredModule[] {
      return (db.prepare("SELECT name, type, content FROM modules WHERE version_id = ? ORDER BY rowid").all(versionId) as Row[]).map(
        (r) => ({ name: r.name as string, type: r.type as StoredModule["type"], content: r.content as Uint8Array }),
      );
    },

    // --- deployments ---
    /** Newest first: deployments[0] is the live one, as wrangler expects. */
    listDeployments(accountId: string, script: string): Deployment[] {
      return (
        db.prepare("SELECT * FROM deployments WHERE account_id = ? AND script = ? ORDER BY seq DESC").all(accountId, script) as Row[]
      ).map(toDeployment);
    },
    currentDeployment(accountId: string, script: string): Deployment | undefined {
      const r = db
        .prepare("SELECT * FROM deployments WHERE account_id = ? AND script = ? ORDER BY seq DESC LIMIT 1")
        .get(accountId, script) as Row | undefined;
      return r && toDeployment(r);
    },
    getDeployment(id: string): Deployment | undefined {
      const r = db.prepare("SELECT * FROM deployments WHERE id = ?").get(id) as Row | undefined;
      return r && toDeployment(r);
    },
    insertDeployment(d: Omit<Deployment, "seq">): Deployment {
      const seq = Number((db.prepare("SELECT COALESCE(MAX(seq), 0) + 1 AS s FROM deployments").get() as Row).s);
      db.prepare(
        `INSERT INTO deployments (id, seq, account_id, script, created_on, source, author_email, annotations, versions)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        d.id,
        seq,
        d.account_id,
        d.script,
        d.created_on,
        d.source,
        d.author_email,
        JSON.stringify(d.annotations),
        JSON.stringify(d.versions),
      );
      return { ...d, seq };
    },
    deleteDeployment(id: string): void {
      db.prepare("DELETE FROM deployments WHERE id = ?").run(id);
    },
    /** Every script of an account with its live deployment: what the region's router serves. */
    liveDeployments(accountId: string): Deployment[] {
      return (
        db
          .prepare(
            `SELECT d.* FROM deployments d JOIN (SELECT script, MAX(seq) AS seq FROM deployments WHERE account_id = ? GROUP BY script) m
         ON d.script = m.script AND d.seq = m.seq WHERE d.account_id = ?`,
          )
          .all(accountId, accountId) as Row[]
      ).map(toDeployment);
    },
  };
}
export type ScriptStore = ReturnType<typeof createScriptStore>;
