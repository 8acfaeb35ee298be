// Eight wrangler projects written the way teams write them (test/fixtures/fidelity): a storefront
// (wrangler.toml: TypeScript entry importing local modules, nodejs_compat with node:buffer and
// node:crypto, KV, JSON vars, assets with _headers/_redirects, 404-page, drop-trailing-slash,
// run_worker_first rules, observability, smart placement, cpu limit, [env.staging] and
// [env.production] with routes), an orders service (wrangler.jsonc: D1 with migrations_dir, a
// Durable Object over three migration tags with a rename and a delete, a queue with a consumer and
// a dead-letter queue, R2, crons), a gateway (service binding, define, alias, a Text rule, version
// metadata, logpush, tail consumer, custom domain and zone route, no workers_dev: the default) and
// the tail consumer itself (Analytics Engine, crons, also released from its top level), a jobs
// Worker and a media service (placement region, subrequest limits, traces, AI, rate limiters,
// run_worker_first = true, keep_vars, consumer defaults) and an SPA whose settings are taken out again
// (see test/fixtures/fidelity/README.md).
//
// Each is released through the real `cbo` (orchestrator.yaml `wrangler:` + `env:`) into region eu,
// and deployed with the real `wrangler deploy --env …` into region us, another account of the same
// local edge. Then what the two accounts hold (read through the Cloudflare API, ids replaced by
// the names they point at) must be equal, and the Workers must answer the same requests alike,
// with the answers Cloudflare gives (_redirects, _headers, static routing, D1, DO, R2, services).
import { createHmac } from "node:crypto";
import http from "node:http";
import { cp, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDaemon, type Daemon } from "../src/daemon.ts";
import { generateKeyFile } from "../src/vault/index.ts";
import { createEdgeReader, type WorkerSnapshot } from "./support/edge-snapshot.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { eventually } from "./support/http.ts";
import { runCbo } from "./support/run-cbo.ts";
import { stripAnsi } from "./support/text.ts";
import { createWranglerProject, describeRun, type WranglerProject } from "./support/wrangler.ts";

type Answer = { status: number; body: string; headers: Record<string, string | string[] | undefined> };

function send(port: number, host: string, path: string, method = "GET", body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path, method, headers: { host, "content-type": "application/json" } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        // Per-request or per-upload values (asset ETags are content hashes, equal on both sides).
        const { date: _d, "cf-ray": _r, ...headers } = res.headers;
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), headers });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

const FIXTURES = fileURLToPath(new URL("./fixtures/fidelity/", import.meta.url));
const FILES = {
  "audit-tail": "audit-tail/wrangler.toml",
  orders: "orders/wrangler.jsonc",
  storefront: "storefront/wrangler.toml",
  gateway: "gateway/wrangler.jsonc",
  docs: "docs/wrangler.jsonc",
  jobs: "jobs/wrangler.jsonc",
  media: "media/wrangler.toml",
  edgy: "edgy/wrangler.toml",
} as const;
type Project = keyof typeof FILES;
/** [project, environment ("" for the top level)], in an order where bound Workers come first. */
const RELEASES: Array<[Project, string]> = [
  ["audit-tail", "production"],
  ["audit-tail", ""],
  ["orders", "production"],
  ["storefront", "production"],
  ["storefront", "staging"],
  ["gateway", "production"],
  ["docs", ""],
  ["jobs", ""],
  ["media", "staging"],
  ["edgy", "production"],
];
const scriptOf = (p: Project, env: string) => (env ? `${p}-${env}` : p);

/** What differs by construction: the release's own annotation. */
function comparable(s: WorkerSnapshot): WorkerSnapshot {
  const annotations = { ...(s.version["annotations"] as Record<string, string>) };
  delete annotations["workers/message"];
  // Measured at each upload (the startup probe's time): a number on both sides, never the same one.
  const { startup_time_ms: startup, ...version } = s.version as Record<string, unknown>;
  expect(startup).toBeGreaterThanOrEqual(1);
  return { ...s, version: { ...version, annotations } };
}

