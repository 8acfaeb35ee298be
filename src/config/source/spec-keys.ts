// The keys orchestrator.yaml's workers take to describe a Worker directly (and to override what a
// wrangler file says). Names follow wrangler's where they are the same thing; bindings are maps
// keyed by binding name, each value a resource/class/service name or an object with the rest.
// Spread into WorkerSpecSchema (schema.ts); from-spec.ts turns them into a WorkerSource.
import * as z from "zod";
import { MigrationSchema, ModuleRuleSchema } from "./model.ts";
import { CronSchema } from "../cron.ts";
import { RunWorkerFirstSchema } from "./run-worker-first.ts";

const NAME = /^[a-z][a-z0-9-]{0,62}$/;
const BINDING = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ENV_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const Binding = z.string().regex(BINDING, "a binding name has letters, digits and _, not starting with a digit");
const Res = z.string().min(1).max(255);
const bindings = <T extends z.ZodType>(value: T) => z.record(Binding, value);

const RouteSpec = z.union([
  z.string().min(1),
  z
    .object({
      pattern: z.string().min(1),
      zone_id: z.string().min(1).optional(),
      zone_name: z.string().min(1).optional(),
      custom_domain: z.boolean().optional(),
    })
    .strict(),
]);

export const WorkerSourceSpecShape = {
  /**
   * The wrangler environment (`[env.<name>]`) to release: one name for every target, or a map
   * from target name to environment with `"*"` for the rest. Unset: the file's top level.
   */
  env: z
    .union([
      z.string().regex(ENV_NAME, "an environment name"),
      z.record(z.string().regex(/^(\*|[a-z][a-z0-9-]{0,62})$/, "a target name or *"), z.string().regex(ENV_NAME)),
    ])
    .optional(),
  /**
   * Runs the wrangler file's `[build] command` before bundling (`true`), or this command
   * (`{ command, cwd }`, cwd relative to orchestrator.yaml). Off by default: it is arbitrary
   * shell on the orchestrator's host.
   */
  build: z.union([z.boolean(), z.object({ command: z.string().min(1), cwd: z.string().min(1).optional() }).strict()]).optional(),
  /** Logical resource names by binding (or `queue:<queue name>`): what each target finds or creates. */
  resources: z.record(z.string().regex(/^([A-Za-z_][A-Za-z0-9_]*|queue:.+)$/, "a binding name, or queue:<queue name>"), Res).optional(),

  vars: z.record(Binding, z.json()).optional(),
  /** Binding -> KV namespace (logical name, created per target when missing). */
  kv: bindings(Res).optional(),
  d1: bindings(
    z.union([
      Res,
      z
        .object({
          name: Res,
          migrations_dir: z.string().min(1).optional(),
          migrations_table: z.string().min(1).optional(),
          jurisdiction: z.string().min(1).optional(),
        })
        .strict(),
    ]),
  ).optional(),
  r2: bindings(z.union([Res, z.object({ name: Res, jurisdiction: z.string().min(1).optional() }).strict()])).optional(),
  queues: z
    .object({
      producers: bindings(Res).optional(),
      consumers: z
        .array(
          z
            .object({
              queue: Res,
              max_batch_size: z.number().int().positive().optional(),
              max_batch_timeout: z.number().nonnegative().optional(),
              max_retries: z.number().int().nonnegative().optional(),
              dead_letter_queue: Res.optional(),
              max_concurrency: z.number().int().positive().optional(),
              retry_delay: z.number().nonnegative().optional(),
            })
            .strict(),
        )
        .optional(),
    })
    .strict()
    .optional(),
  /** Binding -> class name (exported by this Worker), or { class_name, script_name?, environment? }. */
  durable_objects: bindings(
    z.union([
      z.string().min(1),
      z
        .object({ class_name: z.string().min(1), script_name: z.string().min(1).optional(), environment: z.string().min(1).optional() })
        .strict(),
    ]),
  ).optional(),
  migrations: z.array(MigrationSchema).optional(),
  /** Binding -> Worker name in the same target, or { service, entrypoint?, environment? }. */
  services: bindings(
    z.union([
      z.string().regex(NAME),
      z
        .object({ service: z.string().min(1), entrypoint: z.string().min(1).optional(), environment: z.string().min(1).optional() })
        .strict(),
    ]),
  ).optional(),
  analytics_engine: bindings(z.string().min(1)).optional(),
  /** The Workers AI binding name. */
  ai: Binding.optional(),
  /** Binding -> Hyperdrive config id. */
  hyperdrive: bindings(z.string().min(1)).optional(),
  ratelimits: bindings(
    z
      .object({ namespace_id: z.string().min(1), limit: z.number().int().positive(), period: z.union([z.literal(10), z.literal(60)]) })
      .strict(),
  ).optional(),
  /** Binding name under which the Worker reads its own version id ({id, tag, timestamp}). */
  version_metadata: Binding.optional(),
  assets: z
    .object({
      directory: z.string().min(1),
      binding: Binding.optional(),
      html_handling: z.enum(["auto-trailing-slash", "force-trailing-slash", "drop-trailing-slash", "none"]).optional(),
      not_found_handling: z.enum(["single-page-application", "404-page", "none"]).optional(),
      run_worker_first: RunWorkerFirstSchema.optional(),
    })
    .strict()
    .optional(),
  /** Cron triggers; `[]` clears the target's schedules. */
  crons: z.array(CronSchema).optional(),
  routes: z.array(RouteSpec).optional(),
  workers_dev: z.boolean().optional(),
  preview_urls: z.boolean().optional(),
  placement: z.record(z.string(), z.json()).optional(),
  limits: z
    .object({ cpu_ms: z.number().int().positive().optional(), subrequests: z.number().int().positive().optional() })
    .strict()
    .optional(),
  observability: z.record(z.string(), z.json()).optional(),
  logpush: z.boolean().optional(),
  tail_consumers: z.array(z.object({ service: z.string().min(1), environment: z.string().min(1).optional() }).strict()).optional(),

  // --- bundling (wrangler's keys) --------------------------------------------------------------
  define: z.record(z.string().min(1), z.string()).optional(),
  alias: z.record(z.string().min(1), z.string().min(1)).optional(),
  rules: z.array(ModuleRuleSchema).optional(),
  find_additional_modules: z.boolean().optional(),
  base_dir: z.string().min(1).optional(),
  preserve_file_names: z.boolean().optional(),
  minify: z.boolean().optional(),
  keep_names: z.boolean().optional(),
  upload_source_maps: z.boolean().optional(),
  no_bundle: z.boolean().optional(),
  tsconfig: z.string().min(1).optional(),
} as const;

export type WorkerSourceSpec = { [K in keyof typeof WorkerSourceSpecShape]?: z.infer<(typeof WorkerSourceSpecShape)[K]> };
