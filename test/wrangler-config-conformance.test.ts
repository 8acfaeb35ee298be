// The reader reads wrangler files the way wrangler does: for a corpus of configs (TOML and JSONC,
// with and without environments, every binding kind the orchestrator reads, dev-only keys),
// src/config/wrangler's WorkerSource agrees with what real wrangler's unstable_readConfig({ config,
// env }) returns (4.164 and 4.86, each in a child process), projected onto WorkerSource's fields by
// `fromWrangler` below. Where 4.86 and 4.164 disagree the reader follows 4.164; the test lists
// each such case. Files wrangler refuses are refused too; files the orchestrator refuses on
// purpose (keys it cannot honour) are refused naming the key.
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { derivedResourceName } from "../src/config/source/resources.ts";
import type { WorkerSource } from "../src/config/source/model.ts";
import { readWranglerWorker } from "../src/config/wrangler/index.ts";
import { CboError } from "../src/kit/errors.ts";
import type { Unstable_Config } from "wrangler";

const repo = fileURLToPath(new URL("../", import.meta.url));
const corpus = join(repo, "test", "fixtures", "wrangler-configs");
type Job = { config: string; env?: string };
type Answer = { config?: Unstable_Config; error?: string };

/** unstable_readConfig for every job, in one child process per wrangler version. */
function readWithWrangler(version: "latest" | "4.86", jobs: Job[]): Promise<Answer[]> {
  const withCwd = jobs.map((j) => ({ ...j, cwd: dirname(j.config) }));
  const home = mkdtempSync(join(tmpdir(), "cbo-rc-home-"));
  return new Promise((ok, fail) => {
    execFile(
      process.execPath,
      [join(repo, "test", "support", "wrangler-read-config.ts"), version, JSON.stringify(withCwd)],
      {
        env: { PATH: process.env["PATH"], HOME: home, WRANGLER_SEND_METRICS: "false", CI: "1" },
        maxBuffer: 64 * 1024 * 1024,
        timeout: 120_000,
      },
      (err, stdout, stderr) => {
        if (err) return fail(new Error(`${String(err)}\n${stderr}`));
        ok(
          stdout
            .trim()
            .split("\n")
            .map((l) => JSON.parse(l) as Answer),
        );
      },
    );
  });
}

