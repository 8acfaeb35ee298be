// D1, R2 and queue bindings inside Workers on the local edge (real workerd through the router and
// the env shim): the Worker's answers prove each binding works both ways with the REST API, a
// message a producer sends reaches the consumer Worker's queue() handler, the env shim reaches
// exported classes, and everything survives an edge restart. Uploads go through our own client;
// test/wrangler-data.test.ts drives the same with real wrangler.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCloudflareClient, type CloudflareClient } from "../src/cloudflare/index.ts";
import { startLocalEdge } from "../src/local-edge/index.ts";
import { startTestEdge, type TestEdge } from "./support/edge.ts";
import { eventually, httpGet } from "./support/http.ts";

const API = `
import { WorkerEntrypoint } from "cloudflare:workers";
export class Stats extends WorkerEntrypoint {
  async fetch() { return Response.json(await this.env.DB.prepare("SELECT count(*) AS n FROM notes").first()); }
}
export default {
  async fetch(req, env) {
    const u = new URL(req.url);
    const q = u.searchParams;
    switch (u.pathname) {
      case "/d1/add": {
        const r = await env.DB.prepare("INSERT INTO notes (body, data) VALUES (?1, ?2)").bind(q.get("body"), new Uint8Array([1, 2, 3])).run();
        return Response.json({ changes: r.meta.changes, id: r.meta.last_row_id, success: r.success });
      }
      case "/d1/all": return Response.json((await env.DB.prepare("SELECT id, body, data FROM notes ORDER BY id").all()).results);
      case "/d1/first": return Response.json({ body: await env.DB.prepare("SELECT body FROM notes WHERE id = ?").bind(Number(q.get("id"))).first("body") });
      case "/d1/raw": return Response.json(await env.DB.prepare("SELECT id, body FROM notes ORDER BY id LIMIT 1").raw({ columnNames: true }));
      case "/d1/batch": {
        try {
          await env.DB.batch([env.DB.prepare("INSERT INTO notes (body) VALUES ('in-batch')"), env.DB.prepare("INSERT INTO nope VALUES (1)")]);
          return new Response("no error");
        } catch (e) { return Response.json({ error: e.message, count: await env.DB.prepare("SELECT count(*) AS n FROM notes WHERE body = 'in-batch'").first("n") }); }
      }
      case "/d1/exec": return Response.json(await env.DB.exec("CREATE TABLE IF NOT EXISTS t2 (x)\\nINSERT INTO t2 VALUES (1)"));
      case "/d1/session": {
        const s = env.DB.withSession();
        const before = s.getBookmark();
        await s.prepare("SELECT 1").run();
        return Response.json({ before, after: s.getBookmark() });
      }
      case "/d1/bad-bind": try { env.DB.prepare("SELECT ?").bind(undefined); return new Response("bound"); } catch (e) { return new Response(e.message); }
      case "/r2/put": {
        const o = await env.BUCKET.put(q.get("key"), req.body ?? q.get("v"), { httpMetadata: { contentType: "text/plain" }, customMetadata: { by: "worker" } });
        return Response.json({ key: o.key, size: o.size, etag: o.etag, httpEtag: o.httpEtag });
      }
      case "/r2/get": {
        const o = await env.BUCKET.get(q.get("key"), q.has("range") ? { range: { offset: 1, length: 3 } } : undefined);
        if (!o) return new Response("missing", { status: 404 });
        const h = new Headers(); o.writeHttpMetadata(h);
        return Response.json({ text: await o.text(), size: o.size, range: o.range ?? null, type: h.get("content-type"), custom: o.customMetadata, uploaded: o.uploaded instanceof Date });
      }
      case "/r2/head": { const o = await env.BUCKET.head(q.get("key")); return Response.json(o ? { size: o.size, etag: o.etag } : null); }
      case "/r2/list": {
        const l = await env.BUCKET.list({ prefix: q.get("prefix") ?? undefined, delimiter: q.get("delimiter") ?? undefined, include: ["customMetadata"] });
        return Response.json({ keys: l.objects.map((o) => o.key), prefixes: l.delimitedPrefixes, truncated: l.truncated, custom: l.objects[0]?.customMetadata ?? null });
      }
      case "/r2/delete": await env.BUCKET.delete(q.get("key")); return new Response("deleted");
      case "/send": {
        const r = await env.JOBS.send({ note: q.get("note"), at: new Date(0), tags: new Set(["a"]) }, { contentType: "v8" });
        await env.JOBS.sendBatch([{ body: q.get("note") + "-text", contentType: "text" }, { body: { json: q.get("note") } }]);
        return Response.json({ backlog: r.metadata.metrics.backlogCount });
      }
      default: return new Response("api");
    }
  },
};`;

