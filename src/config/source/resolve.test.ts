// orchestrator.yaml -> WorkerSource per target: env selection per worker and per target, names
// from the wrangler file, every binding kind declared directly, resource identity and overrides.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CboError } from "../../kit/errors.ts";
import { loadSpec } from "../load.ts";
import { resourcesOf, WorkerSourceSchema } from "./model.ts";

const API_TOML = `name = "api"
main = "src/index.ts"
compatibility_date = "2025-01-01"

[vars]
APP_ENV = "dev"
API_BASE = "http://localhost:9000"

[[kv_namespaces]]
binding = "CACHE"
id = "aaaa"

[[queues.producers]]
binding = "CONVERSIONS"
queue = "conversions"

[[queues.consumers]]
queue = "conversions"

[build]
command = "npm run build"

[env.production]
name = "api-live"
[env.production.vars]
APP_ENV = "production"
API_BASE = "https://api.example.com"
LIMITS = { max = 3 }
[[env.production.kv_namespaces]]
binding = "CACHE"
id = "bbbb"

[env.staging.vars]
APP_ENV = "staging"
`;
const BILLING_TOML = `name = "billing"
main = "index.js"
compatibility_date = "2025-01-01"
[[kv_namespaces]]
binding = "CACHE"
id = "cccc"
[[kv_namespaces]]
binding = "SHARED"
id = "aaaa"
`;

function project(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), "cbo-sources-"));
  mkdirSync(join(dir, "api"), { recursive: true });
  mkdirSync(join(dir, "billing"), { recursive: true });
  writeFileSync(join(dir, "api", "wrangler.toml"), API_TOML);
  writeFileSync(join(dir, "billing", "wrangler.toml"), BILLING_TOML);
  const file = join(dir, "orchestrator.yaml");
  writeFileSync(file, `targets: [{ name: eu }, { name: us }, { name: ap }]\n${yaml}`);
  return file;
}
function refusal(fn: () => unknown): CboError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CboError);
    return e as CboError;
  }
  throw new Error("expected a refusal");
}

