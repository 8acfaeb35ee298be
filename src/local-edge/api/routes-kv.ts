// /accounts/:acct/storage/kv/*: namespaces, values (raw bytes, not the envelope), keys, bulk.
import { Hono, type Context } from "hono";
import { hexId } from "../../kit/ids.ts";
import { kvKeyJson, type KvStore } from "../state/kv.ts";
import type { KvEntry } from "../state/model.ts";
import { CF_CODES, CfApiError, badRequest, ok, pageInfo, pageParams, readJson } from "./envelope.ts";
import type { EdgeEnv } from "./routes-workers.ts";

const MAX_VALUE_BYTES = 25 * 1024 * 1024;

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
    const body = (await readJson(c)) as { title?: unknown };
    if (typeof body.title !== "string" || body.title.trim() === "") throw badRequest("A namespace needs a non-empty `title`.");
    if (kv.namespaceByTitle(c.var.account.id, body.title)) {
      throw new CfApiError(400, CF_CODES.KV_DUPLICATE_TITLE, "a namespace with this account ID and title already exists");
    }
    const created = { id: hexId(), account_id: c.var.account.id, title: body.title, created_on: new Date().toISOString() };
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
    const found = ns(c);
    const body = (await readJson(c)) as { title?: unknown };
    if (typeof body.title !== "string" || body.title.trim() === "") throw badRequest("A namespace needs a non-empty `title`.");
    kv.renameNamespace(found.id, body.title);
    return ok(c, null);
  });
  app.delete("/storage/kv/namespaces/:ns", (c) => {
    kv.deleteNamespace(ns(c).id);
    return ok(c, null);
  });

  function expirationFrom(expiration: unknown, ttl: unknown): number | null {
    if (expiration !== undefined && expiration !== null && expiration !== "") {
      const e = Number(expiration);
      if (!Number.isInteger(e) || e <= kv.nowSec()) throw badRequest("expiration must be a UNIX time (seconds) in the future.");
      return e;
    }
    if (ttl !== undefined && ttl !== null && ttl !== "") {
      const t = Number(ttl);
      if (!Number.isInteger(t) || t < 60) throw badRequest("expiration_ttl must be an integer of at least 60 seconds.");
      return kv.nowSec() + t;
    }
    return null;
  }

  app.put("/storage/kv/namespaces/:ns/values/:key{.+}", async (c) => {
    const found = ns(c);
    const key = c.req.param("key");
    if (key.length === 0 || new TextEncoder().encode(key).length > 512) throw badRequest("Keys must be 1 to 512 bytes long.");
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
        try {
          metadata = JSON.parse(typeof m === "string" ? m : await m.text());
        } catch {
          throw badRequest("`metadata` must be JSON.");
        }
      }
    } else {
      value = new Uint8Array(await c.req.arrayBuffer());
    }
    if (value.byteLength > MAX_VALUE_BYTES) throw new CfApiError(413, 10033, "Value is larger than 25 MiB.");
    const entry: KvEntry = { key, value, metadata, expiration: expirationFrom(c.req.query("expiration"), c.req.query("expiration_ttl")) };
    kv.put(found.id, entry);
    return ok(c, {});
  });
  app.get("/storage/kv/namespaces/:ns/values/:key{.+}", (c) => {
    const e = kv.get(ns(c).id, c.req.param("key"));
    if (!e) throw new CfApiError(404, CF_CODES.KV_KEY_NOT_FOUND, "get: 'key not found'");
    const headers: Record<string, string> = { "content-type": "application/octet-stream" };
    if (e.expiration !== null) headers.expiration = String(e.expiration);
    return new Response(e.value, { headers });
  });
  app.delete("/storage/kv/namespaces/:ns/values/:key{.+}", (c) => {
    kv.delete(ns(c).id, c.req.param("key"));
    return ok(c, null);
  });
  app.get("/storage/kv/namespaces/:ns/metadata/:key{.+}", (c) => {
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
    if (!Array.isArray(body)) throw badRequest("Bulk writes take an array of {key, value, base64?, expiration?, expiration_ttl?, metadata?}.");
    if (body.length > 10_000) throw badRequest("At most 10,000 pairs per bulk write.");
    const entries: KvEntry[] = (body as BulkItem[]).map((item, i) => {
      if (typeof item?.key !== "string" || item.key === "" || typeof item.value !== "string") throw badRequest(`Item ${i} needs a string key and a string value.`);
      const value = item.base64 === true ? new Uint8Array(Buffer.from(item.value, "base64")) : new TextEncoder().encode(item.value);
      return { key: item.key, value, metadata: item.metadata ?? null, expiration: expirationFrom(item.expiration, item.expiration_ttl) };
    });
    for (const e of entries) kv.put(found.id, e);
    return ok(c, { successful_key_count: entries.length, unsuccessful_keys: [] });
  });
  const bulkDelete = async (c: Context<EdgeEnv>) => {
    const found = ns(c);
    const body = await readJson(c);
    if (!Array.isArray(body) || !body.every((k) => typeof k === "string")) throw badRequest("Bulk deletes take an array of key names.");
    for (const k of body as string[]) kv.delete(found.id, k);
    return ok(c, { successful_key_count: body.length, unsuccessful_keys: [] });
  };
  app.delete("/storage/kv/namespaces/:ns/bulk", bulkDelete);
  app.post("/storage/kv/namespaces/:ns/bulk/delete", bulkDelete);
  app.post("/storage/kv/namespaces/:ns/bulk/get", async (c) => {
    const found = ns(c);
    const body = (await readJson(c)) as { keys?: unknown; type?: unknown; withMetadata?: unknown };
    if (!Array.isArray(body.keys) || !body.keys.every((k) => typeof k === "string")) throw badRequest("Bulk gets take {keys: string[]}.");
    const values: Record<string, unknown> = {};
    for (const k of body.keys as string[]) {
      const e = kv.get(found.id, k);
      let v: unknown = null;
      if (e) {
        const text = new TextDecoder().decode(e.value);
        v = body.type === "json" ? JSON.parse(text) : text;
      }
      values[k] = body.withMetadata ? { value: v, metadata: e?.metadata ?? null } : v;
    }
    return ok(c, { values });
  });
  return app;
}
