// orchestrator.yaml's worker keys -> WorkerSource. A worker given by `main:` starts empty; a
// worker given by `wrangler:` starts from its file (for the selected environment) and the keys in
// orchestrator.yaml win: a binding with the same name replaces the file's, vars/define/alias merge
// key by key, lists (migrations, crons, routes, consumers, rules, tail consumers) replace whole.
// Paths in orchestrator.yaml are relative to orchestrator.yaml.
import { resolve } from "node:path";
import { CboError } from "../../kit/errors.ts";
import { defaultBuildSettings, type QueueConsumer, type Resource, type WorkerBinding, type WorkerSource } from "./model.ts";
import type { WorkerSourceSpec } from "./spec-keys.ts";

export type SpecContext = {
  /** orchestrator.yaml, absolute. */
  file: string;
  /** Its directory. */
  dir: string;
  /** `workers[i]`, for messages. */
  where: string;
};

export type SpecWorkerKeys = WorkerSourceSpec & { compatibility_date?: string; compatibility_flags?: string[] };

/** The source of a worker declared by `main:` in orchestrator.yaml. */
export function emptySource(name: string, main: string, ctx: SpecContext): WorkerSource {
  return {
    name,
    origin: { kind: "spec", file: ctx.file },
    projectRoot: ctx.dir,
    main: resolve(ctx.dir, main),
    compatibilityFlags: [],
    vars: {},
    bindings: [],
    migrations: [],
    queueConsumers: [],
    triggers: {},
    routes: [],
    build: defaultBuildSettings(),
    settings: { keepVars: false },
    requiredSecrets: [],
    warnings: [],
    ignored: [],
  };
}

const specResource = (kind: Resource["kind"], name: string, jurisdiction?: string): Resource => ({
  kind,
  name,
  nameFrom: "spec",
  ...(jurisdiction ? { jurisdiction } : {}),
});

/** The bindings orchestrator.yaml declares, in a fixed order of kinds. */
function specBindings(w: SpecWorkerKeys, ctx: SpecContext): WorkerBinding[] {
  const out: WorkerBinding[] = [];
  for (const [binding, name] of Object.entries(w.kv ?? {})) out.push({ kind: "kv", binding, resource: specResource("kv", name) });
  for (const [binding, v] of Object.entries(w.d1 ?? {})) {
    const o = typeof v === "string" ? { name: v } : v;
    out.push({
      kind: "d1",
      binding,
      resource: specResource("d1", o.name, "jurisdiction" in o ? o.jurisdiction : undefined),
      migrations: {
        dir: resolve(ctx.dir, ("migrations_dir" in o && o.migrations_dir) || "migrations"),
        table: ("migrations_table" in o && o.migrations_table) || "d1_migrations",
      },
    });
  }
  for (const [binding, v] of Object.entries(w.r2 ?? {})) {
    const o = typeof v === "string" ? { name: v } : v;
    out.push({ kind: "r2", binding, resource: specResource("r2", o.name, "jurisdiction" in o ? o.jurisdiction : undefined) });
  }
  for (const [binding, queue] of Object.entries(w.queues?.producers ?? {}))
    out.push({ kind: "queue", binding, resource: specResource("queue", queue) });
  for (const [binding, v] of Object.entries(w.durable_objects ?? {})) {
    const o = typeof v === "string" ? { class_name: v } : v;
    out.push({
      kind: "durable_object",
      binding,
      className: o.class_name,
      ...("script_name" in o && o.script_name ? { scriptName: o.script_name } : {}),
      ...("environment" in o && o.environment ? { environment: o.environment } : {}),
    });
  }
  for (const [binding, v] of Object.entries(w.services ?? {})) {
    const o = typeof v === "string" ? { service: v } : v;
    out.push({
      kind: "service",
      binding,
      service: o.service,
      ...("environment" in o && o.environment ? { environment: o.environment } : {}),
      ...("entrypoint" in o && o.entrypoint ? { entrypoint: o.entrypoint } : {}),
    });
  }
  for (const [binding, dataset] of Object.entries(w.analytics_engine ?? {})) out.push({ kind: "analytics_engine", binding, dataset });
  if (w.ai) out.push({ kind: "ai", binding: w.ai });
  for (const [binding, id] of Object.entries(w.hyperdrive ?? {})) out.push({ kind: "hyperdrive", binding, id });
  for (const [binding, r] of Object.entries(w.ratelimits ?? {}))
    out.push({ kind: "ratelimit", binding, namespaceId: r.namespace_id, simple: { limit: r.limit, period: r.period } });
  if (w.version_metadata) out.push({ kind: "version_metadata", binding: w.version_metadata });
  if (w.assets?.binding) out.push({ kind: "assets", binding: w.assets.binding });
  return out;
}

