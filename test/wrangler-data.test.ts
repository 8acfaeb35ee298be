// Real wrangler (the latest pinned, and 4.86) against the local edge for D1, R2, Queues and cron
// triggers: each command as a user runs it, then what the deployed Workers serve proves it took
// effect (the D1 row, the R2 object, a queued message arriving at the consumer, the cron firing),
// what `d1 info` and `r2 bucket info` count, and that all of it survives an edge restart.
import { readFile, rm, writeFile } from "node:fs/promises";
import { DatabaseSync } from "node:sqlite";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalEdge } from "../src/local-edge/index.ts";
import { startTestEdge, type TestEdge } from "./support/edge.ts";
import { eventually, httpGet } from "./support/http.ts";
import { rawRequest } from "./support/raw-http.ts";
import { runCbo } from "./support/run-cbo.ts";
import { createWranglerProject, describeRun, parseJsonOutput, type WranglerProject, type WranglerVersion } from "./support/wrangler.ts";

const API_WORKER = `
export default {
  async fetch(req, env) {
    const u = new URL(req.url);
    if (u.pathname === "/notes") return Response.json((await env.DB.prepare("SELECT body FROM notes ORDER BY id").all()).results.map((r) => r.body));
    if (u.pathname === "/file") { const o = await env.FILES.get("docs/a.txt"); return new Response(o ? await o.text() : "missing", { status: o ? 200 : 404 }); }
    if (u.pathname === "/send") { await env.JOBS.send({ note: u.searchParams.get("n") }); return new Response("sent"); }
    if (u.pathname === "/crons") return Response.json((await env.DB.prepare("SELECT cron FROM crons").all()).results.map((r) => r.cron));
    return new Response("api");
  },
  async scheduled(controller, env) {
    await env.DB.prepare("INSERT INTO crons (cron) VALUES (?)").bind(controller.cron).run();
  },
};`;

const CONSUMER_WORKER = `
export default {
  async fetch(req, env) { return Response.json((await env.DB.prepare("SELECT note FROM received ORDER BY id").all()).results.map((r) => r.note)); },
  async queue(batch, env) {
    for (const m of batch.messages) await env.DB.prepare("INSERT INTO received (note) VALUES (?)").bind(m.body.note).run();
  },
};`;

const MIGRATIONS: Record<string, string> = {
  "0001_notes.sql": "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);\nCREATE TABLE crons (cron TEXT);",
  "0002_received.sql": "CREATE TABLE received (id INTEGER PRIMARY KEY, note TEXT);\nCREATE INDEX notes_body ON notes (body);",
};

