// One selected wrangler environment -> WorkerSource. Paths are resolved against the wrangler
// file's directory (wrangler resolves main and base_dir there; tsconfig, build.cwd, assets and
// migrations_dir too, relative to the file rather than to the shell's cwd).
import { dirname, resolve } from "node:path";
import {
  defaultBuildSettings,
  type Migration,
  type QueueConsumer,
  type Resource,
  type Route,
  type WorkerBinding,
  type WorkerSource,
} from "../source/model.ts";
import { derivedResourceName } from "../source/resources.ts";
import type { SelectedEnvironment } from "./environment.ts";
import { parseShape, SHAPES, type ShapeKey, type Shapes } from "./shapes.ts";

export type WranglerSourceResult = { source: WorkerSource | undefined; refusals: string[] };

export function toWorkerSource(file: string, sel: SelectedEnvironment): WranglerSourceResult {
  const refusals = [...sel.refusals];
  const ignored = [...sel.ignored];
  const dir = dirname(file);
  const parsed = new Map<ShapeKey, unknown>();
  const get = <K extends ShapeKey>(key: K): Shapes[K] | undefined => {
    if (!parsed.has(key)) {
      const at = sel.values.get(key);
      parsed.set(key, at === undefined ? undefined : parseShape(key, at, ignored, refusals));
    }
    return parsed.get(key) as Shapes[K] | undefined;
  };
  const path = (key: ShapeKey) => sel.values.get(key)?.path ?? key;

  const name = get("name");
  if (!name) refusals.push(`name: missing; wrangler needs a Worker name (give \`name\` in the file, or \`name:\` in orchestrator.yaml)`);
  const scriptName = name ?? "";
  const main = get("main");

  const bindings: WorkerBinding[] = [];
  const named = (kind: Resource["kind"], binding: string, wranglerName: string | undefined, extra: Partial<Resource> = {}): Resource => ({
    kind,
    name: wranglerName ?? derivedResourceName(scriptName, binding),
    nameFrom: wranglerName ? "wrangler" : "derived",
    ...extra,
  });
  for (const kv of get("kv_namespaces") ?? []) {
    bindings.push({ kind: "kv", binding: kv.binding, resource: named("kv", kv.binding, undefined, kv.id ? { wranglerId: kv.id } : {}) });
  }
  for (const d1 of get("d1_databases") ?? []) {
    bindings.push({
      kind: "d1",
      binding: d1.binding,
      resource: named("d1", d1.binding, d1.database_name || undefined, {
        ...(d1.database_id ? { wranglerId: d1.database_id } : {}),
        ...(d1.jurisdiction ? { jurisdiction: d1.jurisdiction } : {}),
      }),
      // wrangler's defaults (d1/constants.ts): ./migrations and d1_migrations.
      migrations: {
        dir: resolve(dir, d1.migrations_dir ?? "migrations"),
        table: d1.migrations_table ?? "d1_migrations",
        ...(d1.migrations_pattern ? { pattern: d1.migrations_pattern } : {}),
      },
    });
  }
  for (const r2 of get("r2_buckets") ?? []) {
    bindings.push({
      kind: "r2",
      binding: r2.binding,
      resource: named("r2", r2.binding, r2.bucket_name, r2.jurisdiction ? { jurisdiction: r2.jurisdiction } : {}),
    });
  }
  const queues = get("queues");
  for (const p of queues?.producers ?? []) {
    bindings.push({
      kind: "queue",
      binding: p.binding,
      resource: named("queue", p.binding, p.queue),
      ...(p.delivery_delay !== undefined ? { deliveryDelay: p.delivery_delay } : {}),
    });
  }
  for (const d of get("durable_objects")?.bindings ?? []) {
    bindings.push({
      kind: "durable_object",
      binding: d.name,
      className: d.class_name,
      ...(d.script_name ? { scriptName: d.script_name } : {}),
      ...(d.environment ? { environment: d.environment } : {}),
    });
  }
  for (const s of get("services") ?? []) {
    bindings.push({
      kind: "service",
      binding: s.binding,
      service: s.service,
      ...(s.environment ? { environment: s.environment } : {}),
      ...(s.entrypoint ? { entrypoint: s.entrypoint } : {}),
      ...(s.props ? { props: s.props } : {}),
    });
  }
  for (const a of get("analytics_engine_datasets") ?? [])
    bindings.push({ kind: "analytics_engine", binding: a.binding, ...(a.dataset ? { dataset: a.dataset } : {}) });
  const ai = get("ai");
  if (ai) bindings.push({ kind: "ai", binding: ai.binding, ...(ai.staging !== undefined ? { staging: ai.staging } : {}) });
  for (const h of get("hyperdrive") ?? []) bindings.push({ kind: "hyperdrive", binding: h.binding, id: h.id });
  const limiters = [...(get("ratelimits") ?? [])];
  const unsafe = get("unsafe");
  (unsafe?.bindings ?? []).forEach((b, i) => {
    const { type: _type, ...limiter } = b;
    const r = SHAPES.ratelimits.element.safeParse(limiter);
    if (r.success) limiters.push(r.data);
    else
      refusals.push(
        `${path("unsafe")}.bindings[${i}]: a ratelimit binding needs name, namespace_id and simple = { limit, period = 10 | 60 }`,
      );
  });
  for (const r of limiters) bindings.push({ kind: "ratelimit", binding: r.name, namespaceId: r.namespace_id, simple: r.simple });
  const vm = get("version_metadata");
  if (vm) bindings.push({ kind: "version_metadata", binding: vm.binding });
  const assets = get("assets");
  if (assets?.binding) bindings.push({ kind: "assets", binding: assets.binding });

  const queueConsumers: QueueConsumer[] = (queues?.consumers ?? []).map((c) => ({
    queue: { kind: "queue", name: c.queue, nameFrom: "wrangler" },
    ...(c.max_batch_size !== undefined ? { maxBatchSize: c.max_batch_size } : {}),
    ...(c.max_batch_timeout !== undefined ? { maxBatchTimeout: c.max_batch_timeout } : {}),
    ...(c.max_retries !== undefined ? { maxRetries: c.max_retries } : {}),
    ...(c.dead_letter_queue
      ? { deadLetterQueue: { kind: "queue" as const, name: c.dead_letter_queue, nameFrom: "wrangler" as const } }
      : {}),
    ...(c.max_concurrency !== undefined ? { maxConcurrency: c.max_concurrency } : {}),
    ...(c.visibility_timeout_ms !== undefined ? { visibilityTimeoutMs: c.visibility_timeout_ms } : {}),
    ...(c.retry_delay !== undefined ? { retryDelay: c.retry_delay } : {}),
  }));

  const routes = get("routes");
  const route = get("route");
  if (
    routes !== undefined &&
    route !== undefined &&
    sel.values.get("routes")!.path.startsWith("env.") === sel.values.get("route")!.path.startsWith("env.")
  ) {
    refusals.push(`${path("route")}: give \`route\` or \`routes\`, not both`);
  }
  const build = get("build");
  const b = defaultBuildSettings();
  const limits = get("limits");
  const baseDir = get("base_dir");
  const tsconfig = get("tsconfig");
  const source: WorkerSource = {
    name: scriptName,
    origin: {
      kind: "wrangler",
      file,
      ...(sel.env !== undefined ? { env: sel.env } : {}),
      ...(sel.topLevelName !== undefined ? { topLevelName: sel.topLevelName } : {}),
      definedEnvironments: sel.definedEnvironments,
    },
    projectRoot: dir,
    ...(main !== undefined ? { main: resolve(dir, main) } : {}),
    ...(get("compatibility_date") !== undefined ? { compatibilityDate: get("compatibility_date")! } : {}),
    compatibilityFlags: get("compatibility_flags") ?? [],
    vars: get("vars") ?? {},
    bindings,
    migrations: (get("migrations") ?? []) as Migration[],
    queueConsumers,
    triggers: { ...(get("triggers")?.crons !== undefined ? { crons: get("triggers")!.crons! } : {}) },
    routes: (routes ?? (route !== undefined ? [route] : [])).map(toRoute),
    ...(assets
      ? {
          assets: {
            directory: resolve(dir, assets.directory),
            ...(assets.html_handling ? { htmlHandling: assets.html_handling } : {}),
            ...(assets.not_found_handling ? { notFoundHandling: assets.not_found_handling } : {}),
            ...(assets.run_worker_first !== undefined ? { runWorkerFirst: assets.run_worker_first } : {}),
          },
        }
      : {}),
    build: {
      ...b,
      ...(build?.command ? { command: { run: build.command, cwd: resolve(dir, build.cwd ?? "."), allowed: false } } : {}),
      noBundle: get("no_bundle") ?? b.noBundle,
      minify: get("minify") ?? b.minify,
      keepNames: get("keep_names") ?? b.keepNames,
      ...(get("upload_source_maps") !== undefined ? { uploadSourceMaps: get("upload_source_maps")! } : {}),
      define: get("define") ?? {},
      alias: get("alias") ?? {},
      rules: get("rules") ?? [],
      ...(get("find_additional_modules") !== undefined ? { findAdditionalModules: get("find_additional_modules")! } : {}),
      ...(baseDir !== undefined ? { baseDir: resolve(dir, baseDir) } : {}),
      preserveFileNames: get("preserve_file_names") ?? b.preserveFileNames,
      ...(tsconfig ? { tsconfig: resolve(dir, tsconfig) } : {}),
      jsxFactory: get("jsx_factory") ?? b.jsxFactory,
      jsxFragment: get("jsx_fragment") ?? b.jsxFragment,
    },
    settings: {
      // wrangler deploy always sets workers.dev: unset, it is on only for a Worker without routes
      // (deploy-helpers getSubdomainValues), so routes never leave a workers.dev URL open by default.
      workersDev: get("workers_dev") ?? (routes ?? (route !== undefined ? [route] : [])).length === 0,
      ...(get("preview_urls") !== undefined ? { previewUrls: get("preview_urls")! } : {}),
      ...(get("placement") !== undefined ? { placement: get("placement")! } : {}),
      ...(limits
        ? {
            limits: {
              ...(limits.cpu_ms !== undefined ? { cpuMs: limits.cpu_ms } : {}),
              ...(limits.subrequests !== undefined ? { subrequests: limits.subrequests } : {}),
            },
          }
        : {}),
      // wrangler deploy PATCHes `observability ?? { enabled: false }` ("if the user hasn't specified
      // observability assume that they want it disabled"): removing the key turns it off there too.
      observability: get("observability") ?? { enabled: false },
      ...(get("logpush") !== undefined ? { logpush: get("logpush")! } : {}),
      ...(get("tail_consumers") !== undefined
        ? {
            tailConsumers: get("tail_consumers")!.map((t) => ({
              service: t.service,
              ...(t.environment ? { environment: t.environment } : {}),
            })),
          }
        : {}),
      keepVars: get("keep_vars") ?? false,
    },
    requiredSecrets: get("secrets")?.required ?? [],
    warnings: [...sel.warnings],
    ignored,
  };
  if (!source.main && !source.assets)
    refusals.push(`main: missing; give the Worker's entry module (or \`assets\` for an assets-only Worker)`);
  if (source.main?.endsWith(".py"))
    refusals.push(`${path("main")}: Python Workers are not supported by the orchestrator (deploy this Worker with wrangler)`);
  return { source: refusals.length ? undefined : source, refusals };
}

function toRoute(r: Shapes["route"]): Route {
  if (typeof r === "string") return { pattern: r };
  return {
    pattern: r.pattern,
    ...(r.zone_id ? { zoneId: r.zone_id } : {}),
    ...(r.zone_name ? { zoneName: r.zone_name } : {}),
    ...(r.custom_domain !== undefined ? { customDomain: r.custom_domain } : {}),
    ...(r.enabled !== undefined ? { enabled: r.enabled } : {}),
    ...(r.previews_enabled !== undefined ? { previewsEnabled: r.previews_enabled } : {}),
  };
}
