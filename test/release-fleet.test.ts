// Issue 13's orchestrator-side acceptance, on a real three-region local edge: a Worker given as a
// wrangler file with D1 (and its migrations) + R2 + KV + a Durable Object with its migration + a
// queue producer + a cron + static assets + nodejs_compat + a text module, released canary-first
// in steps to three targets, each with its own jurisdiction. Each target gets its own resources,
// created where its jurisdiction says; what each region serves is checked over HTTP (the D1 row,
// the R2 object, Buffer, the asset, Durable Object state, a queued message reaching the consumer)
// and through the API (the cron in GET …/schedules, the resources). A redeploy with one changed
// asset uploads one file per target; a rollback brings the earlier code and assets back. The
// plan's request count is what the release spends. Also: [env.production] picked for one target
// ships that environment's vars and bindings, and two Workers binding CACHE to different
// namespaces get different namespaces in every target.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseSpec, resolveSpec, type ResolvedSpec } from "../src/config/load.ts";
import { createEngine } from "../src/deploy/index.ts";
import type { Engine } from "../src/deploy/types.ts";
import { createStore, type Release, type Store } from "../src/store/index.ts";
import type { TargetRuntime } from "../src/targets/types.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { eventually, httpGet } from "./support/http.ts";
import { edgeInfo, liveOf, localRuntimes } from "./support/orchestrator.ts";

const REGIONS = ["eu", "us", "ap"];
const GATE = {
  probe_path: "/health",
  interval_ms: 50,
  bake_ms: 300,
  min_samples: 3,
  failure_limit: 3,
  max_error_rate: 0.05,
  timeout_ms: 3000,
};

const SHOP = (v: string) => `
import { Buffer } from "node:buffer";
import { DurableObject } from "cloudflare:workers";
import greeting from "./greeting.txt";
export class Counter extends DurableObject {
  async increment() {
    const n = (this.ctx.storage.kv.get("n") ?? 0) + 1;
    this.ctx.storage.kv.put("n", n);
    return n;
  }
}
export default {
  async fetch(req, env) {
    const url = new URL(req.url);
    switch (url.pathname) {
      case "/health": return new Response("ok");
      case "/api/info":
        return Response.json({ v: "${v}", env: env.APP_ENV, buffer: Buffer.from("hello").toString("base64"), text: greeting.trim(), kv: await env.CACHE.get("k") });
      case "/api/site": return Response.json(await env.DB.prepare("SELECT name FROM sites WHERE id = 1").first());
      case "/api/export": {
        await env.EXPORTS.put("report.txt", "exported " + url.hostname);
        return new Response(await (await env.EXPORTS.get("report.txt")).text());
      }
      case "/api/count": return Response.json({ n: await env.COUNTER.get(env.COUNTER.idFromName("site-1")).increment() });
      case "/api/convert":
        await env.CONVERSIONS.send({ id: url.searchParams.get("id") });
        return new Response("queued");
      case "/api/conversions": {
        const { results } = await env.DB.prepare("SELECT id FROM conversions ORDER BY id").all();
        return Response.json(results.map((r) => r.id));
      }
    }
    return new Response("worker fallback", { status: 404 });
  },
  async scheduled() {},
};
`;

const CONSUMER = `
export default {
  fetch() { return new Response("consumer"); },
  async queue(batch, env) {
    for (const m of batch.messages) {
      await env.DB.prepare("INSERT INTO conversions (id) VALUES (?)").bind(m.body.id).run();
      m.ack();
    }
  },
};
`;

const SHOP_CONFIG = {
  name: "shop",
  main: "src/index.js",
  compatibility_date: "2025-01-01",
  compatibility_flags: ["nodejs_compat"],
  vars: { APP_ENV: "dev" },
  kv_namespaces: [{ binding: "CACHE", id: "0123456789abcdef0123456789abcdef" }],
  d1_databases: [{ binding: "DB", database_name: "sites", database_id: "00000000-0000-0000-0000-000000000000" }],
  r2_buckets: [{ binding: "EXPORTS", bucket_name: "exports" }],
  queues: { producers: [{ binding: "CONVERSIONS", queue: "conversions" }] },
  durable_objects: { bindings: [{ name: "COUNTER", class_name: "Counter" }] },
  migrations: [{ tag: "v1", new_sqlite_classes: ["Counter"] }],
  triggers: { crons: ["*/5 * * * *"] },
  assets: { directory: "public", binding: "ASSETS", run_worker_first: ["/api/*", "/health"] },
  rules: [{ type: "Text", globs: ["**/*.txt"], fallthrough: true }],
};

