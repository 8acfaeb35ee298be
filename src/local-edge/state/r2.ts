// R2 per account: buckets keyed by (jurisdiction, name), objects as metadata rows in the edge's
// SQLite file and their bytes as one file each under <root>/<bucket id>/ (mode 0600). A write
// streams to a temporary file, hashing as it goes, and only then replaces the row and the old
// file, so readers never see half an object and a failed upload leaves the old one in place.
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { hexId } from "../../kit/ids.ts";
import type { EdgeDb } from "./db.ts";
import { DEFAULT_LIFECYCLE_RULES, uploadLifetimeMs } from "./r2-lifecycle.ts";
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

/** The bucket settings the REST API stores as rule lists (api/r2-bucket-rules.ts validates them). */
export type R2ConfigKind = "cors" | "lifecycle" | "lock";

export type R2Upload = {
  upload_id: string;
  bucket_id: string;
  key: string;
  http_metadata: Record<string, string>;
  custom_metadata: Record<string, string>;
  storage_class: string;
};
export type R2Part = { part_number: number; blob: string; size: number; etag: string };

/** A multipart upload refused as R2 refuses it; the message carries R2's code, as the binding's errors do. */
export class R2UploadError extends Error {}

export const MIN_PART_BYTES = 5 * 1024 * 1024;
export const MAX_PARTS = 10_000;

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

/** Streams `body` into a new file in `dir` (0600), hashing as it goes; removed again if the stream fails. */
async function streamToFile(
  dir: string,
  body: ReadableStream<Uint8Array> | Uint8Array | null,
): Promise<{ blob: string; size: number; md5: string }> {
  ensurePrivateDir(dir);
  const blob = hexId(16);
  const path = join(dir, blob);
  const md5 = createHash("md5");
  let size = 0;
  const source = body === null ? Readable.from([]) : body instanceof Uint8Array ? Readable.from([body]) : Readable.fromWeb(body as never);
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
  return { blob, size, md5: md5.digest("hex") };
}

