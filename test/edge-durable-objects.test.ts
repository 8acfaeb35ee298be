// Durable Objects on the local edge, through the Cloudflare API and real workerd: namespaces made
// by migrations (tags, 10061, 10079, 10211), objects reached by fetch() and RPC with storage (KV and
// SQL) that survives new versions, a gradual deployment, a rename and an edge restart, and no
// deployment back past a migration (10238); a key-value-backed class (new_classes) has no SQLite-only API.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestEdge, type TestEdge } from "./support/edge.ts";
import { edgeApi, type EdgeApi } from "./support/edge-api.ts";
import { eventually, httpGet } from "./support/http.ts";

const counter = (v: string, cls = "Counter") => `
import { DurableObject } from "cloudflare:workers";
export class ${cls} extends DurableObject {
  async fetch(req) {
    const n = (this.ctx.storage.kv.get("n") ?? 0) + 1;
    this.ctx.storage.kv.put("n", n);
    return Response.json({ v: "${v}", n, id: String(this.ctx.id) });
  }
  async add(x) {
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS t (x INTEGER)");
    this.ctx.storage.sql.exec("INSERT INTO t VALUES (?)", x);
    return { v: "${v}", sum: this.ctx.storage.sql.exec("SELECT SUM(x) AS s FROM t").one().s };
  }
  async version() { return "${v}"; }
}
export default {
  async fetch(req, env) {
    const u = new URL(req.url);
    const name = u.searchParams.get("name") ?? "a";
    const ns = env.COUNTER;
    if (u.pathname === "/ids") {
      const byName = ns.idFromName(name);
      const parsed = ns.idFromString(byName.toString());
      const unique = [ns.newUniqueId().toString(), ns.newUniqueId().toString()];
      let foreign = null;
      try { ns.idFromString("0".repeat(64)); } catch (e) { foreign = String(e.message); }
      return Response.json({ byName: byName.toString(), again: ns.idFromName(name).toString(), equal: parsed.equals(byName), unique, foreign });
    }
    const stub = ns.get(ns.idFromName(name));
    if (u.pathname === "/add") return Response.json(await stub.add(Number(u.searchParams.get("x") ?? 1)));
    if (u.pathname === "/version") return Response.json({ worker: "${v}", object: await stub.version() });
    return new Response(await (await stub.fetch("http://do/")).text(), { headers: { "content-type": "application/json" } });
  },
};`;

const DO = (cls = "Counter") => [{ type: "durable_object_namespace", name: "COUNTER", class_name: cls }];
const meta = (extra: Record<string, unknown> = {}) => ({
  main_module: "index.js",
  compatibility_date: "2025-01-01",
  bindings: DO(),
  ...extra,
});

/** The part of a Workers service the tests read: where wrangler finds the migration tag. */
type Service = { default_environment: { script: { migration_tag: string } } };

