// What our client and the build layer send, compared with what real wrangler (the pinned latest)
// sends for the same project:
//   bindings  `wrangler deploy --dry-run --outfile` writes the upload form; its metadata's
//             bindings (and placement, limits, logpush, observability, tail consumers) equal
//             bindingsMetadata / uploadSettingsFromSource on the WorkerSource our reader makes of
//             the same wrangler file, given the file's own ids
//   assets    wrangler deploys an assets directory to the local edge; our manifest of the same
//             directory then needs no upload at all (every hash is one wrangler uploaded) and
//             lists exactly the files that serve
//   D1        `wrangler d1 migrations apply --remote` applies a migrations directory; the table
//             holds our file listing in our order, and what is pending matches `migrations list`
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildAssetManifest } from "../src/build/assets-manifest.ts";
import { listD1MigrationFiles, pendingD1Migrations } from "../src/build/d1-migration-files.ts";
import { bindingsMetadata, uploadSettingsFromSource } from "../src/cloudflare/index.ts";
import { loadSpec } from "../src/config/load.ts";
import { startTestEdge, type TestEdge } from "./support/edge.ts";
import { recordingClient } from "./support/cf-client.ts";
import { eventually, httpGet } from "./support/http.ts";
import { stripAnsi } from "./support/text.ts";
import { createWranglerProject, describeRun } from "./support/wrangler.ts";
import { wranglerDryRun } from "./support/wrangler-dry-run.ts";

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

const KV_ID = "0123456789abcdef0123456789abcdef";
const D1_ID = "11111111-2222-4333-8444-555555555555";

const WRANGLER_CONFIG = {
  name: "conformance",
  main: "src/index.js",
  compatibility_date: "2025-01-01",
  vars: { GREETING: "hi", LIMITS: { max: 3 }, FLAG: true, NUM: 7 },
  kv_namespaces: [{ binding: "CACHE", id: KV_ID }],
  d1_databases: [{ binding: "DB", database_name: "main-db", database_id: D1_ID }],
  r2_buckets: [
    { binding: "FILES", bucket_name: "exports", jurisdiction: "eu" },
    { binding: "PLAIN", bucket_name: "plain" },
  ],
  queues: {
    producers: [
      { binding: "JOBS", queue: "jobs", delivery_delay: 5 },
      { binding: "MORE", queue: "more" },
    ],
  },
  durable_objects: {
    bindings: [
      { name: "COUNTER", class_name: "Counter" },
      { name: "REMOTE", class_name: "Room", script_name: "chat" },
    ],
  },
  services: [
    { binding: "SVC", service: "billing", entrypoint: "Admin" },
    { binding: "PLAIN_SVC", service: "other" },
  ],
  analytics_engine_datasets: [{ binding: "AE", dataset: "events" }, { binding: "AE2" }],
  ai: { binding: "AI" },
  hyperdrive: [{ binding: "HD", id: "0123456789abcdef0123456789abcdef" }],
  ratelimits: [{ name: "RL", namespace_id: "1001", simple: { limit: 100, period: 60 } }],
  version_metadata: { binding: "VM" },
  assets: { directory: "public", binding: "ASSETS" },
  placement: { mode: "smart" },
  limits: { cpu_ms: 100 },
  logpush: true,
  observability: { enabled: true, head_sampling_rate: 0.5 },
  tail_consumers: [{ service: "tail" }],
};

describe("our upload metadata is what wrangler deploy --dry-run writes", () => {
  it("bindings, in wrangler's shapes and order, and the version settings", { timeout: 180_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "cbo-conformance-"));
    made.push(dir);
    mkdirSync(join(dir, "src"));
    mkdirSync(join(dir, "public"));
    writeFileSync(join(dir, "public", "index.html"), "<h1>x</h1>");
    writeFileSync(
      join(dir, "src", "index.js"),
      `import { DurableObject } from "cloudflare:workers";\nexport class Counter extends DurableObject {}\nexport default { fetch() { return new Response("x"); } };\n`,
    );
    writeFileSync(join(dir, "wrangler.jsonc"), JSON.stringify(WRANGLER_CONFIG, null, 2));
    writeFileSync(join(dir, "orchestrator.yaml"), "targets: [{ name: eu }]\nworkers:\n  - { wrangler: wrangler.jsonc }\n");
    const theirs = await wranglerDryRun("latest", dir, join(dir, "out"));
    const source = loadSpec(join(dir, "orchestrator.yaml")).workers[0]!.source!;
    const ids = { kv: {} as Record<string, string>, d1: {} as Record<string, string> };
    for (const b of source.bindings) {
      if (b.kind === "kv" || b.kind === "d1") ids[b.kind][b.resource.name] = b.resource.wranglerId!;
    }
    const ours = bindingsMetadata({ vars: source.vars, bindings: source.bindings, ids });
    // Byte for byte: the same keys, the same values, the same order.
    expect(JSON.stringify(ours)).toBe(JSON.stringify(theirs.metadata.bindings));
    const settings = uploadSettingsFromSource(source.settings);
    expect({
      placement: theirs.metadata.placement,
      limits: theirs.metadata.limits,
      logpush: theirs.metadata.logpush,
      observability: theirs.metadata.observability,
      tail_consumers: theirs.metadata.tail_consumers,
    }).toEqual({
      placement: settings.placement,
      limits: settings.limits,
      logpush: settings.logpush,
      observability: settings.observability,
      tail_consumers: settings.tailConsumers,
    });
  });
});

