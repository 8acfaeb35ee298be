// The D1, R2, Queues and cron REST endpoints of the local edge answer with the shapes and the
// error codes wrangler branches on (CLOUDFLARE-API-FLEET.md §1-3, §5, §11), and queue delivery
// honours max_retries and the dead-letter queue.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCloudflareClient } from "../src/cloudflare/index.ts";
import { startTestEdge, type TestEdge } from "./support/edge.ts";
import { eventually, httpGet } from "./support/http.ts";

type Envelope<T = unknown> = {
  success: boolean;
  result: T;
  errors: Array<{ code: number; message: string }>;
  result_info?: Record<string, number>;
};
// The parts of the edge's results these tests read (the full shapes: CLOUDFLARE-API-FLEET.md).
type D1Database = { uuid: string; name: string };
type D1StatementResult = { results: unknown; meta: Record<string, unknown> };
type Bookmark = { bookmark: string };
type Queue = { queue_id: string; queue_name: string };
type Consumer = { consumer_id: string; settings: { batch_size: number } };
type Schedules = { schedules: Array<{ cron: string }> };

describe("D1, R2, Queues and cron endpoints of the local edge", () => {
  let t: TestEdge;
  const call = async <T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
    acct = t.region.accountId,
  ) => {
    const res = await fetch(`${t.edge.apiUrl}/accounts/${acct}${path}`, {
      method,
      headers: { authorization: `Bearer ${t.edge.token}`, ...headers },
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Envelope<T> };
  };
  const errorOf = (r: { status: number; body: Envelope }) => ({ status: r.status, code: r.body.errors[0]?.code });

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu", "us"] });
  });
  afterAll(async () => t?.dispose());

  it("D1: create, name and jurisdiction rules, 7502 for a taken name, 7404 (HTTP 404) for a missing one", async () => {
    const made = await call<D1Database>("POST", "/d1/database", { name: "db-a", primary_location_hint: "weur" });
    expect(made.body.result).toMatchObject({ name: "db-a", version: "production", created_in_region: "WEUR" });
    expect(errorOf(await call("POST", "/d1/database", { name: "db-a" }))).toEqual({ status: 400, code: 7502 });
    expect(errorOf(await call("POST", "/d1/database", { name: "bad name!" }))).toEqual({ status: 400, code: 7400 });
    expect(errorOf(await call("POST", "/d1/database", { name: "db-b", jurisdiction: "mars" }))).toEqual({ status: 400, code: 7400 });
    expect(errorOf(await call("GET", "/d1/database/00000000-0000-0000-0000-000000000000"))).toEqual({ status: 404, code: 7404 });
    // By name as well as by uuid; ?fields= narrows the answer as wrangler's name lookup asks.
    expect((await call("GET", "/d1/database/db-a?fields=uuid,name")).body.result).toEqual({ uuid: made.body.result.uuid, name: "db-a" });
    expect((await call("GET", `/d1/database/${made.body.result.uuid}`)).body.result).toMatchObject({
      num_tables: 0,
      file_size: expect.any(Number),
    });
    // Another region's account does not see it.
    expect(errorOf(await call("GET", "/d1/database/db-a", undefined, {}, t.edge.region("us").accountId))).toEqual({
      status: 404,
      code: 7404,
    });
  });

  it("D1: list pages the way wrangler reads it (stops at a short page)", async () => {
    for (let i = 0; i < 11; i++) await call("POST", "/d1/database", { name: `page-${String(i).padStart(2, "0")}` });
    const p1 = await call("GET", "/d1/database?per_page=10&page=1");
    const p2 = await call("GET", "/d1/database?per_page=10&page=2");
    expect(p1.body.result).toHaveLength(10);
    expect(p2.body.result).toHaveLength(2);
    expect(p2.body.result_info).toMatchObject({ page: 2, per_page: 10, total_count: 12 });
    expect((await call<D1Database[]>("GET", "/d1/database?name=page-03")).body.result.map((d) => d.name)).toEqual(["page-03"]);
  });

  it("D1: query answers per statement, raw answers columns and rows, batch is one transaction, SQL errors are 7500", async () => {
    const id = (await call<D1Database>("GET", "/d1/database/db-a")).body.result.uuid;
    const q = await call<D1StatementResult[]>("POST", `/d1/database/${id}/query`, {
      sql: "CREATE TABLE t (a INTEGER, b TEXT);\nINSERT INTO t VALUES (1, 'x'), (2, 'y');\nSELECT * FROM t ORDER BY a",
    });
    expect(q.body.result).toHaveLength(3);
    expect(q.body.result[2]).toMatchObject({
      success: true,
      results: [
        { a: 1, b: "x" },
        { a: 2, b: "y" },
      ],
      meta: { rows_read: 2, changed_db: false },
    });
    expect(q.body.result[1].meta).toMatchObject({ changes: 2, changed_db: true, served_by_primary: true });
    const raw = await call<D1StatementResult[]>("POST", `/d1/database/${id}/raw`, { sql: "SELECT a, b FROM t WHERE a = ?", params: ["2"] });
    expect(raw.body.result[0].results).toEqual({ columns: ["a", "b"], rows: [[2, "y"]] });
    const failed = await call("POST", `/d1/database/${id}/query`, {
      batch: [{ sql: "INSERT INTO t VALUES (3, 'z')" }, { sql: "SELEC 1" }],
    });
    expect(errorOf(failed)).toEqual({ status: 400, code: 7500 });
    expect(failed.body.errors[0]!.message).toMatch(/syntax error.*SQLITE_ERROR/);
    expect(
      (await call<D1StatementResult[]>("POST", `/d1/database/${id}/query`, { sql: "SELECT count(*) AS n FROM t" })).body.result[0].results,
    ).toEqual([{ n: 2 }]);
    // A body without a Content-Type (wrangler sends none on some calls) is still JSON.
    const noCt = await call<D1StatementResult[]>("POST", `/d1/database/${id}/query`, JSON.stringify({ sql: "SELECT 1 AS one" }), {
      "content-type": "text/plain;charset=UTF-8",
    });
    expect(noCt.body.result[0].results).toEqual([{ one: 1 }]);
  });

  it("D1 Time Travel: a bookmark for now (bare ?) and for a timestamp; restore refuses a bookmark it never gave", async () => {
    const id = (await call<D1Database>("GET", "/d1/database/db-a")).body.result.uuid;
    const now = (await call<Bookmark>("GET", `/d1/database/${id}/time_travel/bookmark?`)).body.result.bookmark;
    const past = (
      await call<Bookmark>(
        "GET",
        `/d1/database/${id}/time_travel/bookmark?timestamp=${encodeURIComponent(new Date(Date.now() - 3600_000).toISOString())}`,
      )
    ).body.result.bookmark;
    expect(past < now).toBe(true);
    const other = (await call<D1Database>("GET", "/d1/database/page-00")).body.result.uuid;
    const foreign = (await call<Bookmark>("GET", `/d1/database/${other}/time_travel/bookmark?`)).body.result.bookmark;
    expect(
      errorOf(
        await call("POST", `/d1/database/${id}/time_travel/restore?bookmark=${foreign}`, undefined, { "content-type": "application/json" }),
      ),
    ).toEqual({ status: 400, code: 7400 });
    const old = new Date(Date.now() - 40 * 24 * 3600_000).toISOString();
    expect(errorOf(await call("GET", `/d1/database/${id}/time_travel/bookmark?timestamp=${old}`))).toEqual({ status: 400, code: 7400 });
    // Restoring to before the table existed, and back.
    const r = await call("POST", `/d1/database/${id}/time_travel/restore?bookmark=${past}`, undefined, {
      "content-type": "application/json",
    });
    expect(r.body.result).toMatchObject({ previous_bookmark: now, message: expect.stringContaining(past) });
    expect(errorOf(await call("POST", `/d1/database/${id}/query`, { sql: "SELECT * FROM t" }))).toEqual({ status: 400, code: 7500 });
    await call("POST", `/d1/database/${id}/time_travel/restore?bookmark=${now}`, undefined, { "content-type": "application/json" });
    expect(
      (await call<D1StatementResult[]>("POST", `/d1/database/${id}/query`, { sql: "SELECT count(*) AS n FROM t" })).body.result[0].results,
    ).toEqual([{ n: 2 }]);
  });

  it("D1: delete, then 7404", async () => {
    const id = (await call<D1Database>("GET", "/d1/database/page-10")).body.result.uuid;
    expect((await call("DELETE", `/d1/database/${id}`)).body).toMatchObject({ success: true, result: null });
    expect(errorOf(await call("GET", `/d1/database/${id}`))).toEqual({ status: 404, code: 7404 });
  });

  it("R2: 10005 bad name, 10073 taken, 10006 missing (per jurisdiction), 10008 not empty; objects are raw bytes", async () => {
    expect(errorOf(await call("POST", "/r2/buckets", { name: "Bad_Name" }))).toEqual({ status: 400, code: 10005 });
    expect((await call("POST", "/r2/buckets", { name: "assets", locationHint: "enam" })).body.result).toMatchObject({
      name: "assets",
      location: "ENAM",
      storage_class: "Standard",
    });
    expect(errorOf(await call("POST", "/r2/buckets", { name: "assets" }))).toEqual({ status: 409, code: 10073 });
    expect(errorOf(await call("GET", "/r2/buckets/assets", undefined, { "cf-r2-jurisdiction": "eu" }))).toEqual({
      status: 404,
      code: 10006,
    });
    expect((await call("POST", "/r2/buckets", { name: "assets" }, { "cf-r2-jurisdiction": "eu" })).body.result).toMatchObject({
      jurisdiction: "eu",
    });
    expect((await call<{ buckets: Array<{ name: string }> }>("GET", "/r2/buckets")).body.result.buckets.map((b) => b.name)).toEqual([
      "assets",
    ]);
    const put = await fetch(`${t.edge.apiUrl}/accounts/${t.region.accountId}/r2/buckets/assets/objects/a/b.txt`, {
      method: "PUT",
      headers: { authorization: `Bearer ${t.edge.token}` },
      body: "bytes",
    });
    expect(put.status).toBe(200);
    expect(((await put.json()) as Envelope).result).toMatchObject({ key: "a/b.txt", size: 5 });
    expect(errorOf(await call("DELETE", "/r2/buckets/assets"))).toEqual({ status: 409, code: 10008 });
    const missing = await fetch(`${t.edge.apiUrl}/accounts/${t.region.accountId}/r2/buckets/assets/objects/none`, {
      headers: { authorization: `Bearer ${t.edge.token}` },
    });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as Envelope).errors[0]!.code).toBe(10007);
    await call("DELETE", "/r2/buckets/assets/objects/a/b.txt");
    expect((await call("DELETE", "/r2/buckets/assets")).body.success).toBe(true);
  });

  it("Queues: settings (100128) and consumer (100127) validation, name filter, one consumer per queue (11004)", async () => {
    expect(errorOf(await call("POST", "/queues", { queue_name: "q1", settings: { delivery_delay: 90_000 } }))).toEqual({
      status: 400,
      code: 100128,
    });
    const q = (await call<Queue>("POST", "/queues", { queue_name: "q1", settings: { message_retention_period: 600 } })).body.result;
    expect(q).toMatchObject({
      queue_name: "q1",
      settings: { delivery_delay: 0, delivery_paused: false, message_retention_period: 600 },
      consumers: [],
      producers: [],
    });
    expect(errorOf(await call("POST", "/queues", { queue_name: "q1" }))).toEqual({ status: 409, code: 11009 });
    await call("POST", "/queues", { queue_name: "q2" });
    const filtered = await call<Queue[]>("GET", "/queues?page=1&name=q2");
    expect(filtered.body.result.map((x) => x.queue_name)).toEqual(["q2"]);
    expect(filtered.body.result_info).toMatchObject({ total_count: 1 });
    expect(
      errorOf(await call("POST", `/queues/${q.queue_id}/consumers`, { type: "worker", script_name: "w", settings: { batch_size: 500 } })),
    ).toEqual({ status: 400, code: 100127 });
    const c = (
      await call<Consumer>("POST", `/queues/${q.queue_id}/consumers`, {
        type: "worker",
        script_name: "w",
        settings: { batch_size: 50, max_wait_time_ms: 2000 },
      })
    ).body.result;
    expect(c).toMatchObject({ script: "w", settings: { batch_size: 50, max_wait_time_ms: 2000, max_retries: 3 } });
    // A second consumer: Cloudflare's consumer_exists (workers-sdk#5347).
    expect(errorOf(await call("POST", `/queues/${q.queue_id}/consumers`, { type: "worker", script_name: "other" }))).toEqual({
      status: 400,
      code: 11004,
    });
    const updated = await call<Consumer>("PUT", `/queues/${q.queue_id}/consumers/${c.consumer_id}`, {
      type: "worker",
      script_name: "w",
      settings: { batch_size: 5 },
    });
    expect(updated.body.result.settings.batch_size).toBe(5);
    expect((await call("DELETE", `/queues/${q.queue_id}/consumers/${c.consumer_id}`)).body.success).toBe(true);
    expect(errorOf(await call("GET", "/queues/ffffffffffffffffffffffffffffffff"))).toEqual({ status: 404, code: 11000 });
  });

  it("Queues: a message whose consumer keeps failing is retried max_retries times, then lands in the dead-letter queue", async () => {
    const cf = createCloudflareClient({ baseUrl: t.edge.apiUrl, apiToken: t.edge.token, accountId: t.region.accountId });
    const work = (await call<Queue>("POST", "/queues", { queue_name: "work" })).body.result;
    const dead = (await call<Queue>("POST", "/queues", { queue_name: "dead" })).body.result;
    await call("POST", "/queues", { queue_name: "held" });
    const log = (await call<D1Database>("POST", "/d1/database", { name: "log" })).body.result.uuid;
    await call("POST", `/d1/database/${log}/query`, { sql: "CREATE TABLE seen (queue TEXT, body TEXT, attempts INTEGER, at INTEGER)" });
    await cf.deploy("worker", {
      mainModule: "index.js",
      compatibilityDate: "2025-01-01",
      bindings: [
        { type: "queue", name: "WORK", queue_name: "work" },
        { type: "queue", name: "HELD", queue_name: "held" },
        { type: "d1", name: "LOG", id: log },
      ],
      modules: [
        {
          name: "index.js",
          content: `export default {
        async fetch(req, env) {
          const p = new URL(req.url).pathname;
          if (p === "/send") { await env.WORK.send("doomed", { contentType: "text" }); return new Response("sent"); }
          if (p === "/send-held") { await env.HELD.send("held", { contentType: "text", delaySeconds: 1 }); return new Response("sent"); }
          return Response.json((await env.LOG.prepare("SELECT queue, body, attempts, at FROM seen").all()).results);
        },
        async queue(batch, env) {
          for (const m of batch.messages) await env.LOG.prepare("INSERT INTO seen VALUES (?, ?, ?, ?)").bind(batch.queue, m.body, m.attempts, Date.now()).run();
          if (batch.queue === "work") throw new Error("always fails");
        },
      }`,
        },
      ],
    });
    const settings = { batch_size: 1, max_wait_time_ms: 0, max_retries: 2, retry_delay: 0 };
    await call("POST", `/queues/${work.queue_id}/consumers`, {
      type: "worker",
      script_name: "worker",
      dead_letter_queue: "dead",
      settings,
    });
    await call("POST", `/queues/${dead.queue_id}/consumers`, { type: "worker", script_name: "worker", settings });
    expect((await httpGet(t.region.port, "worker.localhost", { path: "/send" })).body).toBe("sent");
    const seen = await eventually(async () => {
      const rows = JSON.parse((await httpGet(t.region.port, "worker.localhost")).body) as Array<{
        queue: string;
        body: string;
        attempts: number;
        at: number;
      }>;
      expect(rows.some((r) => r.queue === "dead")).toBe(true);
      return rows;
    }, 15_000);
    expect(seen.map(({ at: _, ...r }) => r)).toEqual([
      { queue: "work", body: "doomed", attempts: 1 },
      { queue: "work", body: "doomed", attempts: 2 },
      { queue: "work", body: "doomed", attempts: 3 },
      { queue: "dead", body: "doomed", attempts: 1 },
    ]);

    // A region in an injected outage delivers nothing; the message waits, uncounted, until it ends.
    const held = (await call<Queue[]>("GET", "/queues?name=held")).body.result[0];
    await call("POST", `/queues/${held.queue_id}/consumers`, { type: "worker", script_name: "worker", settings });
    expect((await httpGet(t.region.port, "worker.localhost", { path: "/send-held" })).body).toBe("sent");
    await t.edge.setFault("eu", { outage: true });
    await new Promise((r) => setTimeout(r, 2500));
    const cleared = Date.now();
    await t.edge.setFault("eu", null);
    const row = await eventually(async () => {
      const rows = JSON.parse((await httpGet(t.region.port, "worker.localhost")).body) as Array<{
        queue: string;
        attempts: number;
        at: number;
      }>;
      const r = rows.find((x) => x.queue === "held");
      expect(r).toBeDefined();
      return r!;
    }, 15_000);
    expect(row.attempts).toBe(1);
    expect(row.at).toBeGreaterThanOrEqual(cleared);

    // A message pushed over the REST API (queues.messages.push) reaches the Worker consumer too.
    expect((await call("POST", `/queues/${dead.queue_id}/messages`, { body: "over-http", content_type: "text" })).status).toBe(200);
    await eventually(async () => {
      const rows = JSON.parse((await httpGet(t.region.port, "worker.localhost")).body) as Array<{ queue: string; body: string }>;
      expect(rows.filter((r) => r.body === "over-http")).toEqual([
        expect.objectContaining({ queue: "dead", body: "over-http", attempts: 1 }),
      ]);
    }, 15_000);
  });

  it("crons: PUT schedules validates and replaces, GET answers them with timestamps, an invalid cron is 10100", async () => {
    const cf = createCloudflareClient({ baseUrl: t.edge.apiUrl, apiToken: t.edge.token, accountId: t.region.accountId });
    await cf.deploy("cronny", {
      mainModule: "index.js",
      compatibilityDate: "2025-01-01",
      modules: [{ name: "index.js", content: "export default { fetch() { return new Response('x') } }" }],
    });
    const put = await call<Schedules>("PUT", "/workers/scripts/cronny/schedules", [{ cron: "*/5 * * * *" }, { cron: "0  3 * * MON#2" }], {
      "content-type": "application/json",
    });
    expect(put.body.result.schedules.map((s) => s.cron)).toEqual(["*/5 * * * *", "0 3 * * MON#2"]);
    const got = (await call<Schedules>("GET", "/workers/scripts/cronny/schedules")).body.result.schedules;
    expect(got[0]).toMatchObject({ cron: "*/5 * * * *", created_on: expect.any(String), modified_on: expect.any(String) });
    const bad = await call("PUT", "/workers/scripts/cronny/schedules", [{ cron: "*/5 * * *" }], { "content-type": "application/json" });
    expect(errorOf(bad)).toEqual({ status: 400, code: 10100 });
    expect((await call<Schedules>("GET", "/workers/scripts/cronny/schedules")).body.result.schedules).toHaveLength(2);
    await call("PUT", "/workers/scripts/cronny/schedules", [], { "content-type": "application/json" });
    expect((await call<Schedules>("GET", "/workers/scripts/cronny/schedules")).body.result.schedules).toEqual([]);
  });
});