/** wrangler's normalized config, for one environment, in WorkerSource's terms (the test's oracle). */
function fromWrangler(c: Unstable_Config, file: string): Omit<WorkerSource, "origin" | "projectRoot" | "warnings" | "ignored"> {
  const dir = dirname(file);
  // wrangler types name, services and assets.directory as optional; it fills them in for every config of
  // the corpus (were one missing, the comparison with the reader would fail).
  const name = c.name!;
  const res = (kind: string, binding: string, wranglerName: string | undefined, extra: Record<string, unknown> = {}) => ({
    kind,
    name: wranglerName ?? derivedResourceName(name, binding),
    nameFrom: wranglerName ? "wrangler" : "derived",
    ...extra,
  });
  const opt = <T>(k: string, v: T | undefined) => (v === undefined ? {} : { [k]: v });
  const bindings: unknown[] = [
    ...c.kv_namespaces.map((k) => ({
      kind: "kv",
      binding: k.binding,
      resource: res("kv", k.binding, undefined, opt("wranglerId", k.id)),
    })),
    ...c.d1_databases.map((d) => ({
      kind: "d1",
      binding: d.binding,
      resource: res("d1", d.binding, d.database_name, { ...opt("wranglerId", d.database_id), ...opt("jurisdiction", d.jurisdiction) }),
      migrations: {
        dir: resolve(dir, d.migrations_dir ?? "migrations"),
        table: d.migrations_table ?? "d1_migrations",
        ...opt("pattern", d.migrations_pattern),
      },
    })),
    ...c.r2_buckets.map((r) => ({
      kind: "r2",
      binding: r.binding,
      resource: res("r2", r.binding, r.bucket_name, opt("jurisdiction", r.jurisdiction)),
    })),
    ...(c.queues.producers ?? []).map((p) => ({
      kind: "queue",
      binding: p.binding,
      resource: res("queue", p.binding, p.queue),
      ...opt("deliveryDelay", p.delivery_delay),
    })),
    ...c.durable_objects.bindings.map((d) => ({
      kind: "durable_object",
      binding: d.name,
      className: d.class_name,
      ...opt("scriptName", d.script_name),
      ...opt("environment", d.environment),
    })),
    ...c.services!.map((s) => ({
      kind: "service",
      binding: s.binding,
      service: s.service,
      ...opt("environment", s.environment),
      ...opt("entrypoint", s.entrypoint),
      ...opt("props", s.props),
    })),
    ...c.analytics_engine_datasets.map((a) => ({ kind: "analytics_engine", binding: a.binding, ...opt("dataset", a.dataset) })),
    ...(c.ai ? [{ kind: "ai", binding: c.ai.binding, ...opt("staging", c.ai.staging) }] : []),
    ...c.hyperdrive.map((h) => ({ kind: "hyperdrive", binding: h.binding, id: h.id })),
    ...[...c.ratelimits, ...(c.unsafe?.bindings ?? []).filter((b) => b.type === "ratelimit")].map((r) => ({
      kind: "ratelimit",
      binding: r.name,
      namespaceId: r.namespace_id,
      simple: r.simple,
    })),
    ...(c.version_metadata ? [{ kind: "version_metadata", binding: c.version_metadata.binding }] : []),
    ...(c.assets?.binding ? [{ kind: "assets", binding: c.assets.binding }] : []),
  ];
  // wrangler's route kinds (by zone id, by zone name, custom domain) as one shape with every key optional.
  type AnyRoute =
    | string
    | { pattern: string; zone_id?: string; zone_name?: string; custom_domain?: boolean; enabled?: boolean; previews_enabled?: boolean };
  const route = (r: AnyRoute) =>
    typeof r === "string"
      ? { pattern: r }
      : {
          pattern: r.pattern,
          ...opt("zoneId", r.zone_id),
          ...opt("zoneName", r.zone_name),
          ...opt("customDomain", r.custom_domain),
          ...opt("enabled", r.enabled),
          ...opt("previewsEnabled", r.previews_enabled),
        };
  return {
    name,
    ...opt("main", c.main),
    ...opt("compatibilityDate", c.compatibility_date),
    compatibilityFlags: c.compatibility_flags,
    vars: c.vars,
    bindings: bindings as WorkerSource["bindings"],
    migrations: c.migrations,
    queueConsumers: (c.queues.consumers ?? []).map((q) => ({
      queue: { kind: "queue", name: q.queue, nameFrom: "wrangler" },
      ...opt("maxBatchSize", q.max_batch_size),
      ...opt("maxBatchTimeout", q.max_batch_timeout),
      ...opt("maxRetries", q.max_retries),
      ...(q.dead_letter_queue ? { deadLetterQueue: { kind: "queue", name: q.dead_letter_queue, nameFrom: "wrangler" } } : {}),
      ...opt("maxConcurrency", q.max_concurrency),
      ...opt("visibilityTimeoutMs", q.visibility_timeout_ms),
      ...opt("retryDelay", q.retry_delay),
    })),
    triggers: c.triggers.crons !== undefined ? { crons: c.triggers.crons } : {},
    routes: (c.routes ?? (c.route !== undefined ? [c.route] : [])).map(route),
    ...(c.assets
      ? {
          assets: {
            directory: resolve(dir, c.assets.directory!),
            ...opt("htmlHandling", c.assets.html_handling),
            ...opt("notFoundHandling", c.assets.not_found_handling),
            ...opt("runWorkerFirst", c.assets.run_worker_first),
          },
        }
      : {}),
    build: {
      ...(c.build.command ? { command: { run: c.build.command, cwd: resolve(dir, c.build.cwd ?? "."), allowed: false } } : {}),
      noBundle: c.no_bundle ?? false,
      minify: c.minify ?? false,
      keepNames: c.keep_names ?? true,
      ...opt("uploadSourceMaps", c.upload_source_maps),
      define: c.define,
      alias: c.alias ?? {},
      rules: c.rules as WorkerSource["build"]["rules"],
      ...opt("findAdditionalModules", c.find_additional_modules),
      ...opt("baseDir", c.base_dir),
      preserveFileNames: c.preserve_file_names ?? false,
      // wrangler gives tsconfig relative to the cwd (here the file's directory).
      ...(c.tsconfig ? { tsconfig: resolve(dir, c.tsconfig) } : {}),
      jsxFactory: c.jsx_factory,
      jsxFragment: c.jsx_fragment,
    },
    settings: {
      // What wrangler deploy then sets (getSubdomainValues): unset, workers.dev is on only without routes.
      workersDev: c.workers_dev ?? (c.routes ?? (c.route !== undefined ? [c.route] : [])).length === 0,
      ...opt("previewUrls", c.preview_urls),
      ...opt("placement", c.placement),
      ...(c.limits ? { limits: { ...opt("cpuMs", c.limits.cpu_ms), ...opt("subrequests", c.limits.subrequests) } } : {}),
      // wrangler deploy's default (it PATCHes `observability ?? { enabled: false }`).
      observability: (c.observability as Record<string, never> | undefined) ?? { enabled: false },
      ...opt("logpush", c.logpush),
      ...opt("tailConsumers", c.tail_consumers),
      keepVars: c.keep_vars ?? false,
    },
    requiredSecrets: c.secrets?.required ?? [],
  };
}