describe("wrangler projects released by cbo end up on the edge as wrangler deploy leaves them", () => {
  let t: TestEdge;
  let root: string;
  let d: Daemon;
  const wr = {} as Record<Project, WranglerProject>;
  const outputs: Record<string, { cbo: string; wrangler: string }> = {};
  const cbo = (args: string[]) => runCbo([...args, "--data", join(root, "cbo", "data")], { cwd: join(root, "cbo"), timeoutMs: 120_000 });
  const eu = () => createEdgeReader(t.edge, t.edge.region("eu").accountId);
  const us = () => createEdgeReader(t.edge, t.edge.region("us").accountId);

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu", "us"] });
    root = await makeTempDir("fidelity");
    for (const p of Object.keys(FILES) as Project[]) {
      await cp(join(FIXTURES, p), join(root, "cbo", p), { recursive: true });
      await cp(join(FIXTURES, p), join(root, "wrangler", p), { recursive: true });
      wr[p] = await createWranglerProject(join(root, "wrangler", p), t.edge, t.edge.region("us").accountId);
    }
    await writeFile(
      join(root, "cbo", "orchestrator.yaml"),
      [
        "version: 1",
        "targets:",
        "  - { name: eu, api: local }",
        "rollout:",
        "  steps: [100]",
        "  allow_non_gradual: true",
        "  gate: { probe_path: /, bake_ms: 50, min_samples: 1, interval_ms: 20 }",
        "workers:",
        ...RELEASES.map(([p, env]) => `  - { wrangler: ${FILES[p]}${env ? `, env: ${env}` : ""} }`),
      ].join("\n"),
    );
    generateKeyFile(join(root, "master.key"));
    d = await startDaemon({
      dataDir: join(root, "cbo", "data"),
      configFile: join(root, "cbo", "orchestrator.yaml"),
      edge: t.edge,
      masterKeyFile: join(root, "master.key"),
      env: {},
      port: 0,
      log: () => {},
    });
    // wrangler binds queues and buckets by name and wants them to exist; cbo creates its own.
    for (const args of [
      ["queues", "create", "order-events"],
      ["queues", "create", "order-events-dlq"],
      ["r2", "bucket", "create", "order-invoices"],
      ...["media-jobs", "job-requests", "job-requests-dlq", "job-results"].map((q) => ["queues", "create", q]),
    ])
      await wr.orders.ok(args);
    for (const [p, env] of RELEASES) {
      const r = await cbo(["release", scriptOf(p, env)]);
      expect(r.code, `cbo release ${scriptOf(p, env)}\n${r.stdout}\n${r.stderr}`).toBe(0);
      const w = await wr[p].run(["deploy", `--env=${env}`], { timeoutMs: 90_000 });
      expect(w.code, describeRun(w)).toBe(0);
      outputs[scriptOf(p, env)] = { cbo: r.stdout, wrangler: stripAnsi(w.stdout + w.stderr) };
    }
    // wrangler deploy leaves D1 migrations to `wrangler d1 migrations apply`; a cbo release applies them.
    await wr.orders.ok(["d1", "migrations", "apply", "DB", "--remote", "--env=production"]);
  }, 600_000);

  afterAll(async () => {
    await d?.close();
    await t?.dispose();
  });

  it("each Worker's script, settings, tags, bindings, modules, triggers, consumers and Durable Objects match wrangler's", {
    timeout: 60_000,
  }, async () => {
    const [ours, theirs] = [eu(), us()];
    for (const [p, env] of RELEASES) {
      const name = scriptOf(p, env);
      expect(comparable(await ours.worker(name)), name).toEqual(comparable(await theirs.worker(name)));
    }
    // The same, spelled out where a bug on both sides would hide it.
    const orders = await ours.worker("orders-production");
    expect(orders.script["migration_tag"]).toBe("v3");
    expect((orders.version["resources"] as { script: { handlers: string[] } }).script.handlers).toEqual(["fetch", "queue", "scheduled"]);
    expect(orders.script["handlers"]).toEqual(["fetch", "queue", "scheduled"]);
    expect((await ours.worker("audit-tail-production")).script["handlers"]).toEqual(["fetch", "scheduled", "tail"]);
    expect(orders.durableObjects).toEqual([
      { name: "orders-production_Basket", script: "orders-production", class: "Basket", use_sqlite: true },
    ]);
    expect(orders.schedules).toEqual(["*/15 * * * *", "0 3 * * *"]);
    expect(orders.consumers).toMatchObject([
      {
        queue: "order-events",
        dead_letter_queue: "order-events-dlq",
        settings: { batch_size: 5, max_retries: 2, max_wait_time_ms: 2000, max_concurrency: 3, retry_delay: 30 },
      },
    ]);
    expect(orders.bindings.map((b) => [b["name"], b["type"]])).toEqual([
      ["BASKET", "durable_object_namespace"],
      ["CURRENCY", "plain_text"],
      ["DB", "d1"],
      ["EVENTS", "queue"],
      ["INVOICES", "r2_bucket"],
      ["LIMITS", "json"],
    ]);
    expect(orders.scriptSettings["tags"]).toEqual(["cf:service=orders", "cf:environment=production"]);
    // Top level of a file with environments: the service tag only.
    expect((await ours.worker("audit-tail")).scriptSettings["tags"]).toEqual(["cf:service=audit-tail"]);
    // A Durable Object from before SQLite storage (new_classes): kept key-value backed on both sides.
    expect((await ours.worker("audit-tail-production")).durableObjects).toMatchObject([{ class: "DailyCounts", use_sqlite: false }]);
    expect((await ours.worker("storefront-production")).routes).toEqual([
      { pattern: "acme.test/shop-legacy/*", zone: "acme.test" },
      { pattern: "shop.acme.test/*", zone: "acme.test" },
    ]);
    const gateway = await ours.worker("gateway-production");
    expect(gateway.subdomain).toMatchObject({ enabled: false });
    expect(gateway.domains).toEqual(["api.acme.test"]);
    expect(gateway.routes).toEqual([{ pattern: "acme.test/api/*", zone: "acme.test" }]);
    expect(gateway.scriptSettings).toMatchObject({ logpush: true, tail_consumers: [{ service: "audit-tail-production" }] });
    // A binding given only at the top level is not used by an environment: both say so, neither binds it.
    for (const env of ["production", "staging"]) {
      const { cbo: ourOut, wrangler: theirOut } = outputs[`storefront-${env}`]!;
      expect(ourOut).toContain(`warning: "r2_buckets" exists at the top level, but not on "env.${env}"`);
      expect(theirOut).toMatch(new RegExp(`"r2_buckets" exists at the top level, but not on "env.${env}"`));
      expect((await ours.worker(`storefront-${env}`)).bindings.map((b) => b["name"])).not.toContain("MEDIA");
    }
    // Read back, every setting cbo wrote is what it wants: nothing differs and a release is a no-op.
    for (const [p, env] of RELEASES) {
      const diff = await cbo(["diff", scriptOf(p, env), "--json"]);
      expect(diff.code, diff.stderr).toBe(0);
      expect(JSON.parse(diff.stdout), scriptOf(p, env)).toMatchObject({ changed: false, drift: false });
    }
    const plan = await cbo(["plan", "storefront-production"]);
    expect(plan.stdout).toContain('warning: "r2_buckets" exists at the top level, but not on "env.production"');
    // A _redirects line Cloudflare skips (wrangler deploy sends the file unparsed, so it says nothing): cbo says why.
    expect(plan.stdout).toContain("warning: _redirects:4: Infinite loop detected in this rule and has been ignored.");
    expect(plan.stdout).toContain("(/app/* /index.html 200)");
    const staging = await ours.worker("storefront-staging");
    expect(staging.subdomain).toMatchObject({ enabled: true });
    expect(staging.routes).toEqual([]);
    expect(staging.settings).toMatchObject({ placement: { mode: "smart" }, limits: { cpu_ms: 100 } });
    const jobs = await ours.worker("jobs");
    expect(jobs.settings).toMatchObject({ placement: { mode: "targeted", region: "aws:us-east-1" }, limits: { subrequests: 25 } });
    expect(jobs.script["migration_tag"]).toBe("a2");
    expect(jobs.durableObjects).toMatchObject([{ class: "Ledger", use_sqlite: false }]);
    expect(jobs.routes).toEqual([{ pattern: "jobs.acme.test/*", zone: "acme.test" }]);
    const byQueue = (w: WorkerSnapshot) => Object.fromEntries(w.consumers.map((c) => [c["queue"], c]));
    expect(byQueue(jobs)).toMatchObject({
      "job-requests": { dead_letter_queue: "job-requests-dlq", settings: { max_retries: 0, max_wait_time_ms: 7000, batch_size: 10 } },
      "job-results": { settings: { batch_size: 100, max_concurrency: 1, max_retries: 3 } },
    });
    const media = await ours.worker("media-staging");
    expect(media.schedules).toEqual([]);
    expect(media.subdomain).toEqual({ enabled: true, previews_enabled: false });
    expect(media.settings).toMatchObject({
      logpush: false,
      limits: { cpu_ms: 250, subrequests: 40 },
      tail_consumers: [{ service: "jobs" }],
      observability: { logs: { head_sampling_rate: 0.1 }, traces: { enabled: true, head_sampling_rate: 0.05 } },
    });
    expect(media.bindings.map((b) => [b["name"], b["type"]])).toEqual([
      ["AI", "ai"],
      ["DEBUG", "json"],
      ["JOBS", "queue"],
      ["LABEL", "plain_text"],
      ["RATIO", "json"],
      ["RETRIES", "json"],
      ["RL", "ratelimit"],
      ["RL_OLD", "ratelimit"],
      ["ROOM", "durable_object_namespace"],
      ["STATIC", "assets"],
    ]);
  });

  it("the Workers answer the same requests alike, and as Cloudflare does", { timeout: 60_000 }, async () => {
    const requests: Array<[string, string, string?, string?]> = [
      ["shop.acme.test", "/"],
      ["shop.acme.test", "/about"],
      ["shop.acme.test", "/about/"],
      ["shop.acme.test", "/style.css"],
      ["shop.acme.test", "/missing"],
      ["shop.acme.test", "/old-about?ref=mail"],
      ["shop.acme.test", "/promo/summer"],
      ["shop.acme.test", "/blog"],
      ["shop.acme.test", "/api/info"],
      ["shop.acme.test", "/api/session"],
      ["shop.acme.test", "/api/page"],
      ["shop.acme.test", "/api/docs/index.txt"],
      ["shop.acme.test", "/api/docs/none"],
      ["shop.acme.test", "/api/nope"],
      ["shop.acme.test", "/app/settings"],
      ["storefront-staging.SUB.workers.dev", "/api/info"],
      ["orders-production.SUB.workers.dev", "/orders", "POST", '{"item":"tea","qty":2}'],
      ["orders-production.SUB.workers.dev", "/basket?item=a"],
      ["orders-production.SUB.workers.dev", "/invoice"],
      ["orders-production.SUB.workers.dev", "/"],
      ["api.acme.test", "/"],
      ["api.acme.test", "/version"],
      ["api.acme.test", "/orders"],
      ["acme.test", "/api/x"],
      ["api.acme.test", "/orders/count"],
      ["api.acme.test", "/baskets"],
      ["gateway-production.SUB.workers.dev", "/version"],
      ["docs.acme.test", "/"],
      ["docs.acme.test", "/guide"],
      ["docs.acme.test", "/guide/"],
      ["docs.acme.test", "/deep/link"],
      ["docs.acme.test", "/assets/app.js"],
      ["docs.acme.test", "/start"],
      ["docs.acme.test", "/v1/intro"],
      ["audit-tail.SUB.workers.dev", "/"],
      ["media-staging.SUB.workers.dev", "/"],
      ["media-staging.SUB.workers.dev", "/gallery"],
      ["media-staging.SUB.workers.dev", "/gallery/"],
      ["media-staging.SUB.workers.dev", "/about.html"],
      ["media-staging.SUB.workers.dev", "/old"],
      ["media-staging.SUB.workers.dev", "/g/x"],
      ["media-staging.SUB.workers.dev", "/nope"],
      ["media-staging.SUB.workers.dev", "/api/env"],
      ["media-staging.SUB.workers.dev", "/api/room"],
      ["media-staging.SUB.workers.dev", "/api/limit"],
      ["jobs.acme.test", "/"],
      ["jobs.acme.test", "/docs/"],
      ["jobs.acme.test", "/docs/index.html"],
      ["jobs.acme.test", "/api/meta"],
      ["jobs.acme.test", "/api/ledger"],
    ];
    const answers: Record<string, Record<string, Answer>> = { eu: {}, us: {} };
    for (const region of ["eu", "us"]) {
      const r = t.edge.region(region);
      for (const [host, path, method, body] of requests)
        answers[region]![`${method ?? "GET"} ${host}${path}`] = await send(r.port, host.replace("SUB", r.subdomain), path, method, body);
    }
    expect(answers["eu"]).toEqual(answers["us"]);
    const a = answers["eu"]!;
    const shop = (p: string) => a[`GET shop.acme.test${p}`]!;
    // _headers on assets (a later rule's Cache-Control wins for /style.css), not on the Worker's answers.
    expect(shop("/style.css")).toMatchObject({ status: 200, body: "body { color: #222 }\n" });
    expect(shop("/style.css").headers).toMatchObject({ "cache-control": "public, max-age=31536000, immutable", "x-frame-options": "DENY" });
    expect(shop("/").headers).toMatchObject({ "cache-control": "public, max-age=0, must-revalidate", "x-shop": "acme" });
    expect(shop("/api/info").headers["x-shop"]).toBeUndefined();
    // _redirects: status, target, query kept, placeholders.
    expect([shop("/old-about?ref=mail").status, shop("/old-about?ref=mail").headers["location"]]).toEqual([301, "/about?ref=mail"]);
    expect([shop("/promo/summer").status, shop("/promo/summer").headers["location"]]).toEqual([302, "/about?from=summer"]);
    expect([shop("/blog").status, shop("/blog").headers["location"]]).toEqual([308, "https://blog.acme.test/"]);
    // drop-trailing-slash, and static routing: not_found_handling answers paths no rule sends to
    // the Worker; `!/api/docs/*` goes to the assets (their 404 page), `/api/*` to the Worker.
    expect([shop("/about/").status, shop("/about/").headers["location"]]).toEqual([307, "/about"]);
    expect(shop("/missing")).toMatchObject({ status: 404, body: "<h1>Nothing here</h1>\n" });
    expect(shop("/api/docs/index.txt")).toMatchObject({ status: 200, body: "# API docs\n" });
    expect(shop("/api/docs/none")).toMatchObject({ status: 404, body: "<h1>Nothing here</h1>\n" });
    expect(shop("/api/nope")).toMatchObject({ status: 404, body: "api route /api/nope not found" });
    expect(shop("/app/settings")).toMatchObject({ status: 404, body: "<h1>Nothing here</h1>\n" });
    expect(shop("/api/page")).toMatchObject({ status: 200, body: "<h1>About Acme</h1>\n" });
    expect(JSON.parse(shop("/api/info").body)).toEqual({
      site: "Acme",
      features: { checkout: true, reviews: false, max_cart: 50 },
      b64: "QWNtZQ==",
      signed: createHmac("sha256", "k").update("cart=3").digest("hex"),
      ok: true,
    });
    expect(JSON.parse(shop("/api/session").body)).toEqual({ user: "ada" });
    expect(JSON.parse(a["GET storefront-staging.SUB.workers.dev/api/info"]!.body)).toMatchObject({
      site: "Acme (staging)",
      features: { checkout: true, reviews: true },
    });
    const orders = (p: string, m = "GET") => a[`${m} orders-production.SUB.workers.dev${p}`]!;
    expect(JSON.parse(orders("/orders", "POST").body)).toEqual({ id: 1, status: "new" });
    // The queue's consumer (batches of up to 5, 2 s timeout) marks the order in each account's D1.
    for (const region of ["eu", "us"]) {
      const host = `orders-production.${t.edge.region(region).subdomain}.workers.dev`;
      await eventually(async () => {
        const rows = JSON.parse((await send(t.edge.region(region).port, host, "/orders")).body);
        expect(rows, region).toEqual([{ id: 1, item: "tea", qty: 2, status: "queued" }]);
      }, 20_000);
    }
    expect(JSON.parse(orders("/basket?item=a").body)).toEqual({ items: ["a"] });
    expect(orders("/invoice").body).toBe("invoice 7 in EUR");
    expect(JSON.parse(a["GET api.acme.test/orders"]!.body)).toMatchObject({
      currency: "EUR",
      limits: { max_items: 20, regions: ["eu", "us"] },
    });
    expect(a["GET api.acme.test/orders"]!.headers["x-via"]).toBe("gateway");
    expect(a["GET api.acme.test/"]!.body).toBe("# Acme gateway\n\nRoutes: /version, /orders\n");
    expect(JSON.parse(a["GET api.acme.test/version"]!.body)).toEqual({ api: "2025-01", hasVersion: true });
    // RPC to a named entrypoint, and another Worker's Durable Object class through script_name.
    expect(JSON.parse(a["GET api.acme.test/orders/count"]!.body)).toEqual({ count: 1 });
    expect(JSON.parse(a["GET api.acme.test/baskets"]!.body)).toEqual({ items: ["a"] });
    // An assets-only SPA: force-trailing-slash, the shell for unknown paths, its own _headers/_redirects.
    const docs = (p: string) => a[`GET docs.acme.test${p}`]!;
    expect([docs("/guide").status, docs("/guide").headers["location"]]).toEqual([307, "/guide/"]);
    expect(docs("/guide/").body).toBe("<h1>Guide</h1>\n");
    expect(docs("/deep/link")).toMatchObject({ status: 200, body: '<!doctype html><div id="app">docs shell</div>\n' });
    expect(docs("/assets/app.js").headers).toMatchObject({ "cache-control": "public, max-age=604800", "x-robots-tag": "noindex" });
    expect([docs("/start").status, docs("/start").headers["location"]]).toEqual([301, "/guide/"]);
    expect([docs("/v1/intro").status, docs("/v1/intro").headers["location"]]).toEqual([302, "/guide/intro"]);
    expect(a["GET acme.test/api/x"]).toMatchObject({ status: 404, body: "no route" });
    // Routes without workers_dev: workers.dev stays off, as wrangler leaves it.
    expect(a["GET gateway-production.SUB.workers.dev/version"]!.status).toBe(404);
    expect(a["GET audit-tail.SUB.workers.dev/"]!.status).toBe(404);
    // run_worker_first = true: the Worker answers everything and passes through env.STATIC, whose
    // answers keep _headers, _redirects and auto-trailing-slash.
    const media = (p: string) => a[`GET media-staging.SUB.workers.dev${p}`]!;
    expect(media("/gallery/")).toMatchObject({ status: 200, body: "<h1>gallery</h1>\n" });
    expect(media("/gallery/").headers).toMatchObject({
      "x-served-by": "media",
      "cache-control": "public, max-age=60",
      "x-frame-options": "DENY",
    });
    expect([media("/gallery").status, media("/gallery").headers["location"]]).toEqual([307, "/gallery/"]);
    expect([media("/g/x").status, media("/g/x").headers["location"]]).toEqual([302, "/gallery/x"]);
    expect(JSON.parse(media("/api/env").body)).toEqual({ RETRIES: 3, DEBUG: true, LABEL: "staging", RATIO: 0.5, b64: "aGk=" });
    // html_handling none, not_found_handling none: only exact files; the rest is the Worker's.
    const jobs = (p: string) => a[`GET jobs.acme.test${p}`]!;
    expect(jobs("/docs/")).toMatchObject({ status: 404, body: "jobs worker: /docs/" });
    expect(jobs("/docs/index.html")).toMatchObject({ status: 200, body: "<h1>docs</h1>\n" });
    expect(JSON.parse(jobs("/api/meta").body)).toEqual({ mode: "batch", flags: ["a", "b"], meta: "string" });
  });

  it("a second round as teams make it: a new Durable Object class (tag v4), other crons, observability, a redirect, consumer settings, a kept var and a tail consumer removed, a header changed", {
    timeout: 300_000,
  }, async () => {
    for (const side of ["cbo", "wrangler"]) {
      const dir = join(root, side);
      const edit = async (rel: string, f: (text: string) => string) => {
        const file = join(dir, rel);
        await writeFile(file, f(await readFile(file, "utf8")));
      };
      await edit("orders/wrangler.jsonc", (c) =>
        c
          .replace(
            '{ "tag": "v3", "deleted_classes": ["Legacy"] },',
            '{ "tag": "v3", "deleted_classes": ["Legacy"] },\n    { "tag": "v4", "new_sqlite_classes": ["Ledger"] },',
          )
          .replace(
            '"bindings": [{ "name": "BASKET", "class_name": "Basket" }],\n      },\n      "d1_databases"',
            '"bindings": [{ "name": "BASKET", "class_name": "Basket" }, { "name": "LEDGER", "class_name": "Ledger" }],\n      },\n      "d1_databases"',
          )
          .replace('"crons": ["*/15 * * * *", "0 3 * * *"]', '"crons": ["*/30 * * * *"]')
          // Back to Cloudflare's defaults (3 retries, autoscaling), as the consumer PUT without them leaves it.
          .replace('"max_retries": 2,', "")
          .replace('"max_concurrency": 3,', ""),
      );
      await edit("jobs/wrangler.jsonc", (c) =>
        c
          .replace(/ {2}"placement".*\n/, "")
          .replace(/ {2}"limits".*\n/, "")
          .replace(/ {2}"triggers".*\n/, "")
          .replace('"route": "jobs.acme.test/*"', '"route": "jobs.acme.test/v2/*"')
          .replace(', "max_retries": 0', "")
          .replace(/ {6}\{ "queue": "job-results".*\n/, ""),
      );
      // Settings taken out of the file: both leave what Cloudflare leaves (the custom domain stays).
      await edit("edgy/wrangler.toml", (c) =>
        c
          .replace('compatibility_flags = ["nodejs_compat"]\nlogpush = true\npreview_urls = true\n', "")
          .replace(/\[placement\][^]*?\n\n/, "")
          .replace(/\[observability\][^]*?\n\n/, "")
          .replace(/\[assets\][^]*?\n\n/, "")
          .replace("workers_dev = false\n", "")
          .replace(', { pattern = "edgy-cd.acme.test", custom_domain = true }', "")
          .replace(', B = "2"', ""),
      );
      await edit("media/wrangler.toml", (c) =>
        c
          .replace(", RATIO = 0.5", "")
          .replace('tail_consumers = [{ service = "jobs" }]\n', "")
          .replace("run_worker_first = true\n", "")
          .replace("logpush = false\n", "logpush = true\n")
          .replace(/\[\[env\.staging\.unsafe\.bindings\]\][^]*$/, ""),
      );
      await edit("orders/src/index.ts", (c) => `${c}\nexport class Ledger extends DurableObject<Env> {}\n`);
      await edit("storefront/wrangler.toml", (c) => c.replace(/\[observability\][^[]*/, ""));
      await edit("storefront/public/_redirects", (c) => c.replace("/blog https://blog.acme.test/ 308\n", ""));
      await edit("storefront/public/_headers", (c) => c.replace("X-Shop: acme", "X-Shop: acme-2"));
    }
    // No wait: a release looks at the spec files as it is asked for.
    const edited: Project[] = ["orders", "storefront", "jobs", "media", "edgy"];
    for (const [p, env] of RELEASES.filter(([p]) => edited.includes(p))) {
      const r = await cbo(["release", scriptOf(p, env)]);
      expect(r.code, `cbo release ${scriptOf(p, env)}\n${r.stdout}\n${r.stderr}`).toBe(0);
      const w = await wr[p].run(["deploy", `--env=${env}`], { timeoutMs: 90_000 });
      expect(w.code, describeRun(w)).toBe(0);
    }
    const [ours, theirs] = [eu(), us()];
    for (const name of ["orders-production", "storefront-production", "storefront-staging", "jobs", "media-staging", "edgy-production"])
      expect(comparable(await ours.worker(name)), name).toEqual(comparable(await theirs.worker(name)));
    const orders = await ours.worker("orders-production");
    expect(orders.script["migration_tag"]).toBe("v4");
    expect(orders.durableObjects.map((n) => n["class"]).sort()).toEqual(["Basket", "Ledger"]);
    expect(orders.schedules).toEqual(["*/30 * * * *"]);
    expect(orders.consumers).toMatchObject([{ settings: { batch_size: 5, max_retries: 3, max_concurrency: null, retry_delay: 30 } }]);
    const jobs = await ours.worker("jobs");
    expect(jobs.consumers.find((c) => c["queue"] === "job-requests")).toMatchObject({ settings: { max_retries: 3 } });
    // What wrangler deploy leaves alone when the file drops it, cbo leaves too: crons (no
    // \`triggers\`), a consumer no longer listed, and (keep_vars) a var; the tail consumer stays set.
    expect(jobs.schedules).toEqual(["*/30 * * * *", "5 4 * * sun"]);
    expect(jobs.consumers.map((c) => c["queue"])).toEqual(["job-requests", "job-results"]);
    expect(jobs.settings).toMatchObject({ placement: {} });
    const media = await ours.worker("media-staging");
    expect(media.bindings.map((b) => b["name"])).toEqual(["AI", "DEBUG", "JOBS", "LABEL", "RATIO", "RETRIES", "RL", "ROOM", "STATIC"]);
    expect(media.settings).toMatchObject({ logpush: true, tail_consumers: [{ service: "jobs" }] });
    const edgy = await ours.worker("edgy-production");
    expect(edgy.settings).toMatchObject({ compatibility_flags: [], placement: {}, observability: { enabled: false } });
    expect(edgy.bindings.map((b) => b["name"])).toEqual(["A"]);
    expect(edgy.domains).toEqual(["edgy-cd.acme.test"]);
    for (const region of ["eu", "us"]) {
      // No assets any more: the Worker answers / itself.
      const home = await send(t.edge.region(region).port, "edgy.acme.test", "/");
      expect(JSON.parse(home.body), region).toEqual({ path: "/", A: "1", B: null, proc: "undefined" });
    }
    expect((await ours.worker("storefront-production")).scriptSettings["observability"]).toEqual({ enabled: false });
    for (const region of ["eu", "us"]) {
      const port = t.edge.region(region).port;
      const blog = await send(port, "shop.acme.test", "/blog");
      expect(blog, region).toMatchObject({ status: 404, body: "<h1>Nothing here</h1>\n" });
      expect(blog.headers["x-shop"], region).toBe("acme-2");
      // The Durable Object kept its state across the migration.
      const basket = await send(port, `orders-production.${t.edge.region(region).subdomain}.workers.dev`, "/basket?item=b");
      expect(JSON.parse(basket.body), region).toEqual({ items: ["a", "b"] });
    }
  });
});
