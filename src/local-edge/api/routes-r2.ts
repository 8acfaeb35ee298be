// /accounts/:acct/r2/buckets/*: buckets (per jurisdiction, from the cf-r2-jurisdiction header) and
// objects, as `wrangler r2 bucket …` and `wrangler r2 object … --remote` drive them
// (CLOUDFLARE-API-FLEET.md §2). Object bodies are raw bytes, not the envelope; an object key is
// everything after /objects/, percent-decoded.
import { Hono, type Context } from "hono";
import { hexId } from "../../kit/ids.ts";
import type { R2Bucket, R2Store } from "../state/r2.ts";
import { CF_CODES, CfApiError, ok } from "./envelope.ts";
import { readJson } from "./json-body.ts";
import type { EdgeEnv } from "./routes-workers.ts";

const LOCATIONS = ["weur", "eeur", "apac", "wnam", "enam", "oc"];
const STORAGE_CLASSES = ["Standard", "InfrequentAccess"];
const JURISDICTIONS = ["default", "eu", "fedramp"];
const REGION_LOCATION: Record<string, string> = { eu: "WEUR", us: "ENAM", ap: "APAC" };
const HTTP_HEADERS: Array<[string, string]> = [
  ["content-type", "contentType"],
  ["content-language", "contentLanguage"],
  ["content-disposition", "contentDisposition"],
  ["content-encoding", "contentEncoding"],
  ["cache-control", "cacheControl"],
  ["expires", "cacheExpiry"],
];

const bad = (message: string) => new CfApiError(400, CF_CODES.R2_BAD_REQUEST, message);

export function bucketJson(b: R2Bucket) {
  return {
    name: b.name,
    creation_date: b.created_at,
    location: b.location ?? "WNAM",
    storage_class: b.storage_class,
    ...(b.jurisdiction !== "default" ? { jurisdiction: b.jurisdiction } : {}),
  };
}

/**
 * The request's jurisdiction (the cf-r2-jurisdiction header, "default" when absent) and its
 * :bucket there, or R2's NoSuchBucket; shared by every route under /r2/buckets/:bucket.
 */
export function bucketLookup(r2: R2Store) {
  const jurisdiction = (c: Context<EdgeEnv>) => {
    const j = (c.req.header("cf-r2-jurisdiction") ?? "default").toLowerCase();
    if (!JURISDICTIONS.includes(j)) throw bad(`cf-r2-jurisdiction must be one of eu, fedramp (or absent), not "${j}".`);
    return j;
  };
  const bucket = (c: Context<EdgeEnv>) => {
    const j = jurisdiction(c);
    const b = r2.getBucket(c.var.account.id, j, c.req.param("bucket") ?? "");
    if (!b)
      throw new CfApiError(
        404,
        CF_CODES.R2_NO_SUCH_BUCKET,
        `The specified bucket does not exist.${j !== "default" ? ` (jurisdiction ${j})` : ""}`,
      );
    return b;
  };
  return { jurisdiction, bucket };
}

/** A bucket-list cursor: where the next page starts, after this name. */
const bucketCursor = (name: string) => Buffer.from(JSON.stringify({ startAfter: name })).toString("base64url");
function bucketCursorName(cursor: string): string {
  try {
    const v = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as { startAfter?: unknown };
    if (typeof v.startAfter === "string") return v.startAfter;
  } catch {
    // falls through to the refusal
  }
  throw new CfApiError(400, CF_CODES.R2_BAD_REQUEST, "The cursor is not one this bucket list gave; start again without it.");
}

