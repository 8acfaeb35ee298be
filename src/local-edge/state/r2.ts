// R2 per account: buckets keyed by (jurisdiction, name), objects as metadata rows in the edge's
// SQLite file and their bytes as one file each under <root>/<bucket id>/ (mode 0600). A write
// streams to a temporary file, hashing as it goes, and only then replaces the row and the old
// file, so readers never see half an object and a failed upload leaves the old one in place.
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, rmSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { hexId } from "../../kit/ids.ts";
import type { EdgeDb } from "./db.ts";
import { ensurePrivateDir } from "../../config/private-fs.ts";

export type R2Bucket = {
  id: string;
  account_id: string;
  /** "default" when the bucket has no jurisdiction. */
  jurisdiction: string;
  name: string;
  created_at: string;
  location: string | null;
  storage_class: string;
};

export type R2ObjectRow = {
  bucket_id: string;
  key: string;
  blob: string;
  size: number;
  etag: string;
  version: string;
  uploaded_ms: number;
  http_metadata: Record<string, string>;
  custom_metadata: Record<string, string>;
  storage_class: string;
};

export type R2PutMeta = { httpMetadata: Record<string, string>; customMetadata: Record<string, string>; storageClass?: string };

type Row = Record<string, unknown>;

function toObject(r: Row): R2ObjectRow {
  return {
    bucket_id: r.bucket_id as string,
    key: r.key as string,
    blob: r.blob as string,
    size: Number(r.size),
    etag: r.etag as string,
    version: r.version as string,
    uploaded_ms: Number(r.uploaded_ms),
    http_metadata: JSON.parse(r.http_metadata as string),
    custom_metadata: JSON.parse(r.custom_metadata as string),
    storage_class: r.storage_class as string,
  };
}