const CONSUMER = `
export default {
  async fetch(req, env) { return Response.json((await env.DB.prepare("SELECT body, kind, attempts FROM received ORDER BY id").all()).results); },
  async queue(batch, env) {
    for (const m of batch.messages) {
      const b = m.body;
      const kind = typeof b === "string" ? "text" : b.tags instanceof Set && b.at instanceof Date ? "v8" : "json";
      const body = typeof b === "string" ? b : (b.note ?? b.json + "-json");
      if (body === "flaky" && m.attempts < 2) { m.retry(); continue; }
      await env.DB.prepare("INSERT INTO received (body, kind, attempts, queue) VALUES (?, ?, ?, ?)").bind(body, kind, m.attempts, batch.queue).run();
      m.ack();
    }
  },
};`;

describe("D1, R2 and queue bindings in Workers", () => {
  let t: TestEdge;
  let cf: CloudflareClient;
  let dbId = "";
  const api = async <T = unknown>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${t.edge.apiUrl}/accounts/${t.region.accountId}${path}`, {
      method,
      headers: { authorization: `Bearer ${t.edge.token}`, ...headers },
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    });
    return {
      status: res.status,
      json: (await res.json()) as { success: boolean; result: T; errors: Array<{ code: number; message: string }> },
    };
  };
  const get = async (worker: string, path: string) => {
    const res = await httpGet(t.region.port, `${worker}.localhost`, { path });
    expect(res.status, res.body).toBe(200);
    return JSON.parse(res.body);
  };
  const deployAll = async () => {
    await cf.deploy("api", {
      mainModule: "index.js",
      modules: [{ name: "index.js", content: API }],
      compatibilityDate: "2025-01-01",
      bindings: [
        { type: "d1", name: "DB", id: dbId },
        { type: "r2_bucket", name: "BUCKET", bucket_name: "files" },
        { type: "queue", name: "JOBS", queue_name: "jobs" },
      ],
    });
    await cf.deploy("consumer", {
      mainModule: "index.js",
      modules: [{ name: "index.js", content: CONSUMER }],
      compatibilityDate: "2025-01-01",
      bindings: [{ type: "d1", name: "DB", id: dbId }],
    });
  };

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu", "us"] });
    cf = createCloudflareClient({ baseUrl: t.edge.apiUrl, apiToken: t.edge.token, accountId: t.region.accountId });
    dbId = (await api<{ uuid: string }>("POST", "/d1/database", { name: "notes-db" })).json.result.uuid;
    const made = await api("POST", `/d1/database/${dbId}/query`, {
      sql: "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, data BLOB); CREATE TABLE received (id INTEGER PRIMARY KEY, body TEXT, kind TEXT, attempts INTEGER, queue TEXT);",
    });
    expect(made.json.success, JSON.stringify(made.json)).toBe(true);
    expect((await api("POST", "/r2/buckets", { name: "files" })).json.success).toBe(true);
    const queue = (await api<{ queue_id: string }>("POST", "/queues", { queue_name: "jobs" })).json.result;
    const consumer = await api("POST", `/queues/${queue.queue_id}/consumers`, {
      type: "worker",
      script_name: "consumer",
      settings: { batch_size: 5, max_wait_time_ms: 200, max_retries: 3 },
    });
    expect(consumer.json.success, JSON.stringify(consumer.json)).toBe(true);
    await deployAll();
  });
  afterAll(async () => t?.dispose());

  it("D1: prepare/bind/run/all/first/raw from the Worker, and the REST API sees the same rows", async () => {
    expect(await get("api", "/d1/add?body=hello")).toEqual({ changes: 1, id: 1, success: true });
    expect(await get("api", "/d1/all")).toEqual([{ id: 1, body: "hello", data: [1, 2, 3] }]);
    expect(await get("api", "/d1/first?id=1")).toEqual({ body: "hello" });
    expect(await get("api", "/d1/raw")).toEqual([
      ["id", "body"],
      [1, "hello"],
    ]);
    const rest = await api<Array<{ results: unknown }>>("POST", `/d1/database/${dbId}/query`, {
      sql: "SELECT body FROM notes WHERE id = ?",
      params: ["1"],
    });
    expect(rest.json.result[0].results).toEqual([{ body: "hello" }]);
    await api("POST", `/d1/database/${dbId}/query`, { sql: "INSERT INTO notes (body) VALUES ('from-rest')" });
    expect((await get("api", "/d1/all")).map((r: { body: string }) => r.body)).toEqual(["hello", "from-rest"]);
  });

  it("D1: batch() is one transaction, exec() runs line by line, sessions carry bookmarks, bind() checks types", async () => {
    const b = await get("api", "/d1/batch");
    expect(b.error).toMatch(/^D1_ERROR: no such table: nope: SQLITE_ERROR/);
    expect(b.count).toBe(0);
    expect(await get("api", "/d1/exec")).toMatchObject({ count: 2 });
    const s = await get("api", "/d1/session");
    expect(s.before).toBeNull();
    expect(s.after).toMatch(/^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/);
    const bad = await httpGet(t.region.port, "api.localhost", { path: "/d1/bad-bind" });
    expect(bad.body).toBe("D1_TYPE_ERROR: Type 'undefined' not supported for value 'undefined'");
  });

  it("the env shim reaches exported classes (this.env) and modules that import env from cloudflare:workers", async () => {
    // A Worker whose default export is a class, so workerd constructs it with env, and whose
    // helper module reads the module-level env.
    await cf.deploy("stats", {
      mainModule: "src/index.js",
      compatibilityDate: "2025-01-01",
      bindings: [{ type: "d1", name: "DB", id: dbId }],
      modules: [
        {
          name: "src/index.js",
          content: `import { WorkerEntrypoint } from "cloudflare:workers"; import { titles } from "./lib/titles.js";
          export default class extends WorkerEntrypoint { async fetch() { return Response.json({ ...(await this.env.DB.prepare("SELECT count(*) AS n FROM notes").first()), titles: await titles() }); } }`,
        },
        {
          name: "src/lib/titles.js",
          content: `import { env } from "cloudflare:workers";
          export const titles = async () => (await env.DB.prepare("SELECT body FROM notes ORDER BY id").raw()).flat();`,
        },
      ],
    });
    expect(await get("stats", "/")).toEqual({ n: 2, titles: ["hello", "from-rest"] });
  });

  it("R2: put/get (with range)/head/list/delete from the Worker, and REST reads what the Worker wrote", async () => {
    const put = await get("api", "/r2/put?key=docs/a.txt&v=hello-r2");
    expect(put).toMatchObject({ key: "docs/a.txt", size: 8, etag: createHash("md5").update("hello-r2").digest("hex") });
    expect(put.httpEtag).toBe(`"${put.etag}"`);
    expect(await get("api", "/r2/get?key=docs/a.txt")).toEqual({
      text: "hello-r2",
      size: 8,
      range: null,
      type: "text/plain",
      custom: { by: "worker" },
      uploaded: true,
    });
    expect((await get("api", "/r2/get?key=docs/a.txt&range=1")).text).toBe("ell");
    expect(await get("api", "/r2/head?key=docs/a.txt")).toEqual({ size: 8, etag: put.etag });
    const rest = await fetch(`${t.edge.apiUrl}/accounts/${t.region.accountId}/r2/buckets/files/objects/docs/a.txt`, {
      headers: { authorization: `Bearer ${t.edge.token}` },
    });
    expect(await rest.text()).toBe("hello-r2");
    // And the Worker reads what REST wrote.
    await fetch(`${t.edge.apiUrl}/accounts/${t.region.accountId}/r2/buckets/files/objects/docs/b c.txt`, {
      method: "PUT",
      headers: { authorization: `Bearer ${t.edge.token}`, "content-type": "text/markdown" },
      body: "from rest",
    });
    expect(await get("api", `/r2/get?key=${encodeURIComponent("docs/b c.txt")}`)).toMatchObject({
      text: "from rest",
      type: "text/markdown",
    });
    await get("api", "/r2/put?key=top.txt&v=x");
    expect(await get("api", "/r2/list?delimiter=/")).toEqual({
      keys: ["top.txt"],
      prefixes: ["docs/"],
      truncated: false,
      custom: { by: "worker" },
    });
    expect((await get("api", "/r2/list?prefix=docs/")).keys).toEqual(["docs/a.txt", "docs/b c.txt"]);
    await httpGet(t.region.port, "api.localhost", { path: "/r2/delete?key=top.txt" });
    expect((await httpGet(t.region.port, "api.localhost", { path: "/r2/get?key=top.txt" })).status).toBe(404);
  });

  it("Queues: messages the producer sends reach the consumer's queue() in every content type, with retries", async () => {
    expect((await get("api", "/send?note=first")).backlog).toBeGreaterThanOrEqual(1);
    await get("api", "/send?note=flaky");
    const received = await eventually(async () => {
      const rows = (await get("consumer", "/")) as Array<{ body: string; kind: string; attempts: number }>;
      expect(rows).toHaveLength(6);
      return rows;
    }, 15_000);
    const byBody = Object.fromEntries(received.map((r) => [r.body, r]));
    expect(byBody["first"]).toMatchObject({ kind: "v8", attempts: 1 });
    expect(byBody["first-text"]).toMatchObject({ kind: "text" });
    expect(byBody["first-json"]).toMatchObject({ kind: "json" });
    expect(byBody["flaky"]).toMatchObject({ kind: "v8", attempts: 2 }); // retried once, then acked
    // Nothing is left behind once every message is acked.
    const q = (await api<Array<{ queue_id: string; consumers: unknown[]; producers: unknown[] }>>("GET", "/queues?name=jobs")).json
      .result[0];
    expect(q.consumers[0]).toMatchObject({ script: "consumer", settings: { batch_size: 5, max_wait_time_ms: 200 } });
    expect(q.producers).toEqual([{ type: "worker", script: "api" }]);
  });

  it("each region's account has its own resources: the us account sees none of eu's, and binding to them is refused", async () => {
    const us = t.edge.region("us");
    const list = await fetch(`${t.edge.apiUrl}/accounts/${us.accountId}/d1/database`, {
      headers: { authorization: `Bearer ${t.edge.token}` },
    });
    expect(((await list.json()) as { result: unknown[] }).result).toEqual([]);
    const usCf = createCloudflareClient({ baseUrl: t.edge.apiUrl, apiToken: t.edge.token, accountId: us.accountId });
    const err = await usCf
      .deploy("api", {
        mainModule: "index.js",
        modules: [{ name: "index.js", content: API }],
        compatibilityDate: "2025-01-01",
        bindings: [{ type: "d1", name: "DB", id: dbId }],
      })
      .catch((e: unknown) => e as Error);
    expect(String(err)).toContain("binding DB of type d1 must have a valid `id` specified");
  });

  it("state survives an edge restart: D1 rows, R2 objects and queued messages", async () => {
    // Pause delivery so a message is still queued when the edge stops.
    const q = (await api<Array<{ queue_id: string }>>("GET", "/queues?name=jobs")).json.result[0];
    await api("PATCH", `/queues/${q.queue_id}`, { settings: { delivery_paused: true } });
    await get("api", "/send?note=after-restart");
    await t.edge.close();
    t.edge = await startLocalEdge({ dataDir: t.dataDir, regions: ["eu", "us"] });
    t.region = t.edge.regions[0]!;
    expect((await get("api", "/d1/all")).map((r: { body: string }) => r.body)).toEqual(["hello", "from-rest"]);
    expect((await get("api", "/r2/get?key=docs/a.txt")).text).toBe("hello-r2");
    await api("PATCH", `/queues/${q.queue_id}`, { settings: { delivery_paused: false } });
    await eventually(async () => {
      const rows = (await get("consumer", "/")) as Array<{ body: string }>;
      expect(rows.map((r) => r.body)).toContain("after-restart");
    }, 15_000);
  });
});
