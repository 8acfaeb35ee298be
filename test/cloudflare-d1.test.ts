// Our client's D1 calls against the real local edge: databases (paging, by uuid and by name,
// create options, delete), query and raw (params, batches, multi-statement SQL), Time Travel
// (a bookmark before a change restores to before it), the migrations table written as wrangler
// writes it, and the refusals (7404, 7502, SQL errors) as CboErrors with the right flags. A
// Worker bound to the database then reads what the client wrote.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { D1Database } from "../src/cloudflare/index.ts";
import { createMigrationsTableSql, listAppliedMigrationsSql } from "../src/cloudflare/index.ts";
import { startTestEdge, type TestEdge } from "./support/edge.ts";
import { expectClassified, failure, recordingClient, summary, type RecordingClient } from "./support/cf-client.ts";
import { eventually, httpGet } from "./support/http.ts";

describe("Cloudflare client: D1", () => {
  let t: TestEdge;
  let c: RecordingClient;
  let db: D1Database;

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu"] });
    c = recordingClient(t);
  });
  afterAll(async () => t?.dispose());

  it("create (location hint, jurisdiction), get by uuid and by name, list through every page", async () => {
    db = await c.cf.createD1Database("orders", { primaryLocationHint: "enam" });
    expect(db).toMatchObject({ name: "orders", uuid: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect((await c.cf.getD1Database(db.uuid))?.running_in_region).toBe("ENAM");
    expect((await c.cf.getD1Database("orders"))?.uuid).toBe(db.uuid);
    const eu = await c.cf.createD1Database("orders-eu", { jurisdiction: "eu" });
    expect((await c.cf.getD1Database(eu.uuid))?.jurisdiction).toBe("eu");
    for (let i = 0; i < 25; i++) await c.cf.createD1Database(`bulk-${i}`);
    const before = c.endpoints.length;
    const all = await c.cf.listD1Databases();
    expect(all.map((d) => d.name).sort()).toEqual(["orders", "orders-eu", ...Array.from({ length: 25 }, (_, i) => `bulk-${i}`)].sort());
    // One page: result_info.total_pages says it is the last, so no empty page is asked for.
    expect(c.endpoints.slice(before)).toEqual(["d1.databases.list"]);
    expect((await c.cf.listD1Databases({ name: "orders-eu" })).map((d) => d.uuid)).toEqual([eu.uuid]);
  });

  it("a missing database is null on get, 7404 on delete; a taken name is 7502; neither is retryable", async () => {
    expect(await c.cf.getD1Database("no-such-db")).toBeNull();
    expect(await c.cf.getD1Database("00000000-0000-4000-8000-000000000000")).toBeNull();
    expect(summary(await failure(c.cf.deleteD1Database("00000000-0000-4000-8000-000000000000")))).toEqual({
      code: "ERR_CF_REQUEST",
      retryable: false,
      status: 404,
      cf: 7404,
    });
    const taken = await failure(c.cf.createD1Database("orders"));
    expect(summary(taken)).toEqual({ code: "ERR_CF_REQUEST", retryable: false, status: 400, cf: 7502 });
    expect(taken.hint).toMatch(/already exists/);
    expect(summary(await failure(c.cf.createD1Database("bad name!")))).toMatchObject({
      code: "ERR_CF_REQUEST",
      retryable: false,
      status: 400,
    });
  });

  it("query: multi-statement SQL answers one result per statement; params; a batch is one transaction", async () => {
    const results = await c.cf.queryD1(
      db.uuid,
      "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT);\nINSERT INTO items (name) VALUES ('a'), ('b');\nSELECT name FROM items ORDER BY id",
    );
    expect(results).toHaveLength(3);
    expect(results[2]!.results).toEqual([{ name: "a" }, { name: "b" }]);
    expect(results[1]!.meta?.changes).toBe(2);
    const [one] = await c.cf.queryD1(db.uuid, { sql: "SELECT id FROM items WHERE name = ?", params: ["b"] });
    expect(one!.results).toEqual([{ id: 2 }]);
    const batch = await c.cf.queryD1(db.uuid, [
      { sql: "INSERT INTO items (name) VALUES (?)", params: ["c"] },
      { sql: "SELECT COUNT(*) AS n FROM items" },
    ]);
    expect(batch[1]!.results).toEqual([{ n: 3 }]);
    // A failing statement undoes the whole batch.
    const broken = await failure(c.cf.queryD1(db.uuid, [{ sql: "INSERT INTO items (name) VALUES ('d')" }, { sql: "SELEC nonsense" }]));
    expect(summary(broken)).toMatchObject({ code: "ERR_CF_REQUEST", retryable: false, status: 400, cf: 7500 });
    expect(broken.message).toMatch(/syntax error/);
    expect((await c.cf.queryD1(db.uuid, "SELECT COUNT(*) AS n FROM items"))[0]!.results).toEqual([{ n: 3 }]);
  });

  it("raw: columns apart from rows", async () => {
    const [r] = await c.cf.rawD1(db.uuid, { sql: "SELECT id, name FROM items WHERE id <= ? ORDER BY id", params: [2] });
    expect(r!.results).toEqual({
      columns: ["id", "name"],
      rows: [
        [1, "a"],
        [2, "b"],
      ],
    });
    expect((await c.cf.rawD1(db.uuid, "SELECT 1 AS x; SELECT 2 AS y")).map((x) => x.results.columns)).toEqual([["x"], ["y"]]);
  });

  it("Time Travel: a bookmark taken before a change restores the database to before it; the restore can be undone", async () => {
    const before = await c.cf.getD1Bookmark(db.uuid);
    expect(before).toMatch(/^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/);
    await c.cf.queryD1(db.uuid, "DELETE FROM items; INSERT INTO items (name) VALUES ('after')");
    expect(await c.cf.getD1Bookmark(db.uuid, { at: new Date() })).not.toBe(before);
    const restored = await c.cf.restoreD1(db.uuid, before);
    expect(restored.bookmark).toBeTruthy();
    expect((await c.cf.queryD1(db.uuid, "SELECT name FROM items ORDER BY id"))[0]!.results).toEqual([
      { name: "a" },
      { name: "b" },
      { name: "c" },
    ]);
    await c.cf.restoreD1(db.uuid, restored.previous_bookmark!);
    expect((await c.cf.queryD1(db.uuid, "SELECT name FROM items"))[0]!.results).toEqual([{ name: "after" }]);
    expect(summary(await failure(c.cf.restoreD1(db.uuid, "00000000-00000000-00000000-" + "0".repeat(32))))).toMatchObject({
      code: "ERR_CF_REQUEST",
      retryable: false,
      status: 400,
    });
    await expect(c.cf.getD1Bookmark(db.uuid, { at: "not a time" })).rejects.toThrow(/not a moment in time/);
    expect(summary(await failure(c.cf.getD1Bookmark(db.uuid, { at: new Date(Date.now() - 40 * 86_400_000) })))).toMatchObject({
      code: "ERR_CF_REQUEST",
      status: 400,
    });
  });

  it("migrations: the table wrangler keeps, read without creating it, applied one file per request", async () => {
    expect(await c.cf.listAppliedD1Migrations(db.uuid)).toEqual([]);
    // Reading did not create the table.
    expect((await c.cf.queryD1(db.uuid, "SELECT name FROM sqlite_master WHERE name = 'd1_migrations'"))[0]!.results).toEqual([]);
    await c.cf.ensureD1MigrationsTable(db.uuid);
    await c.cf.applyD1Migration(db.uuid, { name: "0001_users.sql", sql: "CREATE TABLE users (id INTEGER PRIMARY KEY);" });
    await c.cf.applyD1Migration(db.uuid, { name: "0002_it's.sql", sql: "ALTER TABLE users ADD COLUMN email TEXT;" });
    expect(await c.cf.listAppliedD1Migrations(db.uuid)).toEqual(["0001_users.sql", "0002_it's.sql"]);
    // A failing migration leaves neither its change nor its row behind.
    const failed = await failure(
      c.cf.applyD1Migration(db.uuid, { name: "0003_bad.sql", sql: "CREATE TABLE ok_part (x);\nCREATE TABLE users (id);" }),
    );
    expect(summary(failed)).toMatchObject({ code: "ERR_CF_REQUEST", cf: 7500 });
    expect(await c.cf.listAppliedD1Migrations(db.uuid)).toEqual(["0001_users.sql", "0002_it's.sql"]);
    expect((await c.cf.queryD1(db.uuid, "SELECT name FROM sqlite_master WHERE name = 'ok_part'"))[0]!.results).toEqual([]);
    // The table is wrangler's own: its columns, and a custom table name quoted as wrangler quotes it.
    expect((await c.cf.rawD1(db.uuid, listAppliedMigrationsSql("d1_migrations")))[0]!.results.columns).toEqual([
      "id",
      "name",
      "applied_at",
    ]);
    await c.cf.ensureD1MigrationsTable(db.uuid, 'odd "name"');
    await c.cf.applyD1Migration(db.uuid, { name: "1.sql", sql: "SELECT 1;", table: 'odd "name"' });
    expect(await c.cf.listAppliedD1Migrations(db.uuid, 'odd "name"')).toEqual(["1.sql"]);
    expect(createMigrationsTableSql("x")).toContain('CREATE TABLE IF NOT EXISTS "x"(');
  });

  it("an outage and a rate limit end, once retries run out, as retryable errors", async () => {
    const once = recordingClient(t, t.region, { maxRetries: 1 });
    await t.edge.setFault(t.region.name, { outage: true });
    try {
      const down = await failure(once.cf.queryD1(db.uuid, "SELECT 1"));
      expect(summary(down)).toEqual({ code: "ERR_CF_UNAVAILABLE", retryable: true, status: 503, cf: 10503 });
      expect(down.details?.attempts).toBe(2);
      expect(once.endpoints).toEqual(["d1.query", "d1.query"]);
      await t.edge.setFault(t.region.name, { rateLimit: { limit: 0, windowSec: 1 } });
      expect(summary(await failure(once.cf.getD1Database(db.uuid)))).toEqual({
        code: "ERR_CF_RATE_LIMITED",
        retryable: true,
        status: 429,
        cf: 971,
      });
    } finally {
      await t.edge.setFault(t.region.name, null);
    }
    expect(await c.cf.getD1Database(db.uuid)).not.toBeNull();
  });

  it("a Worker bound to the database reads what the client wrote", async () => {
    const code = `export default { async fetch(req, env) { const r = await env.DB.prepare("SELECT COUNT(*) AS n FROM users").first(); return Response.json(r); } };`;
    await c.cf.deploy("d1-reader", {
      mainModule: "index.js",
      modules: [{ name: "index.js", content: code }],
      compatibilityDate: "2025-01-01",
      bindings: [{ type: "d1", name: "DB", id: db.uuid }],
    });
    await c.cf.queryD1(db.uuid, "INSERT INTO users (email) VALUES ('a@example.com'), ('b@example.com')");
    await eventually(async () => {
      const r = await httpGet(t.region.port, "d1-reader.localhost");
      expect(JSON.parse(r.body)).toEqual({ n: 2 });
    });
    await c.cf.deleteScript("d1-reader", { force: true });
    await c.cf.deleteD1Database(db.uuid);
    expect(await c.cf.getD1Database(db.uuid)).toBeNull();
  });

  it("names every request's endpoint class", () => {
    expectClassified(c.endpoints, [
      "d1.databases.create",
      "d1.databases.get",
      "d1.databases.list",
      "d1.databases.delete",
      "d1.query",
      "d1.raw",
      "d1.time-travel.bookmark",
      "d1.time-travel.restore",
      "workers.versions.create",
      "workers.scripts.put",
      "workers.deployments.list",
      "workers.scripts.delete",
    ]);
  });
});