describe("wrangler workers in orchestrator.yaml", () => {
  it("takes the name from the file, and each target releases the environment `env:` picks for it", () => {
    const spec = loadSpec(project(`workers:\n  - { wrangler: api/wrangler.toml, env: { "*": production, ap: staging }, build: true }\n`));
    const w = spec.workers[0]!;
    expect(w.name).toBe("api-live");
    expect(w.sources!["eu"]!.name).toBe("api-live");
    expect(w.sources!["us"]).toBe(w.sources!["eu"]);
    expect(w.sources!["ap"]!.name).toBe("api-staging");
    // production's vars, never the top level's dev values
    expect(w.source!.vars).toEqual({ APP_ENV: "production", API_BASE: "https://api.example.com", LIMITS: { max: 3 } });
    expect(w.vars).toEqual({ APP_ENV: "production", API_BASE: "https://api.example.com", LIMITS: '{"max":3}' });
    expect(w.sources!["ap"]!.vars).toEqual({ APP_ENV: "staging" });
    expect(w.source!.build.command).toMatchObject({ run: "npm run build", allowed: true });
    for (const s of Object.values(w.sources!)) expect(WorkerSourceSchema.safeParse(s).success).toBe(true);
  });

  it("a plain `env:` picks one environment everywhere; without it, the top level", () => {
    const spec = loadSpec(
      project(`workers:\n  - { wrangler: api/wrangler.toml, env: staging }\n  - { wrangler: billing/wrangler.toml }\n`),
    );
    expect(spec.workers.map((w) => w.name)).toEqual(["api-staging", "billing"]);
    expect(Object.values(spec.workers[0]!.sources!).map((s) => s.name)).toEqual(["api-staging", "api-staging", "api-staging"]);
    // A [build] command not allowed stays not allowed (the build refuses it).
    expect(spec.workers[0]!.source!.build.command?.allowed).toBe(false);
  });

  it("`name:` is the script name in every target", () => {
    const w = loadSpec(project(`workers:\n  - { name: edge-api, wrangler: api/wrangler.toml, env: { "*": production, ap: staging } }\n`))
      .workers[0]!;
    expect(Object.values(w.sources!).map((s) => s.name)).toEqual(["edge-api", "edge-api", "edge-api"]);
  });

  it("gives two Workers that bind CACHE to different namespaces different resources, and one resource per wrangler id", () => {
    const w = loadSpec(project(`workers:\n  - { wrangler: api/wrangler.toml }\n  - { wrangler: billing/wrangler.toml }\n`)).workers;
    expect(w[0]!.kv).toEqual({ CACHE: "api-cache" });
    expect(w[1]!.kv).toEqual({ CACHE: "billing-cache", SHARED: "api-cache" });
    const shared = w[1]!.source!.bindings.find((b) => b.binding === "SHARED");
    expect(shared).toMatchObject({ resource: { kind: "kv", name: "api-cache", nameFrom: "shared-id", wranglerId: "aaaa" } });
    // Environments of one file get their own names (their Worker names differ).
    const prod = loadSpec(project(`workers:\n  - { wrangler: api/wrangler.toml, env: production }\n`)).workers[0]!;
    expect(prod.kv).toEqual({ CACHE: "api-live-cache" });
  });

  it("renames resources with `resources:` (a consumer follows its producer), and refuses a key that matches nothing", () => {
    const w = loadSpec(project(`workers:\n  - { wrangler: api/wrangler.toml, resources: { CACHE: shared-cache, CONVERSIONS: conv-eu } }\n`))
      .workers[0]!;
    expect(resourcesOf(w.source!).map((r) => `${r.kind}:${r.name}:${r.nameFrom}`)).toEqual([
      "kv:shared-cache:override",
      "queue:conv-eu:override",
    ]);
    expect(w.source!.queueConsumers[0]!.queue.name).toBe("conv-eu");
    const byQueue = loadSpec(project(`workers:\n  - { wrangler: api/wrangler.toml, resources: { "queue:conversions": q2 } }\n`))
      .workers[0]!;
    expect(resourcesOf(byQueue.source!).map((r) => r.name)).toEqual(["api-cache", "q2"]);
    const e = refusal(() => loadSpec(project(`workers:\n  - { wrangler: api/wrangler.toml, resources: { CAHCE: x } }\n`)));
    expect(e.message).toContain(`workers[0].resources: "CAHCE" matches no KV, D1, R2 or queue binding of this worker.`);
    expect(e.hint).toContain("CACHE");
  });

  it("keys in orchestrator.yaml win over the file: vars merge, a binding of the same name is replaced", () => {
    const w = loadSpec(
      project(`workers:\n  - { wrangler: api/wrangler.toml, vars: { APP_ENV: eu }, kv: { CACHE: my-cache }, d1: { DB: sites } }\n`),
    ).workers[0]!;
    expect(w.source!.vars).toEqual({ APP_ENV: "eu", API_BASE: "http://localhost:9000" });
    expect(w.kv).toEqual({ CACHE: "my-cache" });
    expect(w.source!.bindings.map((b) => `${b.kind}:${b.binding}`)).toEqual(["queue:CONVERSIONS", "kv:CACHE", "d1:DB"]);
  });

  it("refuses what it cannot honour with the key's path: a bad env, env on a main worker, build: true without a command, a refused wrangler key", () => {
    expect(refusal(() => loadSpec(project(`workers:\n  - { wrangler: api/wrangler.toml, env: prod }\n`))).message).toContain(
      "env.prod: no such environment in this file (defined: production, staging)",
    );
    expect(refusal(() => loadSpec(project(`workers:\n  - { name: x, main: x.js, env: production }\n`))).message).toContain(
      "workers[0].env: `env` picks an environment of a wrangler file",
    );
    expect(
      refusal(() => loadSpec(project(`workers:\n  - { wrangler: api/wrangler.toml, env: { mars: production } }\n`))).message,
    ).toContain(`workers[0].env.mars: unknown target "mars"`);
    expect(refusal(() => loadSpec(project(`workers:\n  - { wrangler: billing/wrangler.toml, build: true }\n`))).message).toContain(
      "`build: true` runs the wrangler file's [build] command, but that file has none",
    );
    const file = project(`workers:\n  - { wrangler: billing/wrangler.toml }\n`);
    writeFileSync(
      join(file, "..", "billing", "wrangler.toml"),
      `${BILLING_TOML}[env.production]\n[[env.production.dispatch_namespaces]]\nbinding = "D"\nnamespace = "ns"\n`,
    );
    writeFileSync(file, `targets: [{ name: eu }]\nworkers:\n  - { wrangler: billing/wrangler.toml, env: production }\n`);
    expect(refusal(() => loadSpec(file)).message).toContain(
      "wrangler.toml: env.production.dispatch_namespaces: dispatch namespaces (Workers for Platforms) are not supported by the orchestrator (remove it, or deploy this Worker with wrangler)",
    );
    expect(
      refusal(() => loadSpec(project(`workers:\n  - { wrangler: api/wrangler.toml }\n  - { wrangler: api/wrangler.toml }\n`))).message,
    ).toContain(`worker "api" is declared twice`);
  });
});