export function r2Routes(deps: { r2: R2Store }) {
  const { r2 } = deps;
  const app = new Hono<EdgeEnv>();
  const { jurisdiction, bucket } = bucketLookup(r2);

  app.post("/r2/buckets", async (c) => {
    const body = (await readJson(c)) as { name?: unknown; storageClass?: unknown; locationHint?: unknown };
    const j = jurisdiction(c);
    if (typeof body.name !== "string" || !/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(body.name)) {
      throw new CfApiError(
        400,
        CF_CODES.R2_INVALID_BUCKET_NAME,
        "The specified bucket name is not valid: 3 to 63 lowercase letters, digits and dashes, starting and ending with a letter or digit.",
      );
    }
    if (body.storageClass !== undefined && !STORAGE_CLASSES.includes(body.storageClass as string))
      throw bad(`storageClass must be one of ${STORAGE_CLASSES.join(", ")}.`);
    if (body.locationHint !== undefined && !LOCATIONS.includes(String(body.locationHint).toLowerCase()))
      throw bad(`locationHint must be one of ${LOCATIONS.join(", ")}.`);
    if (r2.getBucket(c.var.account.id, j, body.name)) {
      throw new CfApiError(409, CF_CODES.R2_BUCKET_EXISTS, "The bucket you tried to create already exists, and you own it.");
    }
    const created: R2Bucket = {
      id: hexId(),
      account_id: c.var.account.id,
      jurisdiction: j,
      name: body.name,
      created_at: new Date().toISOString(),
      location:
        body.locationHint !== undefined
          ? String(body.locationHint).toUpperCase()
          : j === "eu"
            ? "WEUR"
            : (REGION_LOCATION[c.var.account.region] ?? "WNAM"),
      storage_class: (body.storageClass as string | undefined) ?? "Standard",
    };
    r2.insertBucket(created);
    return ok(c, bucketJson(created));
  });
  app.get("/r2/buckets", (c) => {
    let list = r2.listBuckets(c.var.account.id, jurisdiction(c));
    const contains = c.req.query("name_contains");
    const after = c.req.query("start_after");
    // `cursor` continues where a page cut off (an opaque start_after, as Cloudflare's own), and a
    // cut-off page says so with a cursor in result_info: without one, buckets past per_page could
    // not be reached at all.
    const cursor = c.req.query("cursor");
    const from = cursor ? bucketCursorName(cursor) : after;
    if (contains) list = list.filter((b) => b.name.includes(contains));
    if (from) list = list.filter((b) => b.name > from);
    const perPage = Math.min(1000, Math.max(1, Number(c.req.query("per_page") ?? 1000) || 1000));
    const page = list.slice(0, perPage);
    const more = list.length > perPage;
    return ok(c, { buckets: page.map(bucketJson) }, { per_page: perPage, ...(more ? { cursor: bucketCursor(page.at(-1)!.name) } : {}) });
  });
  app.get("/r2/buckets/:bucket", (c) => ok(c, bucketJson(bucket(c))));
  app.patch("/r2/buckets/:bucket", (c) => {
    const b = bucket(c);
    const cls = c.req.header("cf-r2-storage-class");
    if (cls !== undefined) {
      if (!STORAGE_CLASSES.includes(cls)) throw bad(`cf-r2-storage-class must be one of ${STORAGE_CLASSES.join(", ")}.`);
      r2.setStorageClass(b.id, cls);
    }
    return ok(c, {});
  });
  app.delete("/r2/buckets/:bucket", (c) => {
    const b = bucket(c);
    if (r2.objectCount(b.id) > 0) throw new CfApiError(409, CF_CODES.R2_BUCKET_NOT_EMPTY, "The bucket you tried to delete is not empty.");
    r2.deleteBucket(b.id);
    return ok(c, {});
  });

  // --- objects: raw bytes in and out ---
  const objectKey = (c: Context<EdgeEnv>) => {
    const path = new URL(c.req.url).pathname;
    const marker = `/r2/buckets/${c.req.param("bucket")}/objects/`;
    const at = path.indexOf(marker);
    const key = at < 0 ? "" : decodeURIComponent(path.slice(at + marker.length));
    if (key === "") throw bad("The object key is missing: /r2/buckets/<bucket>/objects/<key>.");
    if (new TextEncoder().encode(key).byteLength > 1024) throw bad("Object keys are at most 1024 bytes.");
    return key;
  };
  app.put("/r2/buckets/:bucket/objects/*", async (c) => {
    const b = bucket(c);
    const key = objectKey(c);
    const httpMetadata: Record<string, string> = {};
    for (const [header, field] of HTTP_HEADERS) {
      const v = c.req.header(header);
      if (v !== undefined) httpMetadata[field] = v;
    }
    const cls = c.req.header("cf-r2-storage-class");
    if (cls !== undefined && !STORAGE_CLASSES.includes(cls)) throw bad(`cf-r2-storage-class must be one of ${STORAGE_CLASSES.join(", ")}.`);
    const row = (await r2.putObject(b, key, c.req.raw.body, { httpMetadata, customMetadata: {}, ...(cls ? { storageClass: cls } : {}) }))!;
    return ok(c, {
      key: row.key,
      etag: row.etag,
      size: row.size,
      version: row.version,
      uploaded: new Date(row.uploaded_ms).toISOString(),
      storage_class: row.storage_class,
    });
  });
  app.get("/r2/buckets/:bucket/objects/*", (c) => {
    const b = bucket(c);
    const o = r2.getObject(b.id, objectKey(c));
    if (!o) throw new CfApiError(404, CF_CODES.R2_NO_SUCH_KEY, "The specified key does not exist.");
    const headers: Record<string, string> = {
      etag: `"${o.etag}"`,
      "last-modified": new Date(o.uploaded_ms).toUTCString(),
      "content-length": String(o.size),
    };
    for (const [header, field] of HTTP_HEADERS) if (o.http_metadata[field] !== undefined) headers[header] = o.http_metadata[field]!;
    headers["content-type"] ??= "application/octet-stream";
    return new Response(r2.read(o), { headers });
  });
  app.delete("/r2/buckets/:bucket/objects/*", (c) => {
    const b = bucket(c);
    r2.deleteObjects(b.id, [objectKey(c)]);
    return ok(c, {});
  });
  return app;
}