describe("against real wrangler on the local edge", () => {
  let t: TestEdge;

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu"] });
  });
  afterAll(async () => t?.dispose());

  it("assets: after wrangler deploys a directory, our manifest of it needs no upload and names exactly what serves", {
    timeout: 180_000,
  }, async () => {
    const dir = join(t.dataDir, "assets-project");
    const project = await createWranglerProject(dir, t.edge, t.region.accountId);
    const files: Record<string, string> = {
      "public/index.html": "<h1>home</h1>",
      "public/css/site.css": "body{}",
      "public/js/app.min.js": "1",
      "public/img/logo.svg": "<svg/>",
      "public/fonts/x.woff2": "font",
      "public/README": "no extension",
      "public/.well-known/security.txt": "contact",
      "public/data/report.JSON": "{}",
      "public/docs/Guide.MD": "# guide",
      "public/drafts/wip.html": "draft",
      "public/notes.bak": "old",
      "public/.assetsignore": "drafts/\n*.bak\n",
      "public/_headers": "/*\n  X-A: 1\n",
    };
    for (const [rel, content] of Object.entries(files)) await project.writeFile(rel, content);
    await project.writeConfig({ name: "static-site", compatibility_date: "2025-04-01", assets: { directory: "public" } });
    const r = await project.run(["deploy"], { timeoutMs: 120_000 });
    expect(r.code, describeRun(r)).toBe(0);

    const built = await buildAssetManifest(join(dir, "public"), { root: dir });
    expect(Object.keys(built.manifest)).toEqual([
      "/.well-known/security.txt",
      "/README",
      "/css/site.css",
      "/data/report.JSON",
      "/docs/Guide.MD",
      "/fonts/x.woff2",
      "/img/logo.svg",
      "/index.html",
      "/js/app.min.js",
    ]);
    const { cf } = recordingClient(t);
    // Every hash of ours is one wrangler uploaded (the edge asks only for what it lacks).
    expect((await cf.createAssetsUploadSession("static-site", built.manifest)).buckets).toEqual([]);
    // And the control: a file wrangler did not upload is asked for, alone.
    writeFileSync(join(dir, "public", "new.txt"), "new");
    const more = await buildAssetManifest(join(dir, "public"), { root: dir });
    expect((await cf.createAssetsUploadSession("static-site", more.manifest)).buckets).toEqual([[more.manifest["/new.txt"]!.hash]]);
    // Served (an .html path answers with a 307 to its canonical form, as Cloudflare's html_handling does).
    for (const path of Object.keys(built.manifest)) {
      await eventually(async () =>
        expect([200, 307], path).toContain((await httpGet(t.region.port, "static-site.localhost", { path })).status),
      );
    }
    for (const path of ["/drafts/wip.html", "/notes.bak", "/_headers", "/.assetsignore"]) {
      expect((await httpGet(t.region.port, "static-site.localhost", { path })).status, path).toBe(404);
    }
  });

  it("D1 migrations: wrangler applies our listing in our order; our pending set is what wrangler lists", { timeout: 180_000 }, async () => {
    const dir = join(t.dataDir, "d1-project");
    const project = await createWranglerProject(dir, t.edge, t.region.accountId);
    const { cf } = recordingClient(t);
    const db = await cf.createD1Database("migrated");
    const migrations = ["10_ten.sql", "2_two.sql", "0001_one.sql", "alpha.sql", "1_b.sql", "sub/3_nested.sql", "README.md"];
    for (const m of migrations) await project.writeFile(`migrations/${m}`, `CREATE TABLE IF NOT EXISTS t_${m.replace(/\W/g, "_")} (x);\n`);
    await project.writeConfig({
      name: "d1-user",
      main: "src/index.js",
      compatibility_date: "2025-01-01",
      d1_databases: [{ binding: "DB", database_name: "migrated", database_id: db.uuid }],
    });
    await project.writeSource("export default { fetch() { return new Response('x'); } };");
    const r = await project.run(["d1", "migrations", "apply", "DB", "--remote"], { timeoutMs: 120_000 });
    expect(r.code, describeRun(r)).toBe(0);

    const ours = await listD1MigrationFiles({ dir: join(dir, "migrations"), root: dir });
    expect(ours.map((f) => f.name)).toEqual(["0001_one.sql", "1_b.sql", "2_two.sql", "10_ten.sql", "alpha.sql"]);
    expect(await cf.listAppliedD1Migrations(db.uuid)).toEqual(ours.map((f) => f.name));
    expect(pendingD1Migrations(ours, await cf.listAppliedD1Migrations(db.uuid))).toEqual([]);

    await project.writeFile("migrations/3_three.sql", "CREATE TABLE t3 (x);\n");
    await project.writeFile("migrations/0_zero.sql", "CREATE TABLE t0 (x);\n");
    const pending = pendingD1Migrations(
      await listD1MigrationFiles({ dir: join(dir, "migrations"), root: dir }),
      await cf.listAppliedD1Migrations(db.uuid),
    ).map((f) => f.name);
    expect(pending).toEqual(["0_zero.sql", "3_three.sql"]);
    const listed = await project.run(["d1", "migrations", "list", "DB", "--remote"], { timeoutMs: 120_000 });
    expect(listed.code, describeRun(listed)).toBe(0);
    const out = stripAnsi(listed.stdout);
    for (const name of pending) expect(out).toContain(name);
    for (const name of ours.map((f) => f.name)) expect(out).not.toContain(name);
    // What we apply, wrangler then counts as applied.
    await cf.ensureD1MigrationsTable(db.uuid);
    for (const f of pending)
      await cf.applyD1Migration(db.uuid, { name: f, sql: `CREATE TABLE IF NOT EXISTS t_${f.replace(/\W/g, "_")} (x);` });
    const after = await project.run(["d1", "migrations", "list", "DB", "--remote"], { timeoutMs: 120_000 });
    expect(stripAnsi(after.stdout), describeRun(after)).toMatch(/No migrations to apply/);
  });
});