describe("workers declared in orchestrator.yaml", () => {
  it("take every binding kind, trigger, setting and build key", () => {
    const w = loadSpec(
      project(`workers:
  - name: ads-api
    main: api/src/index.ts
    compatibility_date: "2025-01-01"
    vars: { GREETING: Hello, N: 3 }
    kv: { EVENTS: ads-events }
    d1: { DB: { name: sites, migrations_dir: api/migrations } }
    r2: { EXPORTS: { name: exports, jurisdiction: eu } }
    queues: { producers: { CONVERSIONS: conversions }, consumers: [{ queue: conversions, max_batch_size: 10, dead_letter_queue: dlq }] }
    durable_objects: { LIMITER: RateLimiter, REMOTE: { class_name: Counter, script_name: counter } }
    migrations: [{ tag: v1, new_sqlite_classes: [RateLimiter] }]
    services: { ATTRIBUTION: ads-attribution, RPC: { service: billing, entrypoint: Billing } }
    analytics_engine: { AE: ads_events }
    ai: AI
    hyperdrive: { HD: abc }
    ratelimits: { LIMIT: { namespace_id: "1001", limit: 100, period: 60 } }
    version_metadata: VERSION
    assets: { directory: public, binding: ASSETS, not_found_handling: single-page-application }
    crons: ["*/5 * * * *"]
    routes: [api.example.com/*, { pattern: shop.example.com, custom_domain: true }]
    workers_dev: false
    placement: { mode: smart }
    limits: { cpu_ms: 50 }
    observability: { enabled: true }
    logpush: true
    tail_consumers: [{ service: tail }]
    define: { __X__: '"1"' }
    alias: { lib: ./api/lib.ts }
    rules: [{ type: Text, globs: ["**/*.md"], fallthrough: true }]
    minify: true
    build: { command: make, cwd: api }
`),
    ).workers[0]!;
    const s = w.source!;
    expect(WorkerSourceSchema.safeParse(s).success).toBe(true);
    expect(s.bindings.map((b) => `${b.kind}:${b.binding}`)).toEqual([
      "kv:EVENTS",
      "d1:DB",
      "r2:EXPORTS",
      "queue:CONVERSIONS",
      "durable_object:LIMITER",
      "durable_object:REMOTE",
      "service:ATTRIBUTION",
      "service:RPC",
      "analytics_engine:AE",
      "ai:AI",
      "hyperdrive:HD",
      "ratelimit:LIMIT",
      "version_metadata:VERSION",
      "assets:ASSETS",
    ]);
    expect(s.bindings.find((b) => b.kind === "d1")).toMatchObject({
      resource: { name: "sites", nameFrom: "spec" },
      migrations: { dir: expect.stringMatching(/\/api\/migrations$/), table: "d1_migrations" },
    });
    expect(s.bindings.find((b) => b.kind === "r2")).toMatchObject({ resource: { name: "exports", jurisdiction: "eu" } });
    expect(s.queueConsumers).toEqual([
      {
        queue: { kind: "queue", name: "conversions", nameFrom: "spec" },
        maxBatchSize: 10,
        deadLetterQueue: { kind: "queue", name: "dlq", nameFrom: "spec" },
      },
    ]);
    expect(s.triggers).toEqual({ crons: ["*/5 * * * *"] });
    expect(s.routes).toEqual([{ pattern: "api.example.com/*" }, { pattern: "shop.example.com", customDomain: true }]);
    expect(s.settings).toMatchObject({
      workersDev: false,
      placement: { mode: "smart" },
      limits: { cpuMs: 50 },
      logpush: true,
      tailConsumers: [{ service: "tail" }],
      keepVars: false,
    });
    expect(s.build).toMatchObject({
      minify: true,
      define: { __X__: '"1"' },
      command: { run: "make", cwd: expect.stringMatching(/\/api$/), allowed: true },
    });
    expect(w.services).toEqual({ ATTRIBUTION: "ads-attribution", RPC: "billing" });
    expect(w.versionMetadata).toBe("VERSION");
  });

  it("refuses a binding name used twice, and a worker given by main without a name", () => {
    expect(refusal(() => loadSpec(project(`workers:\n  - { name: a, main: a.js, vars: { X: "1" }, kv: { X: t } }\n`))).message).toContain(
      `the binding name "X" is used twice`,
    );
    expect(refusal(() => loadSpec(project(`workers:\n  - { main: a.js }\n`))).message).toContain(
      "workers[0].name: a worker given by `main` needs a name",
    );
  });
});