export function createR2Store(db: EdgeDb, root: string) {
  const dirOf = (bucketId: string) => join(root, bucketId);
  const getObjectStmt = db.prepare("SELECT * FROM r2_objects WHERE bucket_id = ? AND key = ?");

  return {
    insertBucket(b: R2Bucket): void {
      db.prepare(
        "INSERT INTO r2_buckets (id, account_id, jurisdiction, name, created_at, location, storage_class) VALUES (?, ?, ?, ?, ?, ?, ?)",
      ).run(b.id, b.account_id, b.jurisdiction, b.name, b.created_at, b.location, b.storage_class);
    },
    getBucket(accountId: string, jurisdiction: string, name: string): R2Bucket | undefined {
      return db
        .prepare("SELECT * FROM r2_buckets WHERE account_id = ? AND jurisdiction = ? AND name = ?")
        .get(accountId, jurisdiction, name) as R2Bucket | undefined;
    },
    listBuckets(accountId: string, jurisdiction: string): R2Bucket[] {
      return db
        .prepare("SELECT * FROM r2_buckets WHERE account_id = ? AND jurisdiction = ? ORDER BY name")
        .all(accountId, jurisdiction) as R2Bucket[];
    },
    setStorageClass(id: string, storageClass: string): void {
      db.prepare("UPDATE r2_buckets SET storage_class = ? WHERE id = ?").run(storageClass, id);
    },
    objectCount(bucketId: string): number {
      return Number((db.prepare("SELECT count(*) AS n FROM r2_objects WHERE bucket_id = ?").get(bucketId) as { n: number }).n);
    },
    /**
     * What the bucket stores now, as `r2StorageAdaptiveGroups` reports it: objects, their bytes,
     * and the bytes of their keys and metadata (Cloudflare's metadataSize; ours is an estimate).
     */
    storage(bucketId: string): { objectCount: number; payloadSize: number; metadataSize: number } {
      const r = db
        .prepare(
          "SELECT count(*) AS n, COALESCE(SUM(size), 0) AS p, COALESCE(SUM(LENGTH(CAST(key AS BLOB)) + LENGTH(http_metadata) + LENGTH(custom_metadata)), 0) AS m FROM r2_objects WHERE bucket_id = ?",
        )
        .get(bucketId) as { n: number; p: number; m: number };
      return { objectCount: Number(r.n), payloadSize: Number(r.p), metadataSize: Number(r.m) };
    },
    deleteBucket(id: string): void {
      db.prepare("DELETE FROM r2_buckets WHERE id = ?").run(id);
      db.prepare("DELETE FROM r2_objects WHERE bucket_id = ?").run(id);
      rmSync(dirOf(id), { recursive: true, force: true });
    },

    getObject(bucketId: string, key: string): R2ObjectRow | undefined {
      const r = getObjectStmt.get(bucketId, key) as Row | undefined;
      return r && toObject(r);
    },

    /** Streams `body` into a new object version; `check` may refuse it (onlyIf) before it replaces the old one. */
    async putObject(
      bucket: R2Bucket,
      key: string,
      body: ReadableStream<Uint8Array> | Uint8Array | null,
      meta: R2PutMeta,
      /** May refuse the write (false: a failed precondition; a throw: a bad upload) before it replaces anything. */
      check?: (existing: R2ObjectRow | undefined, etag: string) => boolean,
    ): Promise<R2ObjectRow | undefined> {
      const dir = dirOf(bucket.id);
      ensurePrivateDir(dir);
      const blob = hexId(16);
      const path = join(dir, blob);
      const md5 = createHash("md5");
      let size = 0;
      const source =
        body === null ? Readable.from([]) : body instanceof Uint8Array ? Readable.from([body]) : Readable.fromWeb(body as never);
      try {
        await pipeline(
          source,
          async function* (chunks: AsyncIterable<Uint8Array>) {
            for await (const c of chunks) {
              md5.update(c);
              size += c.byteLength;
              yield c;
            }
          },
          createWriteStream(path, { mode: 0o600 }),
        );
      } catch (e) {
        rmSync(path, { force: true });
        throw e;
      }
      const existing = this.getObject(bucket.id, key);
      const etag = md5.digest("hex");
      let accepted = false;
      try {
        accepted = check ? check(existing, etag) : true;
      } finally {
        if (!accepted) rmSync(path, { force: true });
      }
      if (!accepted) return undefined;
      const row: R2ObjectRow = {
        bucket_id: bucket.id,
        key,
        blob,
        size,
        etag,
        version: hexId(16),
        uploaded_ms: Date.now(),
        http_metadata: meta.httpMetadata,
        custom_metadata: meta.customMetadata,
        storage_class: meta.storageClass ?? bucket.storage_class,
      };
      db.prepare(
        `INSERT INTO r2_objects (bucket_id, key, blob, size, etag, version, uploaded_ms, http_metadata, custom_metadata, storage_class)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (bucket_id, key) DO UPDATE SET blob = excluded.blob, size = excluded.size, etag = excluded.etag,
           version = excluded.version, uploaded_ms = excluded.uploaded_ms, http_metadata = excluded.http_metadata,
           custom_metadata = excluded.custom_metadata, storage_class = excluded.storage_class`,
      ).run(
        row.bucket_id,
        key,
        blob,
        size,
        row.etag,
        row.version,
        row.uploaded_ms,
        JSON.stringify(row.http_metadata),
        JSON.stringify(row.custom_metadata),
        row.storage_class,
      );
      if (existing) rmSync(join(dir, existing.blob), { force: true });
      return row;
    },

    /** The object's bytes, or a range of them (`end` inclusive). */
    read(o: R2ObjectRow, range?: { start: number; end: number }): ReadableStream<Uint8Array> {
      if (o.size === 0 || (range && range.end < range.start)) return new Blob([]).stream();
      const stream = createReadStream(join(dirOf(o.bucket_id), o.blob), range ? { start: range.start, end: range.end } : {});
      return Readable.toWeb(stream) as unknown as ReadableStream<Uint8Array>;
    },

    deleteObjects(bucketId: string, keys: string[]): void {
      for (const key of keys) {
        const o = this.getObject(bucketId, key);
        if (!o) continue;
        db.prepare("DELETE FROM r2_objects WHERE bucket_id = ? AND key = ?").run(bucketId, key);
        rmSync(join(dirOf(bucketId), o.blob), { force: true });
      }
    },

    /**
     * One page of a listing in key order after `startAfter`. With a delimiter, keys that share a
     * prefix up to it fold into one delimited prefix, which counts against `limit` like an object.
     */
    list(bucketId: string, opts: { prefix: string; startAfter: string; limit: number; delimiter?: string }) {
      const objects: R2ObjectRow[] = [];
      const prefixes: string[] = [];
      let last = "";
      let truncated = false;
      // biome-ignore lint/complexity/useMathMinMax: string keys; Math.max would turn them into NaN.
      const from = opts.startAfter > opts.prefix ? opts.startAfter : opts.prefix;
      const strict = opts.startAfter >= opts.prefix && opts.startAfter !== "";
      const iter = db
        .prepare(`SELECT * FROM r2_objects WHERE bucket_id = ? AND key ${strict ? ">" : ">="} ? ORDER BY key`)
        .iterate(bucketId, from) as Iterable<Row>;
      for (const r of iter) {
        const key = r.key as string;
        if (!key.startsWith(opts.prefix)) break;
        const rest = key.slice(opts.prefix.length);
        const cut = opts.delimiter ? rest.indexOf(opts.delimiter) : -1;
        const folded = cut >= 0 ? opts.prefix + rest.slice(0, cut + opts.delimiter!.length) : undefined;
        if (folded !== undefined && prefixes.at(-1) === folded) {
          last = key;
          continue;
        }
        if (objects.length + prefixes.length >= opts.limit) {
          truncated = true;
          break;
        }
        if (folded !== undefined) prefixes.push(folded);
        else objects.push(toObject(r));
        last = key;
      }
      // The cursor resumes after the last key seen; a folded prefix resumes after all its keys.
      const lastPrefix = prefixes.at(-1);
      const cursor = truncated ? (lastPrefix && last.startsWith(lastPrefix) ? lastPrefix + "\u{10FFFF}" : last) : undefined;
      return { objects, prefixes, truncated, cursor };
    },
  };
}
export type R2Store = ReturnType<typeof createR2Store>;
