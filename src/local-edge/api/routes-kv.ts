// /accounts/:acct/storage/kv/*: namespaces, values (raw bytes, not the envelope), keys, bulk.
import { Hono, type Context } from "hono";
import { hexId } from "../../kit/ids.ts";
import { kvKeyJson, type KvStore } from "../state/kv.ts";
import type { KvEntry } from "../state/model.ts";
import { CF_CODES, CfApiError, badRequest, ok, pageInfo, pageParams } from "./envelope.ts";
import { kvPutRefusal } from "./kv-put-checks.ts";
import { deeperThan, parseJson, readJson, readJsonObject } from "./json-body.ts";
import { LIMITS, checkBulkCount, checkKvKey, checkKvMetadata, checkKvTitle, checkKvValue } from "./limits.ts";
import type { EdgeEnv } from "./routes-workers.ts";

/** A stored value asked for as JSON: one that is not JSON (or nests too deep to answer) is the caller's 400, as on Cloudflare. */
function storedJson(text: string): unknown {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    v = undefined;
  }
  if (v === undefined || deeperThan(v, LIMITS.jsonDepth))
    throw badRequest("At least one of the requested keys corresponds to a non-json value.");
  return v;
}

export function kvRoutes(deps: { kv: KvStore }) {
  const { kv } = deps;
  const app = new Hono<EdgeEnv>();
  const ns = (c: Context<EdgeEnv>) => {
    const found = kv.getNamespace(c.var.account.id, c.req.param("ns")!);
    if (!found) throw new CfApiError(404, CF_CODES.KV_NAMESPACE_NOT_FOUND, `namespace not found: ${c.req.param("ns")}`);
    return found;
  };
  const nsJson = (n: { id: string; title: string }) => ({ id: n.id, title: n.title, supports_url_encoding: true });

  app.post("/storage/kv/namespaces", async (c) => {
    const title = checkKvTitle((await readJsonObject(c)).title);
    if (kv.namespaceByTitle(c.var.account.id, title)) {
      throw new CfApiError(400, CF_CODES.KV_DUPLICATE_TITLE, "a namespace with this account ID and title already exists");
    }
    const created = { id: hexId(), account_id: c.var.account.id, title, created_on: new Date().toISOString() };
    kv.insertNamespace(created);
    return ok(c, nsJson(created));
  });
  app.get("/storage/kv/namespaces", (c) => {
    const { page, perPage, offset } = pageParams(c, 20, 1000);
    const order = c.req.query("order") === "title" ? "title" : "id";
    const items = kv.listNamespaces(c.var.account.id, order, c.req.query("direction") === "desc", perPage, offset);
    return ok(c, items.map(nsJson), pageInfo(page, perPage, items.length, kv.countNamespaces(c.var.account.id)));
  });
  app.get("/storage/kv/namespaces/:ns", (c) => ok(c, nsJson(ns(c))));
  app.put("/storage/kv/namespaces/:ns", async (c) => {
    // Cloudflare answers a rename with the renamed namespace (`wrangler kv namespace rename` prints
    // its title), and a title another namespace holds is refused as on create.
    const found = ns(c);
    const title = checkKvTitle((await readJsonObject(c)).title);
    const holder = kv.namespaceByTitle(c.var.account.id, title);
    if (holder && holder.id !== found.id)
      throw new CfApiError(400, CF_CODES.KV_DUPLICATE_TITLE, "a namespace with this account ID and title already exists");
    kv.renameNamespace(found.id, title);
    return ok(c, nsJson({ id: found.id, title }));
  });
  app.delete("/storage/kv/namespaces/:ns", (c) => {
    kv.deleteNamespace(ns(c).id);
    return ok(c, null);
  });

  /** The entry's expiration, refused in the KV service's words (kv-put-checks.ts); a TTL wins over a time. */
  function expirationFrom(expiration: unknown, ttl: unknown): number | null {
    const text = (v: unknown) => (v === undefined || v === null || v === "" ? null : String(v));
    const q = { expiration: text(expiration), expirationTtl: text(ttl), metadata: null };
    const refusal = kvPutRefusal(q, 0, kv.nowSec());
    if (refusal) throw badRequest(refusal.message);
    if (q.expirationTtl !== null) return kv.nowSec() + Number.parseInt(q.expirationTtl, 10);
    if (q.expiration !== null) return Number.parseInt(q.expiration, 10);
    return null;
  }

  app.put("/storage/kv/namespaces/:ns/values/:key{.+}", async (c) => {
    const found = ns(c);
    const key = c.req.param("key");
    checkKvKey(key);
    let value: Uint8Array;
    let metadata: unknown = null;
    const ct = c.req.header("content-type") ?? "";
    if (ct.toLowerCase().startsWith("multipart/form-data")) {
      let form: FormData;
      try {
        form = await c.req.raw.formData();
      } catch {
        throw badRequest("Could not parse the multipart body (fields: value, metadata).");
      }
      const v = form.get("value");
      if (v === null) throw badRequest("The multipart body needs a `value` field.");
      value = typeof v === "string" ? new TextEncoder().encode(v) : new Uint8Array(await v.arrayBuffer());
      const m = form.get("metadata");
      if (m !== null) {
        metadata = parseJson(typeof m === "string" ? m : await m.text(), "`metadata`");
      }
    } else {
      value = new Uint8Array(await c.req.arrayBuffer());
    }
    checkKvValue(value.byteLength);
    checkKvMetadata(metadata);
    const entry: KvEntry = { key, value, metadata, expiration: expirationFrom(c.req.query("expiration"), c.req.query("expiration_ttl")) };
    kv.put(found.id, entry);
    return ok(c, {});
  });
  app.get("/storage/kv/namespaces/:ns/values/:key{.+}", (c) => {
    checkKvKey(c.req.param("key"));
    const e = kv.get(ns(c).id, c.req.param("key"));
    if (!e) throw new CfApiError(404, CF_CODES.KV_KEY_NOT_FOUND, "get: 'key not found'");
    const headers: Record<string, string> = { "content-type": "application/octet-stream" };
    if (e.expiration !== null) headers.expiration = String(e.expiration);
    return new Response(e.value, { headers });
  });
  app.delete("/storage/kv/namespaces/:ns/values/:key{.+}", (c) => {
    checkKvKey(c.req.param("key"));
    kv.delete(ns(c).id, c.req.param("key"));
    return ok(c, null);
  });
  app.get("/storage/kv/namespaces/:ns/metadata/:key{.+}", (c) => {
    checkKvKey(c.req.param("key"));
    const e = kv.get(ns(c).id, c.req.param("key"));
    if (!e) throw new CfApiError(404, CF_CODES.KV_KEY_NOT_FOUND, "metadata: 'key not found'");
    return ok(c, e.metadata);
  });
  app.get("/storage/kv/namespaces/:ns/keys", (c) => {
    const found = ns(c);
    const limit = Math.min(1000, Math.max(10, Number(c.req.query("limit") ?? 1000) || 1000));
    const prefix = c.req.query("prefix") ?? "";
    const { entries: page, cursor: next } = kv.listPage(found.id, prefix, c.req.query("cursor") ?? "", limit);
    const result = page.map(kvKeyJson);
    return ok(c, result, { count: result.length, cursor: next });
  });

  type BulkItem = { key?: unknown; value?: unknown; base64?: unknown; expiration?: unknown; expiration_ttl?: unknown; metadata?: unknown };
  app.put("/storage/kv/namespaces/:ns/bulk", async (c) => {
    const found = ns(c);
    const body = await readJson(c);
    if (!Array.isArray(body))
      throw badRequest("Bulk writes take an array of {key, value, base64?, expiration?, expiration_ttl?, metadata?}.");
    checkBulkCount(body.length, LIMITS.kv.bulkWritePairs, "key/value pairs");
    // Every pair is checked before any is written: a bad one leaves the namespace as it was.
    const entries: KvEntry[] = (body as BulkItem[]).map((item, i) => {
      if (item === null || typeof item !== "object" || typeof item.key !== "string" || typeof item.value !== "string")
        throw badRequest(`Item ${i} needs a string key and a string value.`);
      checkKvKey(item.key);
      const value = item.base64 === true ? new Uint8Array(Buffer.from(item.value, "base64")) : new TextEncoder().encode(item.value);
      checkKvValue(value.byteLength);
      checkKvMetadata(item.metadata);
      return { key: item.key, value, metadata: item.metadata ?? null, expiration: expirationFrom(item.expiration, item.expiration_ttl) };
    });
    for (const e of entries) kv.put(found.id, e);
    return ok(c, { successful_key_count: entries.length, unsuccessful_keys: [] });
  });
  const bulkDelete = async (c: Context<EdgeEnv>) => {
    const found = ns(c);
    const body = await readJson(c);
    if (!Array.isArray(body) || !body.every((k) => typeof k === "string")) throw badRequest("Bulk deletes take an array of key names.");
    checkBulkCount(body.length, LIMITS.kv.bulkDeleteKeys, "keys");
    for (const k of body as string[]) checkKvKey(k);
    for (const k of body as string[]) kv.delete(found.id, k);
    return ok(c, { successful_key_count: body.length, unsuccessful_keys: [] });
  };
  app.delete("/storage/kv/namespaces/:ns/bulk", bulkDelete);
  app.post("/storage/kv/namespaces/:ns/bulk/delete", bulkDelete);
  app.post("/storage/kv/namespaces/:ns/bulk/get", async (c) => {
    const found = ns(c);
    const body = (await readJsonObject(c)) as { keys?: unknown; type?: unknown; withMetadata?: unknown };
    if (!Array.isArray(body.keys) || !body.keys.every((k) => typeof k === "string")) throw badRequest("Bulk gets take {keys: string[]}.");
    if (body.keys.length === 0) throw badRequest("You must request a minimum of 1 key.");
    checkBulkCount(body.keys.length, LIMITS.kv.bulkGetKeys, "keys");
    if (body.type !== undefined && body.type !== "text" && body.type !== "json")
      throw badRequest(`"${String(body.type)}" is not a valid type. Use "json" or "text".`);
    for (const k of body.keys as string[]) checkKvKey(k);
    const values: Record<string, unknown> = {};
    for (const k of body.keys as string[]) {
      const e = kv.get(found.id, k);
      let v: unknown = null;
      if (e) {
        const text = new TextDecoder().decode(e.value);
        v = body.type === "json" ? storedJson(text) : text;
      }
      values[k] = body.withMetadata ? { value: v, metadata: e?.metadata ?? null } : v;
    }
    return ok(c, { values });
  });
  return app;
}