/** `base` with orchestrator.yaml's keys applied over it (they win). */
export function applySpecKeys(base: WorkerSource, w: SpecWorkerKeys, ctx: SpecContext): WorkerSource {
  const own = specBindings(w, ctx);
  // A binding of orchestrator.yaml replaces the file's binding of the same name; the single
  // bindings (ai, version_metadata, assets) replace the file's of that kind.
  const singles = new Set<string>(
    own.filter((b) => b.kind === "ai" || b.kind === "version_metadata" || b.kind === "assets").map((b) => b.kind),
  );
  const names = new Set(own.map((b) => b.binding));
  // A spec binding replaces a file var of its name, a spec var a file binding of its name; a spec
  // var and a spec binding sharing a name are refused below.
  const vars = { ...Object.fromEntries(Object.entries(base.vars).filter(([k]) => !names.has(k))), ...(w.vars ?? {}) };
  const kept = base.bindings.filter((b) => !names.has(b.binding) && !singles.has(b.kind) && !Object.hasOwn(w.vars ?? {}, b.binding));
  const consumers: QueueConsumer[] | undefined = w.queues?.consumers?.map((c) => ({
    queue: specResource("queue", c.queue),
    ...(c.max_batch_size !== undefined ? { maxBatchSize: c.max_batch_size } : {}),
    ...(c.max_batch_timeout !== undefined ? { maxBatchTimeout: c.max_batch_timeout } : {}),
    ...(c.max_retries !== undefined ? { maxRetries: c.max_retries } : {}),
    ...(c.dead_letter_queue ? { deadLetterQueue: specResource("queue", c.dead_letter_queue) } : {}),
    ...(c.max_concurrency !== undefined ? { maxConcurrency: c.max_concurrency } : {}),
    ...(c.retry_delay !== undefined ? { retryDelay: c.retry_delay } : {}),
  }));
  const b = base.build;
  const command =
    typeof w.build === "object"
      ? { run: w.build.command, cwd: resolve(ctx.dir, w.build.cwd ?? "."), allowed: true }
      : b.command
        ? { ...b.command, allowed: w.build === true }
        : undefined;
  if (w.build === true && !b.command) {
    throw new CboError(
      "ERR_VALIDATION",
      `${ctx.file}: ${ctx.where}.build: \`build: true\` runs the wrangler file's [build] command, but ${base.origin.kind === "wrangler" ? "that file has none" : "this worker has no wrangler file"}.`,
      {
        hint: 'Remove `build: true`, or give the command: build: { command: "npm run build", cwd: "." }.',
      },
    );
  }
  const next: WorkerSource = {
    ...base,
    ...(w.compatibility_date ? { compatibilityDate: w.compatibility_date } : {}),
    ...(w.compatibility_flags ? { compatibilityFlags: [...w.compatibility_flags] } : {}),
    vars,
    bindings: [...kept, ...own],
    migrations: w.migrations ?? base.migrations,
    queueConsumers: consumers ?? base.queueConsumers,
    triggers: w.crons !== undefined ? { crons: [...w.crons] } : base.triggers,
    routes: w.routes
      ? w.routes.map((r) =>
          typeof r === "string"
            ? { pattern: r }
            : {
                pattern: r.pattern,
                ...(r.zone_id ? { zoneId: r.zone_id } : {}),
                ...(r.zone_name ? { zoneName: r.zone_name } : {}),
                ...(r.custom_domain !== undefined ? { customDomain: r.custom_domain } : {}),
              },
        )
      : base.routes,
    ...(w.assets || base.assets
      ? {
          assets: w.assets
            ? {
                directory: resolve(ctx.dir, w.assets.directory),
                ...(w.assets.html_handling ? { htmlHandling: w.assets.html_handling } : {}),
                ...(w.assets.not_found_handling ? { notFoundHandling: w.assets.not_found_handling } : {}),
                ...(w.assets.run_worker_first !== undefined ? { runWorkerFirst: w.assets.run_worker_first } : {}),
              }
            : base.assets!,
        }
      : {}),
    build: {
      ...b,
      ...(command ? { command } : {}),
      ...(w.no_bundle !== undefined ? { noBundle: w.no_bundle } : {}),
      ...(w.minify !== undefined ? { minify: w.minify } : {}),
      ...(w.keep_names !== undefined ? { keepNames: w.keep_names } : {}),
      ...(w.upload_source_maps !== undefined ? { uploadSourceMaps: w.upload_source_maps } : {}),
      define: { ...b.define, ...(w.define ?? {}) },
      alias: { ...b.alias, ...(w.alias ?? {}) },
      rules: w.rules ?? b.rules,
      ...(w.find_additional_modules !== undefined ? { findAdditionalModules: w.find_additional_modules } : {}),
      ...(w.base_dir !== undefined ? { baseDir: resolve(ctx.dir, w.base_dir) } : {}),
      ...(w.preserve_file_names !== undefined ? { preserveFileNames: w.preserve_file_names } : {}),
      ...(w.tsconfig !== undefined ? { tsconfig: resolve(ctx.dir, w.tsconfig) } : {}),
    },
    settings: {
      ...base.settings,
      ...(w.workers_dev !== undefined ? { workersDev: w.workers_dev } : {}),
      ...(w.preview_urls !== undefined ? { previewUrls: w.preview_urls } : {}),
      ...(w.placement !== undefined ? { placement: w.placement } : {}),
      ...(w.limits !== undefined
        ? {
            limits: {
              ...(w.limits.cpu_ms !== undefined ? { cpuMs: w.limits.cpu_ms } : {}),
              ...(w.limits.subrequests !== undefined ? { subrequests: w.limits.subrequests } : {}),
            },
          }
        : {}),
      ...(w.observability !== undefined ? { observability: w.observability } : {}),
      ...(w.logpush !== undefined ? { logpush: w.logpush } : {}),
      ...(w.tail_consumers !== undefined
        ? { tailConsumers: w.tail_consumers.map((t) => ({ service: t.service, ...(t.environment ? { environment: t.environment } : {}) })) }
        : {}),
    },
  };
  checkUniqueBindings(next, ctx);
  return next;
}

/** Every binding name once (vars included), as wrangler requires. */
function checkUniqueBindings(s: WorkerSource, ctx: SpecContext): void {
  const seen = new Map<string, string>();
  const all = [
    ...Object.keys(s.vars).map((name) => ({ name, kind: "vars" })),
    ...s.bindings.map((b) => ({ name: b.binding, kind: b.kind })),
  ];
  for (const { name, kind } of all) {
    const before = seen.get(name);
    if (before !== undefined) {
      throw new CboError("ERR_VALIDATION", `${ctx.file}: ${ctx.where}: the binding name "${name}" is used twice (${before} and ${kind}).`, {
        hint: "Give each binding its own name; a Worker's env has one value per name.",
      });
    }
    seen.set(name, kind);
  }
}
