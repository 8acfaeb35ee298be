// KV namespaces and values. One table for every namespace: the API and the Workers read the same
// rows, so a value written through the API is what the Worker reads, at once.
import type { EdgeDb } from "./db.ts";
import type { KvEntry, KvNamespace } from "./model.ts";

type Row = Record<string, unknown>;

function toEntry(r: Row): KvEntry {
  return {
    key: r.key as string,
    value: r.value as Uint8Array,
    metadata: r.metadata == null ? null : JSON.parse(r.metadata as string),
    expiration: r.expiration == null ? null : Number(r.expiration),
  };
}

/** A key as both the API and the Workers' KV list return it. */
export function kvKeyJson(e: KvEntry): { name: string; expiration?: number; metadata?: unknown } {
  return {
    name: e.key,
    ...(e.expiration !== null ? { expiration: e.expiration } : {}),
    ...(e.metadata != null ? { metadata: e.metadata } : {}),
  };
}

export function createKvStore(db: EdgeDb, now: () => number = () => Date.now()) {
  const nowSec = () => Math.floor(now() / 1000);
  return {
    getNamespace(accountId: string, id: string): KvNamespace | undefined {
      return db.prepare("SELECT * FROM kv_namespaces WHERE account_id = ? AND id = ?").get(accountId, id) as KvNamespace | undefined;
    },
    namespaceByTitle(accountId: string, title: string): KvNamespace | undefined {
      return db.prepare("SELECT * FROM kv_namespaces WHERE account_id = ? AND title = ?").get(accountId, title) as KvNamespace | undefined;
    },
    listNamespaces(accountId: string, order: "id" | "title", desc: boolean, limit: number, offset: number): KvNamespace[] {
      const col = order === "title" ? "title" : "id";
      return db
        .prepare(`SELECT * FROM kv_namespaces WHERE account_id = ? ORDER BY ${col} ${desc ? "DESC" : "ASC"} LIMIT ? OFFSET ?`)
        .all(accountId, limit, offset) as KvNamespace[];
    },
    countNamespaces(accountId: string): number {
      return Number((db.prepare("SELECT COUNT(*) AS n FROM kv_namespaces WHERE account_id = ?").get(accountId) as Row).n);
    },
    insertNamespace(ns: KvNamespace): void {
      db.prepare("INSERT INTO kv_namespaces (id, account_id, title, created_on) VALUES (?, ?, ?, ?)").run(
        ns.id,
        ns.account_id,
        ns.title,
        ns.created_on,
      );
    },
    renameNamespace(id: string, title: string): void {
      db.prepare("UPDATE kv_namespaces SET title = ? WHERE id = ?").run(title, id);
    },
    deleteNamespace(id: string): void {
      db.prepare("DELETE FROM kv_values WHERE namespace_id = ?").run(id);
      db.prepare("DELETE FROM kv_namespaces WHERE id = ?").run(id);
    },

    get(nsId: string, key: string): KvEntry | undefined {
      const r = db
        .prepare("SELECT * FROM kv_values WHERE namespace_id = ? AND key = ? AND (expiration IS NULL OR expiration > ?)")
        .get(nsId, key, nowSec()) as Row | undefined;
      return r && toEntry(r);
    },
    put(nsId: string, e: KvEntry): void {
      db.prepare(
        `INSERT INTO kv_values (namespace_id, key, value, metadata, expiration) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (namespace_id, key) DO UPDATE SET value = excluded.value, metadata = excluded.metadata, expiration = excluded.expiration`,
      ).run(nsId, e.key, e.value, e.metadata == null ? null : JSON.stringify(e.metadata), e.expiration);
    },
    delete(nsId: string, key: string): void {
      db.prepare("DELETE FROM kv_values WHERE namespace_id = ? AND key = ?").run(nsId, key);
    },
    /** Keys in byte order after `after` (exclusive), like Cloudflare's cursor listing. */
    list(nsId: string, prefix: string, after: string, limit: number): KvEntry[] {
      return (
        db
          .prepare(
            `SELECT * FROM kv_values WHERE namespace_id = ? AND substr(key, 1, ?) = ? AND key > ?
           AND (expiration IS NULL OR expiration > ?) ORDER BY key LIMIT ?`,
          )
          .all(nsId, prefix.length, prefix, after, nowSec(), limit) as Row[]
      ).map(toEntry);
    },
    /** One page of keys after an opaque cursor; `cursor` is "" on the last page (wrangler loops on it). */
    listPage(nsId: string, prefix: string, cursor: string, limit: number): { entries: KvEntry[]; cursor: string } {
      const after = cursor ? Buffer.from(cursor, "base64url").toString("utf8") : "";
      const rows = this.list(nsId, prefix, after, limit + 1);
      const entries = rows.slice(0, limit);
      const next = rows.length > limit ? Buffer.from(entries[entries.length - 1]!.key, "utf8").toString("base64url") : "";
      return { entries, cursor: next };
    },
    nowSec,
  };
}
export type KvStore = ReturnType<typeof createKvStore>;