const ours = (job: Job) => {
  const {
    origin: _o,
    projectRoot: _p,
    warnings: _w,
    ignored: _i,
    ...rest
  } = readWranglerWorker(job.config, job.env !== undefined ? { env: job.env } : {});
  return rest;
};

const ACCEPTED: Job[] = [
  { config: join(corpus, "full.toml") },
  { config: join(corpus, "full.toml"), env: "production" },
  { config: join(corpus, "full.toml"), env: "staging" },
  { config: join(corpus, "full.jsonc") },
  { config: join(corpus, "full.jsonc"), env: "eu" },
  { config: join(corpus, "minimal.toml") },
  { config: join(corpus, "dev-keys.jsonc") },
  { config: join(corpus, "routes.toml") },
  { config: join(corpus, "routes.toml"), env: "canary" },
  { config: join(corpus, "routes.toml"), env: "quiet" },
  { config: join(corpus, "assets-only.toml") },
  { config: join(corpus, "inherit.toml") },
  { config: join(corpus, "inherit.toml"), env: "next" },
];
const label = (j: Job) => `${j.config.slice(corpus.length + 1)}${j.env !== undefined ? ` [env.${j.env}]` : ""}`;

/** Where 4.86 reads differently from 4.164, and the reader follows 4.164. */
const DIFFERS_IN_486: Record<string, string> = {
  "full.jsonc [env.eu]": "4.86 requires `queue` on a producer; 4.164 allows it unset (auto-provisioning names it <worker>-<binding>)",
};