export function createR2Store(db: EdgeDb, root: string) {
  const dirOf = (bucketId: string) => join(root, bucketId);
  const getObjectStmt = db.prepare("SELECT * FROM r2_objects WHERE bucket_id = ? AND key = ?");
  // Uploads whose complete is joining their parts now: a second complete (a retry, a double
  // click) or a part sent meanwhile would otherwise make a second object or pull a part's file
  // from under the join; to them the upload is already gone, as it is once complete returns.
  const completing = new Set<string>();
  const gone = (verb: string) => new R2UploadError(`${verb}: The specified multipart upload does not exist. (10024)`);

  /** Makes `file` (already in the bucket's directory) the object `key`, replacing (and removing) `existing`. */
  function insertRow(
    bucket: R2Bucket,
    key: string,
    file: { blob: string; size: number; etag: string },
    meta: R2PutMeta,
    existing: R2ObjectRow | undefined,
  ): R2ObjectRow {
    const row: R2ObjectRow = {
      bucket_id: bucket.id,
      key,
      blob: file.blob,
      size: file.size,
      etag: file.etag,
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
      row.blob,
      row.size,
      row.etag,
      row.version,
      row.uploaded_ms,
      JSON.stringify(row.http_metadata),
      JSON.stringify(row.custom_metadata),
      row.storage_class,
    );
    if (existing) rmSync(join(dirOf(bucket.id), existing.blob), { force: true });
    return row;
  }

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
    /** The bucket's stored rules of `kind`, or undefined when none were ever set (or they were deleted). */
    getConfig(bucketId: string, kind: R2ConfigKind): unknown[] | undefined {
      const r = db.prepare("SELECT rules FROM r2_bucket_config WHERE bucket_id = ? AND kind = ?").get(bucketId, kind) as
        | { rules: string }
        | undefined;
      return r && (JSON.parse(r.rules) as unknown[]);
    },
    setConfig(bucketId: string, kind: R2ConfigKind, rules: unknown[]): void {
      db.prepare(
        "INSERT INTO r2_bucket_config (bucket_id, kind, rules) VALUES (?, ?, ?) ON CONFLICT (bucket_id, kind) DO UPDATE SET rules = excluded.rules",
      ).run(bucketId, kind, JSON.stringify(rules));
    },
    deleteConfig(bucketId: string, kind: R2ConfigKind): void {
      db.prepare("DELETE FROM r2_bucket_config WHERE bucket_id = ? AND kind = ?").run(bucketId, kind);
    },
    deleteBucket(id: string): void {
      db.prepare("DELETE FROM r2_buckets WHERE id = ?").run(id);
      db.prepare("DELETE FROM r2_objects WHERE bucket_id = ?").run(id);
      db.prepare("DELETE FROM r2_parts WHERE upload_id IN (SELECT upload_id FROM r2_uploads WHERE bucket_id = ?)").run(id);
      db.prepare("DELETE FROM r2_uploads WHERE bucket_id = ?").run(id);
      db.prepare("DELETE FROM r2_bucket_config WHERE bucket_id = ?").run(id);
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
      const file = await streamToFile(dirOf(bucket.id), body);
      const existing = this.getObject(bucket.id, key);
      let accepted = false;
      try {
        accepted = check ? check(existing, file.md5) : true;
      } finally {
        if (!accepted) rmSync(join(dirOf(bucket.id), file.blob), { force: true });
      }
      if (!accepted) return undefined;
      return insertRow(bucket, key, { blob: file.blob, size: file.size, etag: file.md5 }, meta, existing);
    },

    // --- multipart uploads ---

    createUpload(bucket: R2Bucket, key: string, meta: R2PutMeta): R2Upload {
      const u: R2Upload = {
        upload_id: hexId(32),
        bucket_id: bucket.id,
        key,
        http_metadata: meta.httpMetadata,
        custom_metadata: meta.customMetadata,
        storage_class: meta.storageClass ?? bucket.storage_class,
      };
      db.prepare(
        "INSERT INTO r2_uploads (upload_id, bucket_id, key, http_metadata, custom_metadata, storage_class, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
      ).run(u.upload_id, u.bucket_id, key, JSON.stringify(u.http_metadata), JSON.stringify(u.custom_metadata), u.storage_class, Date.now());
      return u;
    },

    /** The open upload `uploadId` of `key` in the bucket, or undefined (never made, completed or aborted). */
    getUpload(bucketId: string, key: string, uploadId: string): R2Upload | undefined {
      const r = db.prepare("SELECT * FROM r2_uploads WHERE upload_id = ? AND bucket_id = ? AND key = ?").get(uploadId, bucketId, key) as
        | Row
        | undefined;
      if (!r) return undefined;
      return {
        upload_id: r.upload_id as string,
        bucket_id: r.bucket_id as string,
        key: r.key as string,
        http_metadata: JSON.parse(r.http_metadata as string),
        custom_metadata: JSON.parse(r.custom_metadata as string),
        storage_class: r.storage_class as string,
      };
    },

    /** Streams one part (1..10000) to its file; a part sent again replaces the earlier one. */
    async putPart(u: R2Upload, partNumber: number, body: ReadableStream<Uint8Array> | Uint8Array | null): Promise<R2Part> {
      if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PARTS)
        throw new R2UploadError(`uploadPart: Part number must be an integer between 1 and ${MAX_PARTS}. (10001)`);
      const file = await streamToFile(dirOf(u.bucket_id), body);
      // Aborted or completed (or completing) while the part streamed in: nothing to add it to.
      if (completing.has(u.upload_id) || !this.getUpload(u.bucket_id, u.key, u.upload_id)) {
        rmSync(join(dirOf(u.bucket_id), file.blob), { force: true });
        throw gone("uploadPart");
      }
      const old = db.prepare("SELECT blob FROM r2_parts WHERE upload_id = ? AND part_number = ?").get(u.upload_id, partNumber) as
        | { blob: string }
        | undefined;
      db.prepare(
        `INSERT INTO r2_parts (upload_id, part_number, blob, size, etag) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (upload_id, part_number) DO UPDATE SET blob = excluded.blob, size = excluded.size, etag = excluded.etag`,
      ).run(u.upload_id, partNumber, file.blob, file.size, file.md5);
      if (old) rmSync(join(dirOf(u.bucket_id), old.blob), { force: true });
      return { part_number: partNumber, blob: file.blob, size: file.size, etag: file.md5 };
    },

    /** Joins the named parts, in part order, into the object; the upload and its parts go away. */
    async completeUpload(bucket: R2Bucket, u: R2Upload, named: Array<{ partNumber: number; etag: string }>): Promise<R2ObjectRow> {
      if (completing.has(u.upload_id)) throw gone("completeMultipartUpload");
      completing.add(u.upload_id);
      try {
        return await this.joinParts(bucket, u, named);
      } finally {
        completing.delete(u.upload_id);
      }
    },

    async joinParts(bucket: R2Bucket, u: R2Upload, named: Array<{ partNumber: number; etag: string }>): Promise<R2ObjectRow> {
      const stored = new Map(
        (db.prepare("SELECT part_number, blob, size, etag FROM r2_parts WHERE upload_id = ?").all(u.upload_id) as R2Part[]).map((p) => [
          Number(p.part_number),
          { ...p, part_number: Number(p.part_number), size: Number(p.size) },
        ]),
      );
      if (named.length === 0) throw new R2UploadError("completeMultipartUpload: No parts were given. (10011)");
      const sorted = [...named].sort((a, b) => a.partNumber - b.partNumber);
      const parts: R2Part[] = [];
      for (const [i, n] of sorted.entries()) {
        if (i > 0 && sorted[i - 1]!.partNumber === n.partNumber)
          throw new R2UploadError(`completeMultipartUpload: Part ${n.partNumber} is listed twice. (10011)`);
        const p = stored.get(n.partNumber);
        if (!p || p.etag !== String(n.etag).replace(/"/g, ""))
          throw new R2UploadError(
            `completeMultipartUpload: One or more of the specified parts could not be found (part ${n.partNumber}). (10025)`,
          );
        parts.push(p);
      }
      for (const [i, p] of parts.entries()) {
        if (i === parts.length - 1) break;
        if (p.size < MIN_PART_BYTES)
          throw new R2UploadError("completeMultipartUpload: Your proposed upload is smaller than the minimum allowed object size. (10011)");
        if (p.size !== parts[0]!.size)
          throw new R2UploadError(
            "completeMultipartUpload: There was a problem with the multipart upload: all parts but the last must be of the same size. (10048)",
          );
      }
      const dir = dirOf(bucket.id);
      const blob = hexId(16);
      const path = join(dir, blob);
      try {
        const out = createWriteStream(path, { mode: 0o600 });
        for (const p of parts) await pipeline(createReadStream(join(dir, p.blob)), out, { end: false });
        await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
      } catch (e) {
        rmSync(path, { force: true });
        // An abort removed the parts' files while they were joined: the abort won.
        if (!this.getUpload(u.bucket_id, u.key, u.upload_id)) throw gone("completeMultipartUpload");
        throw e;
      }
      if (!this.getUpload(u.bucket_id, u.key, u.upload_id)) {
        rmSync(path, { force: true });
        throw gone("completeMultipartUpload");
      }
      const etag = `${createHash("md5")
        .update(Buffer.concat(parts.map((p) => Buffer.from(p.etag, "hex"))))
        .digest("hex")}-${parts.length}`;
      const size = parts.reduce((n, p) => n + p.size, 0);
      const row = insertRow(
        bucket,
        u.key,
        { blob, size, etag },
        { httpMetadata: u.http_metadata, customMetadata: u.custom_metadata, storageClass: u.storage_class },
        this.getObject(bucket.id, u.key),
      );
      this.abortUpload(u);
      return row;
    },

    /** Drops the upload and its parts' files (also what complete does after joining them). */
    abortUpload(u: R2Upload): void {
      const parts = db.prepare("SELECT blob FROM r2_parts WHERE upload_id = ?").all(u.upload_id) as Array<{ blob: string }>;
      db.prepare("DELETE FROM r2_parts WHERE upload_id = ?").run(u.upload_id);
      db.prepare("DELETE FROM r2_uploads WHERE upload_id = ?").run(u.upload_id);
      for (const p of parts) rmSync(join(dirOf(u.bucket_id), p.blob), { force: true });
    },

    /**
     * At the edge's start, when nothing streams: uploads older than their bucket's lifecycle lets
     * them stay open (R2's default rule: 7 days) are aborted, and files no object or part names (a
     * part or put cut off by a kill while it streamed) are removed, so neither stays on disk for
     * good. Answers how many of each went.
     */
    sweep(now = Date.now()): { uploads: number; files: number } {
      const lifecycles = new Map<string, unknown[]>();
      const lifecycleOf = (bucketId: string) => {
        if (!lifecycles.has(bucketId)) lifecycles.set(bucketId, this.getConfig(bucketId, "lifecycle") ?? DEFAULT_LIFECYCLE_RULES);
        return lifecycles.get(bucketId)!;
      };
      const old = (
        db.prepare("SELECT upload_id, bucket_id, key, created_ms FROM r2_uploads").all() as Array<{
          upload_id: string;
          bucket_id: string;
          key: string;
          created_ms: number;
        }>
      ).filter((u) => {
        const lifetime = uploadLifetimeMs(lifecycleOf(u.bucket_id), u.key);
        return lifetime !== undefined && Number(u.created_ms) < now - lifetime;
      });
      for (const u of old)
        this.abortUpload({
          upload_id: u.upload_id,
          bucket_id: u.bucket_id,
          key: u.key,
          http_metadata: {},
          custom_metadata: {},
          storage_class: "",
        });
      const named = new Set<string>();
      for (const r of db
        .prepare(
          "SELECT bucket_id, blob FROM r2_objects UNION ALL SELECT u.bucket_id, p.blob FROM r2_parts p JOIN r2_uploads u USING (upload_id)",
        )
        .all() as Array<{ bucket_id: string; blob: string }>)
        named.add(`${r.bucket_id}/${r.blob}`);
      let files = 0;
      if (!existsSync(root)) return { uploads: old.length, files };
      for (const bucket of readdirSync(root, { withFileTypes: true })) {
        if (!bucket.isDirectory()) continue;
        for (const f of readdirSync(join(root, bucket.name), { withFileTypes: true })) {
          if (!f.isFile() || named.has(`${bucket.name}/${f.name}`)) continue;
          rmSync(join(root, bucket.name, f.name), { force: true });
          files++;
        }
      }
      return { uploads: old.length, files };
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