const CONSUMER_CONFIG = {
  name: "shop-consumer",
  main: "index.js",
  compatibility_date: "2025-01-01",
  d1_databases: [{ binding: "DB", database_name: "sites" }],
  queues: { consumers: [{ queue: "conversions", max_batch_size: 1, max_batch_timeout: 1 }] },
};

describe("a real fleet Worker released by the orchestrator to three targets", () => {
  let t: TestEdge;
  let dir: string;
  let store: Store;
  let spec: ResolvedSpec;
  let runtimes: Map<string, TargetRuntime>;
  let engine: Engine;
  let requests: Array<{ target: string; endpoint: string; attempt: number }> = [];
  const port = (region: string) => t.edge.region(region).port;
  const get = (region: string, path: string, worker = "shop") => httpGet(port(region), `${worker}.localhost`, { path });
  const json = async (region: string, path: string, worker = "shop") => {
    const r = await get(region, path, worker);
    expect(r.status, `${region} ${path}: ${r.body}`).toBe(200);
    return JSON.parse(r.body) as unknown;
  };
  const release = async (worker: string): Promise<Release> => {
    requests = [];
    const r = await engine.wait((await engine.release(worker, { by: "test" })).id);
    expect(r.status, r.reason ?? "").toBe("succeeded");
    return r;
  };
  const write = async (rel: string, text: string) => {
    await mkdir(join(dir, rel, ".."), { recursive: true });
    await writeFile(join(dir, rel), text);
  };

  beforeAll(async () => {
    t = await startTestEdge({ regions: REGIONS });
    dir = await makeTempDir("fleet");
    await write("shop/src/index.js", SHOP("v1"));
    await write("shop/src/greeting.txt", "Hello from a text module\n");
    await write("shop/public/index.html", "<h1>shop home</h1>");
    await write("shop/public/snippet.js", "console.log('track v1')");
    await write("shop/public/style.css", "body{color:red}");
    await write(
      "shop/migrations/0001_sites.sql",
      "CREATE TABLE sites (id INTEGER PRIMARY KEY, name TEXT);\nINSERT INTO sites VALUES (1, 'acme');\n",
    );
    await write("shop/migrations/0002_conversions.sql", "CREATE TABLE conversions (id TEXT);\n");
    await write("shop/wrangler.jsonc", `// the shop, as its team deploys it with wrangler\n${JSON.stringify(SHOP_CONFIG, null, 2)}\n`);
    await write("consumer/index.js", CONSUMER);
    await write("consumer/wrangler.jsonc", JSON.stringify(CONSUMER_CONFIG, null, 2));
    // [env.production] for one target only; two Workers binding CACHE to namespaces of their own.
    await write(
      "envs/index.js",
      `export default { async fetch(req, env) { return Response.json({ env: env.APP_ENV, kv: await env.CACHE.get("who") }); } };`,
    );
    await write(
      "envs/wrangler.toml",
      [
        'name = "envs"',
        'main = "index.js"',
        'compatibility_date = "2025-01-01"',
        'vars = { APP_ENV = "dev", API_BASE = "http://localhost:9000" }',
        'kv_namespaces = [{ binding = "CACHE", id = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" }]',
        "[env.production]",
        'name = "envs"',
        'vars = { APP_ENV = "production" }',
        'kv_namespaces = [{ binding = "CACHE", id = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" }]',
      ].join("\n"),
    );
    await write(
      "other/index.js",
      `export default { async fetch(req, env) { return Response.json({ kv: await env.CACHE.get("who") }); } };`,
    );
    await write(
      "other/wrangler.toml",
      [
        'name = "other"',
        'main = "index.js"',
        'compatibility_date = "2025-01-01"',
        'kv_namespaces = [{ binding = "CACHE", id = "cccccccccccccccccccccccccccccccc" }]',
      ].join("\n"),
    );
    const yaml = [
      "targets:",
      "  - { name: eu, api: local, jurisdiction: eu }",
      "  - { name: us, api: local, jurisdiction: us }",
      "  - { name: ap, api: local, jurisdiction: ap }",
      "rollout:",
      "  waves: [[eu], [us, ap]]",
      "  steps: [10, 50, 100]",
      `  gate: ${JSON.stringify(GATE)}`,
      "workers:",
      "  - wrangler: shop/wrangler.jsonc",
      "  - wrangler: consumer/wrangler.jsonc",
      "  - { wrangler: envs/wrangler.toml, env: { eu: production } }",
      "  - wrangler: other/wrangler.toml",
    ].join("\n");
    await writeFile(join(dir, "orchestrator.yaml"), yaml);
    spec = resolveSpec(parseSpec(yaml, join(dir, "orchestrator.yaml")), join(dir, "orchestrator.yaml"));
    runtimes = localRuntimes(edgeInfo(t.edge), spec, { onRequest: (r) => requests.push(r) });
    store = createStore(join(dir, "state.db"));
    engine = createEngine({ store, spec: () => spec, targets: () => runtimes });
  });
  afterAll(async () => {
    await engine?.close();
    store?.close();
    await t?.dispose();
  });

  it("plans what it will create, apply and change per target, and spends exactly the requests it planned", {
    timeout: 120_000,
  }, async () => {
    const plan = await engine.plan("shop");
    const eu = plan.targets.find((x) => x.name === "eu")!;
    const ap = plan.targets.find((x) => x.name === "ap")!;
    expect(eu.resources).toEqual([
      {
        kind: "kv",
        name: "shop-cache",
        note: "no jurisdiction: Cloudflare has none for KV namespaces",
        usedBy: ["CACHE"],
        action: "create",
      },
      { kind: "d1", name: "sites", jurisdiction: "eu", usedBy: ["DB"], action: "create" },
      { kind: "r2", name: "exports", jurisdiction: "eu", usedBy: ["EXPORTS"], action: "create" },
      {
        kind: "queue",
        name: "conversions",
        note: "no jurisdiction: Cloudflare has none for queues",
        usedBy: ["CONVERSIONS"],
        action: "create",
      },
    ]);
    expect(ap.resources?.find((r) => r.kind === "d1")).toMatchObject({
      name: "sites",
      action: "create",
      note: expect.stringContaining("no ap jurisdiction"),
    });
    expect(ap.resources?.find((r) => r.kind === "d1")?.jurisdiction).toBeUndefined();
    expect(eu.bindings).toEqual(
      expect.arrayContaining([
        { name: "DB", type: "d1", resource: "d1:sites", id: null },
        { name: "COUNTER", type: "durable_object_namespace" },
        { name: "APP_ENV", type: "plain_text" },
      ]),
    );
    expect(eu).toMatchObject({
      upload: "script",
      durableObjectMigration: { oldTag: null, newTag: "v1", steps: 1 },
      d1Migrations: [{ binding: "DB", database: "sites", pending: ["0001_sites.sql", "0002_conversions.sql"] }],
      assets: { files: 3, upload: 3 },
      // workers.dev on (no routes) and observability off: what wrangler deploy sets when the file is silent.
      settings: [
        { setting: "crons", current: null, desired: ["*/5 * * * *"], change: true },
        { setting: "workersDev", current: null, desired: true, change: true },
        { setting: "observability", current: null, desired: { enabled: false }, change: true },
      ],
    });

    const r = await release("shop");
    const stored = r.plan as { apiCalls: number };
    expect(requests.length, requests.map((x) => `${x.target} ${x.endpoint}`).join("\n")).toBe(stored.apiCalls);
    expect(requests.filter((x) => x.attempt > 0)).toEqual([]);
  });

  it("each target holds its own resources, created in its jurisdiction, and serves every binding", { timeout: 120_000 }, async () => {
    const d1Ids = new Set<string>();
    for (const region of REGIONS) {
      const c = runtimes.get(region)!.client;
      const db = await c.getD1Database("sites");
      expect(db?.jurisdiction ?? null, region).toBe(region === "ap" ? null : region);
      d1Ids.add(db!.uuid);
      // R2 offers eu (and fedramp) only: eu's bucket is in eu, the others in the default jurisdiction.
      expect(await c.getR2Bucket("exports", region === "eu" ? { jurisdiction: "eu" } : {}), region).not.toBeNull();
      if (region === "eu") expect(await c.getR2Bucket("exports")).toBeNull();
      expect((await c.listKvNamespaces()).map((n) => n.title)).toContain("shop-cache");
      expect(await c.getQueueByName("conversions")).not.toBeNull();
      expect((await c.getSchedules("shop")).map((s) => s.cron)).toEqual(["*/5 * * * *"]);
      const ns = (await c.listKvNamespaces()).find((n) => n.title === "shop-cache")!;
      await c.putKvValue(ns.id, "k", `kv in ${region}`);

      expect(await json(region, "/api/info")).toEqual({
        v: "v1",
        env: "dev",
        buffer: "aGVsbG8=",
        text: "Hello from a text module",
        kv: `kv in ${region}`,
      });
      expect(await json(region, "/api/site")).toEqual({ name: "acme" });
      expect((await get(region, "/api/export")).body).toBe("exported shop.localhost");
      expect(await json(region, "/api/count")).toEqual({ n: 1 });
      expect(await json(region, "/api/count")).toEqual({ n: 2 });
      expect(await get(region, "/")).toMatchObject({ status: 200, body: "<h1>shop home</h1>" });
      expect((await get(region, "/snippet.js")).body).toBe("console.log('track v1')");
    }
    expect(d1Ids.size).toBe(3);
    const recorded = store.resources.list("default", "eu");
    expect(recorded.map((x) => [x.kind, x.name, x.jurisdiction, x.created_by !== null])).toEqual([
      ["d1", "sites", "eu", true],
      ["kv", "shop-cache", "", true],
      ["queue", "conversions", "", true],
      ["r2", "exports", "eu", true],
    ]);
  });

  it("the consumer Worker gets the queued messages and writes them to its target's D1", { timeout: 120_000 }, async () => {
    const r = await release("shop-consumer");
    const plan = r.plan as { targets: Array<{ name: string; resources: Array<{ kind: string; action: string }>; settings: unknown[] }> };
    // The queue and the database were there already (the shop's release made them): used, not created.
    expect(plan.targets[0]!.resources.map((x) => `${x.kind}:${x.action}`)).toEqual(["d1:use", "queue:use"]);
    for (const region of REGIONS) {
      const q = await runtimes.get(region)!.client.getQueueByName("conversions");
      expect(q?.consumers?.map((c) => c.script)).toEqual(["shop-consumer"]);
      expect((await get(region, `/api/convert?id=order-${region}`)).body).toBe("queued");
    }
    for (const region of REGIONS)
      await eventually(async () => expect(await json(region, "/api/conversions")).toEqual([`order-${region}`]), 20_000, 200);
  });

  it("a redeploy with one changed asset uploads that file only, per target; a rollback restores the earlier code and assets", {
    timeout: 180_000,
  }, async () => {
    const before = Object.fromEntries(
      await Promise.all(REGIONS.map(async (r) => [r, (await liveOf(runtimes.get(r)!, "shop"))[0]!.versionId])),
    );
    await write("shop/public/snippet.js", "console.log('track v2')");
    await write("shop/src/index.js", SHOP("v2"));
    const plan = await engine.plan("shop");
    for (const t of plan.targets) {
      // Same migration tag everywhere now: a gradual version upload, in steps.
      expect(t).toMatchObject({ upload: "version", durableObjectMigration: null, assets: { files: 3, upload: 1 }, d1Migrations: [] });
      expect(t.resources?.every((x) => x.action === "use")).toBe(true);
    }
    const r = await release("shop");
    const uploads = store.events
      .list({ releaseId: r.id })
      .filter((e) => e.type === "release.phase.done" && e.data.phase === "assets")
      .map((e) => [e.target, e.data.uploaded, e.data.skipped]);
    expect(uploads.sort()).toEqual([
      ["ap", 1, 2],
      ["eu", 1, 2],
      ["us", 1, 2],
    ]);
    const steps = store.events.list({ releaseId: r.id }).filter((e) => e.type === "release.step.passed" && e.target === "eu");
    expect(steps.map((e) => e.data.percent)).toEqual([10, 50, 100]);
    for (const region of REGIONS) {
      expect(((await json(region, "/api/info")) as { v: string }).v).toBe("v2");
      expect((await get(region, "/snippet.js")).body).toBe("console.log('track v2')");
      // Durable Object state survived the new version.
      expect(await json(region, "/api/count")).toEqual({ n: 3 });
    }

    const back = await engine.wait((await engine.rollback("shop", { by: "test" })).id);
    expect(back.status, back.reason ?? "").toBe("succeeded");
    for (const region of REGIONS) {
      expect(await liveOf(runtimes.get(region)!, "shop")).toEqual([{ versionId: before[region], percentage: 100 }]);
      expect(((await json(region, "/api/info")) as { v: string }).v).toBe("v1");
      expect((await get(region, "/snippet.js")).body).toBe("console.log('track v1')");
      expect(await json(region, "/api/site")).toEqual({ name: "acme" });
    }
  });

  it("a Durable Object migration goes out at 100% per target (as wrangler deploy); a failure after it keeps the migrated target and says so", {
    timeout: 120_000,
  }, async () => {
    const withLimiter = (v: string) =>
      SHOP(v).replace("export default {", "export class Limiter extends DurableObject { hit() { return 1; } }\nexport default {");
    await write("shop/src/index.js", withLimiter("v3"));
    await write(
      "shop/wrangler.jsonc",
      JSON.stringify({
        ...SHOP_CONFIG,
        durable_objects: { bindings: [...SHOP_CONFIG.durable_objects.bindings, { name: "LIMITER", class_name: "Limiter" }] },
        migrations: [...SHOP_CONFIG.migrations, { tag: "v2", new_sqlite_classes: ["Limiter"] }],
      }),
    );
    spec = resolveSpec(
      parseSpec(await readFile(join(dir, "orchestrator.yaml"), "utf8"), join(dir, "orchestrator.yaml")),
      join(dir, "orchestrator.yaml"),
    );
    const plan = await engine.plan("shop");
    for (const x of plan.targets) {
      expect(x).toMatchObject({ upload: "script", durableObjectMigration: { oldTag: "v1", newTag: "v2", steps: 1 } });
      expect(x.phases?.find((p) => p.phase === "upload")?.summary).toContain("no rollback can go back past it");
    }
    expect(plan.actions.filter((a) => a.kind === "deploy").map((a) => a.percent)).toEqual([100, 100, 100]);
    // Not gradual: one target at a time, and only with the opt-in (issue 14).
    expect(plan.waves).toEqual([["eu"], ["us"], ["ap"]]);
    expect(plan.nonGradual?.targets).toEqual(["eu", "us", "ap"]);
    const before = Object.fromEntries(
      await Promise.all(REGIONS.map(async (x) => [x, (await liveOf(runtimes.get(x)!, "shop"))[0]!.versionId])),
    );
    await t.edge.setFault("us", { errorRate: 1 });
    const r = await engine
      .release("shop", { by: "test", allowNonGradual: true })
      .then((x) => engine.wait(x.id))
      .finally(() => t.edge.setFault("us", null));
    expect(r.status, r.reason ?? "").toBe("failed");
    const eu = (await liveOf(runtimes.get("eu")!, "shop"))[0]!.versionId;
    expect(r.reason).toContain(`eu stays on ${eu} (Durable Object migration v1 -> v2 applied: no version from before it can be deployed)`);
    expect(await runtimes.get("eu")!.client.getMigrationTag("shop")).toBe("v2");
    expect(((await json("eu", "/api/info")) as { v: string }).v).toBe("v3");
    // us failed its gate after its own PUT: it carries the migration and keeps the new version;
    // ap, one target later, was never reached.
    expect(await runtimes.get("us")!.client.getMigrationTag("shop")).toBe("v2");
    expect(r.reason).toContain(`us stays on ${(await liveOf(runtimes.get("us")!, "shop"))[0]!.versionId}`);
    expect(await runtimes.get("ap")!.client.getMigrationTag("shop")).toBe("v1");
    expect((await liveOf(runtimes.get("ap")!, "shop"))[0]!.versionId).toBe(before.ap);
  });

  it("[env.production] picked for one target ships its vars and bindings; two Workers' CACHE are different namespaces everywhere", {
    timeout: 120_000,
  }, async () => {
    await release("envs");
    await release("other");
    const titles: Record<string, string[]> = {};
    for (const region of REGIONS) {
      const c = runtimes.get(region)!.client;
      const ns = await c.listKvNamespaces();
      titles[region] = ns.map((n) => n.title).filter((x) => x.startsWith("envs") || x.startsWith("other"));
      const id = (title: string) => ns.find((n) => n.title === title)?.id;
      // eu releases [env.production], whose CACHE is its own namespace (envs-cache of that environment's name).
      const envsTitle = "envs-cache";
      await c.putKvValue(id(envsTitle)!, "who", `envs ${region}`);
      await c.putKvValue(id("other-cache")!, "who", `other ${region}`);
      expect(id(envsTitle)).not.toBe(id("other-cache"));
      expect(await json(region, "/", "envs")).toEqual({ env: region === "eu" ? "production" : "dev", kv: `envs ${region}` });
      expect(await json(region, "/", "other")).toEqual({ kv: `other ${region}` });
    }
    const eu = (await runtimes.get("eu")!.client.listVersions("envs"))[0]!;
    const names = (eu.resources?.bindings ?? []).map((b) => b.name).sort();
    expect(names).toEqual(["APP_ENV", "CACHE"]);
    const us = (await runtimes.get("us")!.client.listVersions("envs"))[0]!;
    expect((us.resources?.bindings ?? []).map((b) => b.name).sort()).toEqual(["API_BASE", "APP_ENV", "CACHE"]);
  });
});