// Written at test time: files wrangler itself refuses, and files only the orchestrator refuses.
const tmp = mkdtempSync(join(tmpdir(), "cbo-wrangler-refused-"));
const file = (name: string, text: string) => {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
};
const BASE = `name = "w"\nmain = "index.js"\ncompatibility_date = "2025-01-01"\n`;
const BOTH_REFUSE: (Job & { why: string; ours: RegExp })[] = [
  {
    why: "a compatibility date that is not a date",
    config: file("bad-date.toml", `name = "w"\nmain = "i.js"\ncompatibility_date = "yesterday"\n`),
    ours: /compatibility_date: use YYYY-MM-DD/,
  },
  {
    why: "a rate limit period other than 10 or 60",
    config: file("bad-ratelimit.toml", `${BASE}[[ratelimits]]\nname = "L"\nnamespace_id = "1"\nsimple = { limit = 1, period = 30 }\n`),
    ours: /ratelimits\[0\]\.simple\.period/,
  },
  {
    why: "a Durable Object binding without class_name",
    config: file("bad-do.toml", `${BASE}[[durable_objects.bindings]]\nname = "X"\n`),
    ours: /durable_objects\.bindings\[0\]\.class_name/,
  },
  {
    why: "an http_pull queue consumer (set up with `wrangler queues consumer http add`, not the file)",
    config: file("http-pull.toml", `${BASE}[[queues.consumers]]\nqueue = "q"\ntype = "http_pull"\nvisibility_timeout_ms = 5000\n`),
    ours: /queues\.consumers\[0\]\.type: only "worker" consumers can be configured in a wrangler file.*wrangler queues consumer http add q/,
  },
  {
    why: "route and routes together",
    config: file("both-routes.toml", `${BASE}route = "a.com/*"\nroutes = ["b.com/*"]\n`),
    ours: /route: give `route` or `routes`, not both/,
  },
  {
    why: "an environment the file does not define, when it defines others",
    config: file("no-such-env.toml", `${BASE}[env.production]\nvars = { A = "1" }\n`),
    env: "prod",
    ours: /env\.prod: no such environment in this file \(defined: production\)/,
  },
  {
    why: "legacy_env (4.164 refuses it; 4.86 still takes it: we follow 4.164)",
    config: file("legacy-env.toml", `${BASE}legacy_env = true\n`),
    ours: /legacy_env: is no longer supported/,
  },
];
const ONLY_WE_REFUSE: (Job & { why: string; ours: RegExp })[] = [
  {
    why: "Workflows",
    config: file("workflows.toml", `${BASE}[[workflows]]\nbinding = "WF"\nname = "wf"\nclass_name = "Flow"\n`),
    ours: /workflows: Workflows are not supported by the orchestrator \(remove it, or deploy this Worker with wrangler\)/,
  },
  {
    why: "a dispatch namespace inside an environment",
    config: file("dispatch.toml", `${BASE}[env.production]\n[[env.production.dispatch_namespaces]]\nbinding = "D"\nnamespace = "ns"\n`),
    env: "production",
    ours: /env\.production\.dispatch_namespaces: dispatch namespaces \(Workers for Platforms\) are not supported by the orchestrator \(remove it, or deploy this Worker with wrangler\)/,
  },
  {
    why: "a misspelt binding key (wrangler would deploy without the binding)",
    config: file("typo.toml", `${BASE}[[kv_namespace]]\nbinding = "KV"\nid = "x"\n`),
    ours: /kv_namespace: unknown wrangler key .*did you mean "kv_namespaces"\?/,
  },
  {
    why: "a top-level-only key inside an environment",
    config: file("env-alias.toml", `${BASE}[env.x.alias]\na = "./b.js"\n`),
    env: "x",
    ours: /env\.x\.alias: wrangler reads `alias` only at the top level/,
  },
  { why: "Workers Sites", config: file("site.toml", `${BASE}[site]\nbucket = "./public"\n`), ours: /site: Workers Sites is not supported/ },
  {
    why: "service-worker wasm_modules",
    config: file("wasm-modules.toml", `${BASE}[wasm_modules]\nM = "m.wasm"\n`),
    ours: /wasm_modules: is for service-worker format Workers only \(import the \.wasm file/,
  },
  {
    why: "an env when the file defines none (wrangler warns and deploys the top level as <name>-<env>)",
    config: file("no-envs.toml", BASE),
    env: "staging",
    ours: /env\.staging: no such environment in this file \(it defines none\)/,
  },
  {
    why: "an unsupported sub-key",
    config: file("sub-key.toml", `${BASE}[[d1_databases]]\nbinding = "DB"\ndatabase_name = "d"\ndatabase_internal_env = "x"\n`),
    ours: /d1_databases\[0\]: "database_internal_env" is not supported by the orchestrator/,
  },
  {
    why: "an unsafe binding other than a rate limiter",
    config: file("unsafe.toml", `${BASE}[[unsafe.bindings]]\ntype = "fancy"\nname = "F"\n`),
    ours: /unsafe\.bindings\[0\]\.type: only unsafe bindings of type "ratelimit"/,
  },
];

let latest: Answer[];
let old: Answer[];
let latestRefused: Answer[];
let oldRefused: Answer[];
let latestLenient: Answer[];
beforeAll(async () => {
  [latest, old, latestRefused, oldRefused, latestLenient] = await Promise.all([
    readWithWrangler("latest", ACCEPTED),
    readWithWrangler("4.86", ACCEPTED),
    readWithWrangler("latest", BOTH_REFUSE),
    readWithWrangler("4.86", BOTH_REFUSE),
    readWithWrangler("latest", ONLY_WE_REFUSE),
  ]);
}, 180_000);

describe("reading a wrangler file agrees with wrangler's unstable_readConfig", () => {
  ACCEPTED.forEach((job, i) => {
    it(label(job), () => {
      expect(latest[i]!.error, "wrangler 4.164 reads it").toBeUndefined();
      const expected = fromWrangler(latest[i]!.config!, job.config);
      expect(ours(job)).toEqual(expected);
      const why = DIFFERS_IN_486[label(job)];
      if (why) {
        // 4.86 disagrees; we follow 4.164 (the difference is named above).
        expect(
          old[i]!.config === undefined || JSON.stringify(fromWrangler(old[i]!.config, job.config)) !== JSON.stringify(expected),
          why,
        ).toBe(true);
      } else {
        expect(old[i]!.error, "wrangler 4.86 reads it").toBeUndefined();
        expect(fromWrangler(old[i]!.config!, job.config), "4.86 agrees").toEqual(expected);
      }
    });
  });

  it("selects environments as wrangler does: names, inheritance, per-environment bindings (the bug of shipping dev vars)", () => {
    const prod = readWranglerWorker(join(corpus, "full.toml"), { env: "production" });
    expect(prod.name).toBe("api-live");
    expect(prod.vars).toEqual({ APP_ENV: "production", API_BASE: "https://api.example.com" });
    expect(prod.bindings.find((b) => b.kind === "d1")).toMatchObject({
      resource: { name: "sites-prod", wranglerId: "c0a8b7e2-6e8e-4b4f-9b6a-2d1b7f0e9a11" },
    });
    expect(prod.compatibilityFlags).toEqual(["nodejs_compat"]); // inherited
    expect(prod.bindings.some((b) => b.kind === "hyperdrive")).toBe(false); // not inherited
    const staging = readWranglerWorker(join(corpus, "full.toml"), { env: "staging" });
    expect(staging.name).toBe("api-staging");
    expect(staging.triggers).toEqual({ crons: [] });
    expect(staging.warnings.join("\n")).toContain(`"kv_namespaces" exists at the top level, but not on "env.staging"`);
  });

  it("sets dev-only keys aside with the reason, and reads the rest", () => {
    const s = readWranglerWorker(join(corpus, "dev-keys.jsonc"));
    expect(s.ignored.map((i) => i.key).sort()).toEqual(
      [
        "account_id",
        "build.watch_dir",
        "d1_databases[0].preview_database_id",
        "d1_databases[0].remote",
        "dev",
        "hyperdrive[0].localConnectionString",
        "kv_namespaces[0].preview_id",
        "r2_buckets[0].preview_bucket_name",
        "send_metrics",
        "services[0].remote",
      ].sort(),
    );
    expect(s.ignored.find((i) => i.key === "dev")?.reason).toContain("wrangler dev");
  });
});

describe("refusals", () => {
  BOTH_REFUSE.forEach((job, i) => {
    it(`wrangler refuses it and so do we: ${job.why}`, () => {
      expect(latestRefused[i]!.error, "wrangler 4.164 refuses it").toBeDefined();
      if (!job.why.startsWith("legacy_env")) expect(oldRefused[i]!.error, "wrangler 4.86 refuses it").toBeDefined();
      else expect(oldRefused[i]!.error, "4.86 still reads legacy_env").toBeUndefined();
      const e = (() => {
        try {
          readWranglerWorker(job.config, job.env !== undefined ? { env: job.env } : {});
        } catch (x) {
          return x;
        }
        return undefined;
      })();
      expect(e).toBeInstanceOf(CboError);
      expect((e as CboError).code).toBe("ERR_VALIDATION");
      expect((e as CboError).message).toMatch(job.ours);
      expect((e as CboError).message.startsWith(`${job.config}: `)).toBe(true);
    });
  });

  ONLY_WE_REFUSE.forEach((job, i) => {
    it(`wrangler takes it, the orchestrator refuses it naming the key: ${job.why}`, () => {
      expect(latestLenient[i]!.error, "wrangler 4.164 reads it (with at most a warning)").toBeUndefined();
      let err: unknown;
      try {
        readWranglerWorker(job.config, job.env !== undefined ? { env: job.env } : {});
      } catch (x) {
        err = x;
      }
      expect(err).toBeInstanceOf(CboError);
      expect((err as CboError).message).toMatch(job.ours);
      expect((err as CboError).hint).toContain("README (wrangler projects)");
    });
  });
});