describe("Durable Objects on the local edge", () => {
  let t: TestEdge;
  let api: EdgeApi;
  const versions: Record<string, string> = {};
  const get = async (path: string, host = "counter.localhost") => {
    const r = await httpGet(t.region.port, host, { path });
    expect(r.status, r.body).toBe(200);
    return JSON.parse(r.body);
  };

  beforeAll(async () => {
    t = await startTestEdge();
    api = edgeApi(t.edge, t.region);
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it("refuses a binding to a class no migration created (10061)", async () => {
    const r = await api.call("PUT", "/workers/scripts/counter", api.upload(meta(), { "index.js": counter("v1") }));
    expect(r.status).toBe(400);
    expect(r.errors[0]).toMatchObject({ code: 10061 });
    expect(r.errors[0]!.message).toContain("Cannot create binding for class 'Counter'");
    expect((await api.call("GET", "/workers/scripts/counter")).status).toBe(404);
  });

  it("creates the namespace with the migration; objects answer fetch() and RPC with KV and SQL storage", async () => {
    const up = await api.ok<{ deployment_id: string }>(
      "PUT",
      "/workers/scripts/counter",
      api.upload(meta({ migrations: { new_tag: "v1", steps: [{ new_sqlite_classes: ["Counter"] }] } }), { "index.js": counter("v1") }),
    );
    versions["v1"] = up.deployment_id;
    expect(await get("/")).toMatchObject({ v: "v1", n: 1 });
    expect(await get("/")).toMatchObject({ v: "v1", n: 2 });
    expect(await get("/?name=b")).toMatchObject({ n: 1 });
    expect(await get("/add?x=5")).toEqual({ v: "v1", sum: 5 });
    expect(await get("/add?x=2")).toEqual({ v: "v1", sum: 7 });
  });

  it("gives ids as Cloudflare does: stable by name, unique when asked, namespace-bound", async () => {
    const ids = await get("/ids?name=z");
    expect(ids.byName).toMatch(/^[0-9a-f]{64}$/);
    expect(ids.again).toBe(ids.byName);
    expect(ids.equal).toBe(true);
    expect(ids.unique[0]).not.toBe(ids.unique[1]);
    expect(ids.foreign).toContain("not for this namespace");
    // The object's own ctx.id is the id the Worker asked for.
    expect((await get("/?name=z")).id).toBe(ids.byName);
  });

  it("lists namespaces and reports the migration tag where wrangler reads it", async () => {
    const ns = await api.ok<Array<{ id: string }>>("GET", "/workers/durable_objects/namespaces?per_page=1000");
    expect(ns).toEqual([expect.objectContaining({ script: "counter", class: "Counter", use_sqlite: true, name: "counter_Counter" })]);
    expect(await api.ok("GET", `/workers/durable_objects/namespaces/${ns[0].id}`)).toMatchObject({ class: "Counter" });
    const scripts = await api.ok<Array<{ id: string }>>("GET", "/workers/scripts");
    expect(scripts.find((s) => s.id === "counter")).toMatchObject({ migration_tag: "v1" });
    const service = await api.ok<Service>("GET", "/workers/services/counter");
    expect(service.default_environment.script.migration_tag).toBe("v1");
  });

  it("refuses a stale old_tag (10079) and a versions upload carrying a migration (10211), changing nothing", async () => {
    const stale = await api.call(
      "PUT",
      "/workers/scripts/counter",
      api.upload(meta({ migrations: { old_tag: "v0", new_tag: "v2", steps: [{ new_sqlite_classes: ["Other"] }] } }), {
        "index.js": counter("x"),
      }),
    );
    expect(stale.errors[0]).toMatchObject({ code: 10079, message: "Migration tag precondition failed; current tag is v1" });
    const viaVersions = await api.call(
      "POST",
      "/workers/scripts/counter/versions",
      api.upload(meta({ migrations: { old_tag: "v1", new_tag: "v2", steps: [{ new_sqlite_classes: ["Other"] }] } }), {
        "index.js": counter("x"),
      }),
    );
    expect(viaVersions.status).toBe(400);
    expect(viaVersions.errors[0]!.code).toBe(10211);
    expect(viaVersions.errors[0]!.message).toContain("migrations must be fully applied via a non-versioned deployment");
    expect((await api.ok<Service>("GET", "/workers/services/counter")).default_environment.script.migration_tag).toBe("v1");
    expect(await api.ok("GET", "/workers/durable_objects/namespaces")).toHaveLength(1);
    expect(await get("/")).toMatchObject({ v: "v1", n: 3 });
  });

  it("runs a new version's class code on the same storage", async () => {
    const v = await api.ok<{ id: string }>("POST", "/workers/scripts/counter/versions", api.upload(meta(), { "index.js": counter("v2") }));
    versions["v2"] = v.id;
    await api.ok("POST", "/workers/scripts/counter/deployments", {
      strategy: "percentage",
      versions: [{ version_id: v.id, percentage: 100 }],
    });
    await eventually(async () => expect(await get("/")).toMatchObject({ v: "v2", n: 4 }));
    expect(await get("/add?x=1")).toEqual({ v: "v2", sum: 8 });
  });

  it("keeps each object on one version during a gradual deployment", async () => {
    const v = await api.ok<{ id: string }>("POST", "/workers/scripts/counter/versions", api.upload(meta(), { "index.js": counter("v3") }));
    versions["v3"] = v.id;
    await api.ok("POST", "/workers/scripts/counter/deployments", {
      strategy: "percentage",
      versions: [
        { version_id: versions["v2"], percentage: 50 },
        { version_id: v.id, percentage: 50 },
      ],
    });
    const seen = new Set<string>();
    for (let i = 0; i < 24; i++) {
      const name = `obj-${i}`;
      const first = (await get(`/version?name=${name}`)).object;
      for (let k = 0; k < 3; k++) expect((await get(`/version?name=${name}`)).object, name).toBe(first);
      seen.add(first);
    }
    expect([...seen].sort()).toEqual(["v2", "v3"]);
    await api.ok("POST", "/workers/scripts/counter/deployments", {
      strategy: "percentage",
      versions: [{ version_id: versions["v3"], percentage: 100 }],
    });
  });

  it("keeps the objects' storage through a class rename", async () => {
    const up = await api.ok<{ deployment_id: string }>(
      "PUT",
      "/workers/scripts/counter",
      api.upload(
        {
          ...meta(),
          bindings: DO("Tally"),
          migrations: { old_tag: "v1", new_tag: "v2", steps: [{ renamed_classes: [{ from: "Counter", to: "Tally" }] }] },
        },
        { "index.js": counter("v4", "Tally") },
      ),
    );
    versions["v4"] = up.deployment_id;
    await eventually(async () => expect(await get("/")).toMatchObject({ v: "v4", n: 5 }));
    expect(await api.ok("GET", "/workers/durable_objects/namespaces")).toEqual([expect.objectContaining({ class: "Tally" })]);
  });

  it("refuses to deploy a version from before the migration (10238), and allows later ones", async () => {
    const back = await api.call("POST", "/workers/scripts/counter/deployments", {
      strategy: "percentage",
      versions: [{ version_id: versions["v3"], percentage: 100 }],
    });
    expect(back.status).toBe(400);
    expect(back.errors[0]!.code).toBe(10238);
    expect(back.errors[0]!.message).toContain("predates the Durable Object migration");
    expect(await get("/")).toMatchObject({ v: "v4", n: 6 });
    const v5 = await api.ok<{ id: string }>(
      "POST",
      "/workers/scripts/counter/versions",
      api.upload({ ...meta(), bindings: DO("Tally") }, { "index.js": counter("v5", "Tally") }),
    );
    await api.ok("POST", "/workers/scripts/counter/deployments", {
      strategy: "percentage",
      versions: [{ version_id: v5.id, percentage: 100 }],
    });
    await api.ok("POST", "/workers/scripts/counter/deployments", {
      strategy: "percentage",
      versions: [{ version_id: versions["v4"], percentage: 100 }],
    });
    await eventually(async () => expect(await get("/")).toMatchObject({ v: "v4", n: 7 }));
  });

  it("lets another Worker bind the class by script_name and reach the same objects", async () => {
    const client = `export default { async fetch(req, env) { const s = env.C.get(env.C.idFromName("a")); return Response.json(await s.add(100)); } };`;
    await api.ok(
      "PUT",
      "/workers/scripts/client",
      api.upload(
        {
          main_module: "index.js",
          compatibility_date: "2025-01-01",
          bindings: [{ type: "durable_object_namespace", name: "C", class_name: "Tally", script_name: "counter" }],
        },
        { "index.js": client },
      ),
    );
    expect(await get("/", "client.localhost")).toEqual({ v: "v4", sum: 108 });
  });

  it("gives a key-value-backed class (new_classes) none of the SQLite-only storage APIs, in workerd's words, and a SQLite one keeps them", async () => {
    // What each SQLite-only API does: returns, resolves, rejects or throws at the call, and with what.
    const legacy = `
import { DurableObject } from "cloudflare:workers";
const outcome = async (f) => {
  let r;
  try { r = f(); } catch (e) { return "throws " + e.constructor.name + ": " + e.message; }
  if (!(r instanceof Promise)) return "returns";
  try { await r; return "resolves"; } catch (e) { return "rejects " + e.constructor.name + ": " + e.message; }
};
const probe = async (s) => ({
  sql: await outcome(() => s.sql.exec("SELECT 1")),
  kv: await outcome(() => s.kv.get("n")),
  transactionSync: await outcome(() => s.transactionSync(() => 1)),
  getCurrentBookmark: await outcome(() => s.getCurrentBookmark()),
  getBookmarkForTime: await outcome(() => s.getBookmarkForTime(Date.now() - 1000)),
  onNextSessionRestoreBookmark: await outcome(() => s.onNextSessionRestoreBookmark("0000000000000000-0000000000000000-00000000-00000000000000000000000000000000")),
});
export class Legacy extends DurableObject {
  async fetch() {
    const n = ((await this.ctx.storage.get("n")) ?? 0) + 1;
    await this.ctx.storage.put("n", n);
    return Response.json({ n, ...(await probe(this.ctx.storage)) });
  }
}
export class Modern extends DurableObject {
  async fetch() { return Response.json(await probe(this.ctx.storage)); }
}
export default {
  fetch: (req, env) => {
    const ns = new URL(req.url).pathname === "/modern" ? env.MODERN : env.LEGACY;
    return ns.get(ns.idFromName("a")).fetch(req);
  },
};`;
    const bindings = [
      { type: "durable_object_namespace", name: "LEGACY", class_name: "Legacy" },
      { type: "durable_object_namespace", name: "MODERN", class_name: "Modern" },
    ];
    const steps = [{ new_classes: ["Legacy"], new_sqlite_classes: ["Modern"] }];
    await api.ok(
      "PUT",
      "/workers/scripts/legacy",
      api.upload(meta({ bindings, migrations: { new_tag: "v1", steps } }), { "index.js": legacy }),
    );
    const r = await get("/", "legacy.localhost");
    // workerd's words (src/workerd/api/actor-state.c++, src/workerd/io/actor-cache.h) for storage without SQLite.
    const noPitr = "rejects Error: This Durable Object's storage back-end does not implement point-in-time recovery.";
    expect(r).toMatchObject({
      n: 1,
      transactionSync: "throws Error: Durable Object is not backed by SQL.",
      getCurrentBookmark: noPitr,
      getBookmarkForTime: noPitr,
      onNextSessionRestoreBookmark: noPitr,
    });
    expect(r.sql).toMatch(
      /^throws Error: SQL is not enabled for this Durable Object class\. To enable it, change `new_classes` to `new_sqlite_classes`/,
    );
    expect(r.kv).toMatch(/^throws Error: The storage\.kv \(synchronous KV\) API is only available for SQLite-backed Durable Objects/);
    expect((await get("/", "legacy.localhost")).n).toBe(2);
    // The SQLite-backed class of the same script keeps them. (workerd itself implements only the
    // current bookmark locally, as under wrangler dev: the other two PITR calls reject there too.)
    expect(await get("/modern", "legacy.localhost")).toEqual({
      sql: "returns",
      kv: "returns",
      transactionSync: "returns",
      getCurrentBookmark: "resolves",
      getBookmarkForTime: noPitr,
      onNextSessionRestoreBookmark: noPitr,
    });
    // Before compatibility date 2022-10-31 (capture_async_api_throws) workerd throws at the call instead.
    await api.ok(
      "PUT",
      "/workers/scripts/legacy-old",
      api.upload(meta({ compatibility_date: "2022-10-30", bindings, migrations: { new_tag: "v1", steps } }), { "index.js": legacy }),
    );
    expect(await get("/", "legacy-old.localhost")).toMatchObject({
      transactionSync: "throws Error: Durable Object is not backed by SQL.",
      getCurrentBookmark: noPitr.replace("rejects", "throws"),
      onNextSessionRestoreBookmark: noPitr.replace("rejects", "throws"),
    });
    // The SQLite-backed Counter of the same account still has SQL.
    expect(await get("/add?x=0")).toMatchObject({ sum: 108 });
  });

  it("keeps every object's storage across an edge restart", async () => {
    const dataDir = t.dataDir;
    await t.edge.close();
    t = await startTestEdge({ dataDir });
    expect(await get("/")).toMatchObject({ v: "v4", n: 8 });
    expect(await get("/add?x=1")).toEqual({ v: "v4", sum: 109 });
    expect(await get("/?name=b")).toMatchObject({ n: 2 });
  });
});