describe.each<WranglerVersion>(["latest", "4.86"])("wrangler %s: D1, R2, Queues and crons against the local edge", (version) => {
  let t: TestEdge;
  let api: WranglerProject;
  let consumer: WranglerProject;
  let dbId = "";
  let bookmark = "";

  const d1Config = () => [{ binding: "DB", database_name: "notes-db", database_id: dbId, migrations_dir: "migrations" }];
  const apiConfig = () => ({
    name: "api",
    main: "src/index.js",
    compatibility_date: "2025-01-01",
    d1_databases: d1Config(),
    r2_buckets: [{ binding: "FILES", bucket_name: "files" }],
    queues: { producers: [{ binding: "JOBS", queue: "jobs" }] },
    triggers: { crons: ["*/5 * * * *", "0 3 * * mon"] },
  });
  const select = async (sql: string) => {
    const r = await api.ok(["d1", "execute", "DB", "--remote", "--command", sql, "--json"]);
    return parseJsonOutput<Array<{ results: Array<Record<string, unknown>> }>>(r)[0]!.results;
  };
  const serve = async (worker: string, p: string) => {
    const res = await httpGet(t.region.port, `${worker}.localhost`, { path: p });
    if (res.status !== 200) throw new Error(`${worker}${p} answered ${res.status}: ${res.body}`);
    return JSON.parse(res.body) as unknown;
  };

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu"] });
    api = await createWranglerProject(path.join(t.dataDir, "api"), t.edge, t.region.accountId, { wrangler: version });
    consumer = await createWranglerProject(path.join(t.dataDir, "consumer"), t.edge, t.region.accountId, { wrangler: version });
  });
  afterAll(async () => t?.dispose());

  it("d1 create, then d1 list shows it", async () => {
    const r = await api.ok(["d1", "create", "notes-db"]);
    dbId = /"?database_id"?\s*[:=]\s*"([0-9a-f-]{36})"/.exec(r.stdout)?.[1] ?? "";
    expect(dbId, describeRun(r)).toMatch(/^[0-9a-f-]{36}$/);
    const again = await api.run(["d1", "create", "notes-db"]);
    expect(again.code, describeRun(again)).not.toBe(0);
    expect(again.stdout + again.stderr).toMatch(/already exists/);
    const list = parseJsonOutput<Array<{ uuid: string; name: string }>>(await api.ok(["d1", "list", "--json"]));
    expect(list).toContainEqual(expect.objectContaining({ uuid: dbId, name: "notes-db" }));
  });

  it("d1 migrations apply --remote applies both files; migrations list --remote has nothing pending", async () => {
    await api.writeConfig(apiConfig());
    for (const [name, sql] of Object.entries(MIGRATIONS)) await api.writeFile(`migrations/${name}`, sql);
    const before = await api.ok(["d1", "migrations", "list", "DB", "--remote"]);
    expect(before.stdout, describeRun(before)).toContain("0002_received.sql");
    const r = await api.ok(["d1", "migrations", "apply", "DB", "--remote"]);
    expect(r.stdout, describeRun(r)).toContain("0001_notes.sql");
    const after = await api.ok(["d1", "migrations", "list", "DB", "--remote"]);
    expect(after.stdout, describeRun(after)).toMatch(/No migrations to apply/);
    expect((await select("SELECT name FROM d1_migrations ORDER BY id")).map((x) => x.name)).toEqual([
      "0001_notes.sql",
      "0002_received.sql",
    ]);
  });

  it("d1 execute --remote writes, then reads back; --file goes through the import flow", async () => {
    await api.ok([
      "d1",
      "execute",
      "DB",
      "--remote",
      "--command",
      "INSERT INTO notes (body) VALUES ('first'); INSERT INTO notes (body) VALUES ('second')",
    ]);
    expect((await select("SELECT body FROM notes ORDER BY id")).map((x) => x.body)).toEqual(["first", "second"]);
    await api.writeFile("seed.sql", "INSERT INTO notes (body) VALUES ('from-file');\nINSERT INTO notes (body) VALUES ('it''s; fine');\n");
    const r = await api.ok(["d1", "execute", "DB", "--remote", "--file", "seed.sql", "--yes"]);
    expect(r.stdout, describeRun(r)).toMatch(/Executed 2 queries/);
    expect((await select("SELECT body FROM notes ORDER BY id")).map((x) => x.body)).toEqual(["first", "second", "from-file", "it's; fine"]);
    const bad = await api.run(["d1", "execute", "DB", "--remote", "--command", "INSERT INTO nope VALUES (1)"]);
    expect(bad.code, describeRun(bad)).not.toBe(0);
    expect(bad.stdout + bad.stderr).toContain("no such table: nope");
  });

  it("d1 time-travel info gives a bookmark; restore to it brings back that moment's rows", async () => {
    const info = parseJsonOutput<{ bookmark: string }>(await api.ok(["d1", "time-travel", "info", "DB", "--json"]));
    bookmark = info.bookmark;
    expect(bookmark).toMatch(/^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/);
    await api.ok(["d1", "execute", "DB", "--remote", "--command", "DELETE FROM notes WHERE body = 'first'"]);
    expect((await select("SELECT count(*) AS n FROM notes"))[0]!.n).toBe(3);
    const restored = parseJsonOutput<{ bookmark: string; previous_bookmark: string }>(
      await api.ok(["d1", "time-travel", "restore", "DB", "--bookmark", bookmark, "--json"]),
    );
    expect(restored.previous_bookmark > bookmark).toBe(true);
    expect((await select("SELECT body FROM notes ORDER BY id")).map((x) => x.body)).toEqual(["first", "second", "from-file", "it's; fine"]);
  });

  it("d1 export --remote writes SQL that holds the schema and the rows", async () => {
    await api.ok(["d1", "export", "DB", "--remote", "--output", "dump.sql"]);
    const dump = await readFile(path.join(api.dir, "dump.sql"), "utf8");
    expect(dump).toContain("CREATE TABLE notes");
    expect(dump).toContain(`INSERT INTO "notes" ("id","body") VALUES(4,'it''s; fine');`);
  });

  it("d1 export of a database with an FTS5 table: D1's format refuses it (its dump would not import); sqlite3_cli_only writes the shell's .dump", async () => {
    await api.ok(["d1", "create", "search-db"]);
    await api.ok([
      "d1",
      "execute",
      "search-db",
      "--remote",
      "--command",
      "CREATE VIRTUAL TABLE docs USING fts5(body); INSERT INTO docs VALUES ('hello\nworld')",
    ]);
    const refused = await api.run(["d1", "export", "search-db", "--remote", "--output", "search.sql"]);
    expect(refused.code, describeRun(refused)).toBe(1);
    expect(refused.stdout + refused.stderr).toContain("D1 Export error: cannot export databases with Virtual Tables (fts5)");
    if (version === "4.86") return; // --compatibility came with 4.1xx
    await api.ok(["d1", "export", "search-db", "--remote", "--output", "search.sql", "--compatibility", "sqlite3_cli_only"]);
    const dump = await readFile(path.join(api.dir, "search.sql"), "utf8");
    expect(dump).toContain(
      "INSERT INTO sqlite_schema(type,name,tbl_name,rootpage,sql)VALUES('table','docs','docs',0,'CREATE VIRTUAL TABLE docs USING fts5(body)');",
    );
    // What the sqlite3 shell does with it: load it into a fresh file, then search it.
    const file = path.join(api.dir, "search.sqlite");
    const load = new DatabaseSync(file, { defensive: false });
    load.exec(dump);
    load.close();
    const db = new DatabaseSync(file, { readOnly: true });
    expect(
      db
        .prepare("SELECT body FROM docs WHERE docs MATCH 'world'")
        .all()
        .map((r) => r["body"]),
    ).toEqual(["hello\nworld"]);
    db.close();
  });

  it("r2 bucket create and r2 object put/get --remote, with and without a jurisdiction", async () => {
    await api.ok(["r2", "bucket", "create", "files"]);
    const dup = await api.run(["r2", "bucket", "create", "files"]);
    expect(dup.code, describeRun(dup)).not.toBe(0);
    await api.writeFile("a.txt", "hello from wrangler r2");
    await api.ok(["r2", "object", "put", "files/docs/a.txt", "--file", "a.txt", "--content-type", "text/plain", "--remote"]);
    const got = await api.ok(["r2", "object", "get", "files/docs/a.txt", "--remote", "--pipe"]);
    expect(got.stdout).toBe("hello from wrangler r2");
    // The eu jurisdiction is its own namespace of buckets.
    await api.ok(["r2", "bucket", "create", "files", "--jurisdiction", "eu"]);
    await api.ok(["r2", "object", "put", "files/docs/a.txt", "--file", "a.txt", "--jurisdiction", "eu", "--remote"]);
    const missing = await api.run(["r2", "object", "get", "files/none.txt", "--remote", "--pipe"]);
    expect(missing.code, describeRun(missing)).not.toBe(0);
  });

  // What these two check is the edge's own (its D1 history past 8 MiB, R2's 300 MiB object limit);
  // each costs seconds of data, so they are registered for one wrangler only, not skipped for the other.
  if (version === "latest") {
    it("d1 execute --remote past 8 MiB of changed pages (a Time Travel snapshot), then another write: both succeed", async () => {
      const blobs =
        "CREATE TABLE blobs (b BLOB); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10) INSERT INTO blobs SELECT randomblob(1000000) FROM n";
      await api.ok(["d1", "execute", "search-db", "--remote", "--command", blobs]);
      await api.ok(["d1", "execute", "search-db", "--remote", "--command", "INSERT INTO blobs VALUES (x'00')"]);
      const n = await api.ok(["d1", "execute", "search-db", "--remote", "--command", "SELECT count(*) AS n FROM blobs", "--json"]);
      expect(parseJsonOutput<Array<{ results: Array<{ n: number }> }>>(n)[0]!.results).toEqual([{ n: 11 }]);
    });

    it("r2 object put --remote of a 110 MB file (past the API's 100 MiB, within R2's 300 MiB) is stored whole; over 300 MiB is a 413", async () => {
      await api.ok(["r2", "bucket", "create", "big-files"]);
      await writeFile(path.join(api.dir, "big.bin"), Buffer.alloc(110_000_000, 7));
      await api.ok(["r2", "object", "put", "big-files/big.bin", "--file", "big.bin", "--remote"], { timeoutMs: 120_000 });
      await rm(path.join(api.dir, "big.bin"));
      const objectUrl = `${t.edge.apiUrl}/accounts/${t.region.accountId}/r2/buckets/big-files/objects/big.bin`;
      const auth = { authorization: `Bearer ${t.edge.token}` };
      const got = await fetch(objectUrl, { headers: auth });
      expect(got.headers.get("content-length")).toBe("110000000");
      await got.body?.cancel();
      // Refused from its Content-Length, before any of it is read.
      const tooBig = await rawRequest<{ errors: Array<{ code: number }> }>(t.edge.apiUrl, {
        method: "PUT",
        path: `${new URL(objectUrl).pathname.replace("big.bin", "huge.bin")}`,
        headers: { ...auth, "content-length": String(300 * 1024 * 1024 + 1) },
      });
      expect(tooBig.status).toBe(413);
      expect(tooBig.body.errors[0]!.code).toBe(10413);
      expect((await fetch(objectUrl, { method: "DELETE", headers: auth })).status).toBe(200);
      expect((await fetch(objectUrl.replace("/objects/big.bin", ""), { method: "DELETE", headers: auth })).status).toBe(200);
    });
  }

  it("queues create", async () => {
    await api.ok(["queues", "create", "jobs"]);
    const dup = await api.run(["queues", "create", "jobs"]);
    expect(dup.code, describeRun(dup)).not.toBe(0);
  });

  it("deploy of a Worker with D1 + R2 + queue producer + crons serves the D1 rows and the R2 object", async () => {
    await api.writeConfig(apiConfig());
    await api.writeSource(API_WORKER);
    await api.ok(["deploy"]);
    await eventually(async () => expect(await serve("api", "/notes")).toEqual(["first", "second", "from-file", "it's; fine"]));
    const file = await httpGet(t.region.port, "api.localhost", { path: "/file" });
    expect(file.body).toBe("hello from wrangler r2");
    const res = await fetch(`${t.edge.apiUrl}/accounts/${t.region.accountId}/workers/scripts/api/schedules`, {
      headers: { authorization: `Bearer ${t.edge.token}` },
    });
    const schedules = ((await res.json()) as { result: { schedules: Array<{ cron: string }> } }).result.schedules;
    expect(schedules.map((s) => s.cron)).toEqual(["*/5 * * * *", "0 3 * * mon"]);
  });

  it("d1 info counts the last 24 hours' queries (API and binding alike); r2 bucket info shows what the bucket holds", async () => {
    type Info = {
      read_queries_24h: number;
      write_queries_24h: number;
      rows_read_24h: number;
      rows_written_24h: number;
      num_tables: number;
    };
    const info = async () => parseJsonOutput<Info>(await api.ok(["d1", "info", "notes-db", "--json"]));
    const before = await info();
    expect(before.write_queries_24h, "migrations, inserts and the import were writes").toBeGreaterThan(5);
    expect(before.read_queries_24h).toBeGreaterThan(0);
    await api.ok(["d1", "execute", "DB", "--remote", "--command", "UPDATE notes SET body = body WHERE id = 1"]);
    expect(await serve("api", "/notes")).toHaveLength(4);
    const after = await info();
    // The UPDATE (one row written) through the API, the Worker's SELECT of 4 rows through its binding.
    expect(after).toMatchObject({
      write_queries_24h: before.write_queries_24h + 1,
      rows_written_24h: before.rows_written_24h + 1,
      read_queries_24h: before.read_queries_24h + 1,
      rows_read_24h: before.rows_read_24h + 1 + 4,
      num_tables: before.num_tables,
    });

    const bucket = await api.ok(["r2", "bucket", "info", "files"]);
    expect(bucket.stdout, describeRun(bucket)).toMatch(/object_count:\s+1\n/);
    expect(bucket.stdout, describeRun(bucket)).toMatch(/bucket_size:\s+\d+ B/);
    expect(bucket.stdout, describeRun(bucket)).not.toMatch(/bucket_size:\s+0 B/);
    await api.ok(["r2", "object", "put", "files/docs/b.txt", "--file", "a.txt", "--jurisdiction", "eu", "--remote"]);
    const eu = await api.ok(["r2", "bucket", "info", "files", "--jurisdiction", "eu"]);
    expect(eu.stdout, describeRun(eu)).toMatch(/object_count:\s+2\n/);
  });

  it("d1 insights lists each query with its runs, rows and time, sorted as asked", async () => {
    type Insight = { query: string; numberOfTimesRun: number; totalRowsRead: number; totalRowsWritten: number; totalDurationMs: number };
    const insights = async (...args: string[]) =>
      parseJsonOutput<Insight[]>(await api.ok(["d1", "insights", "notes-db", "--json", ...args]));
    const byCount = await insights("--sort-by", "count", "--limit", "50");
    const update = byCount.find((q) => q.query === "UPDATE notes SET body = body WHERE id = 1");
    expect(update, JSON.stringify(byCount)).toMatchObject({ numberOfTimesRun: 1, totalRowsWritten: 1 });
    // The Worker's SELECT through its binding, and the test's own through the API: one text, counted together.
    const select = byCount.find((q) => q.query === "SELECT body FROM notes ORDER BY id");
    expect(select!.numberOfTimesRun).toBeGreaterThanOrEqual(2);
    expect(select!.totalRowsRead).toBeGreaterThanOrEqual(4);
    const runs = byCount.map((q) => q.numberOfTimesRun);
    expect(runs).toEqual([...runs].sort((a, b) => b - a));
    expect(byCount[0]!.numberOfTimesRun).toBeGreaterThan(update!.numberOfTimesRun);
    const byWrites = await insights("--sort-by", "writes", "--sort-direction", "ASC", "--limit", "1");
    expect(byWrites).toHaveLength(1);
    expect(byWrites[0]!.totalRowsWritten).toBe(Math.min(...byCount.map((q) => q.totalRowsWritten)));
  });

  it("deploy of a queue consumer: a message the producer sends arrives at the consumer", async () => {
    await consumer.writeConfig({
      name: "consumer",
      main: "src/index.js",
      compatibility_date: "2025-01-01",
      d1_databases: d1Config(),
      queues: { consumers: [{ queue: "jobs", max_batch_size: 2, max_batch_timeout: 1 }] },
    });
    await consumer.writeSource(CONSUMER_WORKER);
    await consumer.ok(["deploy"]);
    const res = await httpGet(t.region.port, "api.localhost", { path: "/send?n=hello-queue" });
    expect(res.body).toBe("sent");
    await eventually(async () => expect(await serve("consumer", "/")).toEqual(["hello-queue"]), 15_000);
    // A redeploy with other batch settings updates the same consumer (wrangler's PUT path).
    await consumer.writeConfig({
      name: "consumer",
      main: "src/index.js",
      compatibility_date: "2025-01-01",
      d1_databases: d1Config(),
      queues: { consumers: [{ queue: "jobs", max_batch_size: 3, max_batch_timeout: 1, max_retries: 5 }] },
    });
    await consumer.ok(["deploy"]);
    const q = await fetch(`${t.edge.apiUrl}/accounts/${t.region.accountId}/queues?name=jobs`, {
      headers: { authorization: `Bearer ${t.edge.token}` },
    });
    const consumers = ((await q.json()) as { result: Array<{ consumers: Array<{ script: string; settings: Record<string, unknown> }> }> })
      .result[0]!.consumers;
    expect(consumers).toHaveLength(1);
    expect(consumers[0]).toMatchObject({ script: "consumer", settings: { batch_size: 3, max_wait_time_ms: 1000, max_retries: 5 } });
  });

  it("queues list / consumer add / consumer remove / delete, r2 object delete, r2 bucket list / delete", async () => {
    await api.ok(["queues", "create", "scratch"]);
    const listed = await api.ok(["queues", "list"]);
    expect(listed.stdout, describeRun(listed)).toMatch(/│ scratch\s+│/);
    await api.ok(["queues", "consumer", "add", "scratch", "consumer", "--batch-size", "4", "--message-retries", "2"]);
    const consumers = async () => {
      const q = await fetch(`${t.edge.apiUrl}/accounts/${t.region.accountId}/queues?name=scratch`, {
        headers: { authorization: `Bearer ${t.edge.token}` },
      });
      return ((await q.json()) as { result: Array<{ consumers: Array<{ script: string; settings: Record<string, unknown> }> }> }).result[0]
        ?.consumers;
    };
    expect(await consumers()).toEqual([
      expect.objectContaining({ script: "consumer", settings: expect.objectContaining({ batch_size: 4, max_retries: 2 }) }),
    ]);
    const info = await api.ok(["queues", "info", "scratch"]);
    expect(info.stdout, describeRun(info)).toContain("Consumers: worker:consumer");
    await api.ok(["queues", "consumer", "remove", "scratch", "consumer"]);
    expect(await consumers()).toEqual([]);
    await api.ok(["queues", "delete", "scratch"]);
    expect(await consumers()).toBeUndefined();

    await api.ok(["r2", "bucket", "create", "scratch-bucket"]);
    await api.ok(["r2", "object", "put", "scratch-bucket/k.txt", "--file", "a.txt", "--remote"]);
    const full = await api.run(["r2", "bucket", "delete", "scratch-bucket"]);
    expect(full.code, describeRun(full)).not.toBe(0);
    expect(full.stdout + full.stderr).toContain("[code: 10008]");
    await api.ok(["r2", "object", "delete", "scratch-bucket/k.txt", "--remote"]);
    expect((await api.run(["r2", "object", "get", "scratch-bucket/k.txt", "--remote", "--pipe"])).code).not.toBe(0);
    expect((await api.ok(["r2", "bucket", "list"])).stdout).toContain("scratch-bucket");
    await api.ok(["r2", "bucket", "delete", "scratch-bucket"]);
    expect((await api.ok(["r2", "bucket", "list"])).stdout).not.toContain("scratch-bucket");
  });

  it("deploy provisions the D1 database and R2 bucket it names but that do not exist (and, since 4.1xx, the queue)", async () => {
    const prov = await createWranglerProject(path.join(t.dataDir, "prov"), t.edge, t.region.accountId, { wrangler: version });
    const provisionsQueues = version !== "4.86";
    await prov.writeConfig({
      name: "prov",
      main: "src/index.js",
      compatibility_date: "2025-01-01",
      d1_databases: [{ binding: "DB", database_name: "auto-db" }],
      r2_buckets: [{ binding: "FILES", bucket_name: "auto-bucket" }],
      ...(provisionsQueues ? { queues: { producers: [{ binding: "JOBS", queue: "auto-queue" }] } } : {}),
    });
    await prov.writeSource(`export default { async fetch(req, env) {
      await env.DB.exec("CREATE TABLE IF NOT EXISTS t (x)");
      await env.FILES.put("k", "v");
      ${provisionsQueues ? 'await env.JOBS.send("m");' : ""}
      return Response.json({ d1: (await env.DB.prepare("SELECT count(*) AS n FROM t").first("n")), r2: await (await env.FILES.get("k")).text() });
    } };`);
    await prov.ok(["deploy"]);
    expect(await serve("prov", "/")).toEqual({ d1: 0, r2: "v" });
    const list = parseJsonOutput<Array<{ name: string }>>(await api.ok(["d1", "list", "--json"]));
    expect(list.map((d) => d.name)).toContain("auto-db");
    if (provisionsQueues) {
      const q = await fetch(`${t.edge.apiUrl}/accounts/${t.region.accountId}/queues?name=auto-queue`, {
        headers: { authorization: `Bearer ${t.edge.token}` },
      });
      expect(((await q.json()) as { result: unknown[] }).result).toHaveLength(1);
    }
  });

  it("deploy naming a D1 id or KV id that does not exist gets wrangler's own D1 help, and each code once", async () => {
    const bad = await createWranglerProject(path.join(t.dataDir, "bad-ids"), t.edge, t.region.accountId, { wrangler: version });
    await bad.writeSource(`export default { fetch() { return new Response("x"); } };`);
    const base = { name: "bad-ids", main: "src/index.js", compatibility_date: "2025-01-01" };
    await bad.writeConfig({
      ...base,
      d1_databases: [{ binding: "DB", database_name: "x", database_id: "00000000-0000-4000-8000-000000000000" }],
    });
    const d1 = await bad.run(["deploy"]);
    expect(d1.code, describeRun(d1)).toBe(1);
    // wrangler matches Cloudflare's text plus the one "[code: 10021]" it appends itself.
    expect(d1.stdout + d1.stderr).toContain("You must use a real database in the database_id configuration");
    await bad.writeConfig({ ...base, kv_namespaces: [{ binding: "KV", id: "0".repeat(32) }] });
    const kv = await bad.run(["deploy"]);
    expect(kv.code, describeRun(kv)).toBe(1);
    expect((kv.stdout + kv.stderr).match(/\[code: 10041\]/g), describeRun(kv)).toHaveLength(1);
  });

  it("cbo edge trigger fires a cron on the live version; a bad cron is refused", async () => {
    const r = await runCbo(["edge", "trigger", "eu", "api", "--cron", "*/5 * * * *", "--data", t.dataDir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('fired "*/5 * * * *" on api in eu: ok');
    expect(await serve("api", "/crons")).toEqual(["*/5 * * * *"]);
    const bad = await runCbo(["edge", "trigger", "eu", "api", "--cron", "61 * * * *", "--data", t.dataDir]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('"61" is not a valid minute');
    const ambiguous = await runCbo(["edge", "trigger", "eu", "api", "--data", t.dataDir]);
    expect(ambiguous.stderr).toContain("has 2 cron schedules");
  });

  it("everything survives an edge restart", async () => {
    // Same ports again, so the wrangler projects' API URL still points at the edge.
    const apiPort = Number(new URL(t.edge.apiUrl).port);
    const regionPort = t.region.port;
    await t.edge.close();
    t.edge = await startLocalEdge({ dataDir: t.dataDir, regions: ["eu"], port: apiPort, regionPorts: { eu: regionPort } });
    t.region = t.edge.regions[0]!;
    expect(await serve("api", "/notes")).toEqual(["first", "second", "from-file", "it's; fine"]);
    expect((await httpGet(t.region.port, "api.localhost", { path: "/file" })).body).toBe("hello from wrangler r2");
    expect((await select("SELECT count(*) AS n FROM received"))[0]!.n).toBe(1);
    await httpGet(t.region.port, "api.localhost", { path: "/send?n=after-restart" });
    await eventually(async () => expect(await serve("consumer", "/")).toEqual(["hello-queue", "after-restart"]), 15_000);
  });
});
