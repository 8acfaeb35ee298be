// The shapes of the wrangler keys the reader reads (keys.ts `read`), as wrangler 4.164's
// validation.ts accepts them. Strict: a sub-key the orchestrator does not know is refused with
// its path, except the dev-only ones (keys.ts DEV_ONLY_SUBKEYS), which are set aside first.
import * as z from "zod";
import { MigrationSchema, ModuleRuleSchema } from "../source/model.ts";
import { CronSchema } from "../cron.ts";
import { RunWorkerFirstSchema } from "../source/run-worker-first.ts";
import { closest } from "../../kit/did-you-mean.ts";
import { keysAt } from "../schema-keys.ts";
import { DEV_ONLY_SUBKEYS } from "./keys.ts";
import type { Located } from "./environment.ts";

const S = z.string();
const NonEmpty = z.string().min(1);
const Bool = z.boolean();
const Num = z.number();

const RouteObject = z
  .object({
    pattern: S,
    zone_id: S.optional(),
    zone_name: S.optional(),
    custom_domain: Bool.optional(),
    enabled: Bool.optional(),
    previews_enabled: Bool.optional(),
  })
  .strict()
  .refine((r) => !(r.zone_id && r.zone_name), "give zone_id or zone_name, not both")
  .refine(
    (r) => r.custom_domain !== undefined || (r.enabled === undefined && r.previews_enabled === undefined),
    "enabled/previews_enabled need custom_domain",
  )
  .refine(
    (r) => r.zone_id !== undefined || r.zone_name !== undefined || r.custom_domain !== undefined,
    "a route object needs zone_id, zone_name or custom_domain",
  );
const Route = z.union([S, RouteObject]);

const RateLimit = z
  .object({ name: S, namespace_id: S, simple: z.object({ limit: Num, period: z.union([z.literal(10), z.literal(60)]) }).strict() })
  .strict();

export const SHAPES = {
  name: z.string().regex(/^$|^[a-z0-9_][a-z0-9-_]*$/, "lowercase letters, digits, - and _ only"),
  main: S,
  compatibility_date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "use YYYY-MM-DD"),
  compatibility_flags: z.array(S),
  keep_vars: Bool,
  alias: z.record(S, S),
  jsx_factory: S,
  jsx_fragment: S,
  tsconfig: S,
  rules: z.array(ModuleRuleSchema),
  find_additional_modules: Bool,
  preserve_file_names: Bool,
  base_dir: S,
  route: Route,
  routes: z.array(Route),
  triggers: z.object({ crons: z.array(CronSchema).optional() }).strict(),
  assets: z
    .object({
      directory: NonEmpty,
      binding: S.optional(),
      html_handling: z.enum(["auto-trailing-slash", "force-trailing-slash", "drop-trailing-slash", "none"]).optional(),
      not_found_handling: z.enum(["single-page-application", "404-page", "none"]).optional(),
      run_worker_first: RunWorkerFirstSchema.optional(),
    })
    .strict(),
  limits: z.object({ cpu_ms: Num.optional(), subrequests: Num.optional() }).strict(),
  placement: z.record(S, z.json()),
  build: z.object({ command: S.optional(), cwd: S.optional() }).strict(),
  workers_dev: Bool,
  preview_urls: Bool,
  migrations: z.array(MigrationSchema),
  no_bundle: Bool,
  minify: Bool,
  keep_names: Bool,
  logpush: Bool,
  upload_source_maps: Bool,
  observability: z.record(S, z.json()),
  vars: z.record(S, z.json()),
  secrets: z.object({ required: z.array(S).optional() }).strict(),
  define: z.record(S, S),
  durable_objects: z
    .object({
      bindings: z.array(z.object({ name: S, class_name: S, script_name: S.optional(), environment: S.optional() }).strict()).optional(),
    })
    .strict(),
  kv_namespaces: z.array(z.object({ binding: S, id: NonEmpty.optional() }).strict()),
  queues: z
    .object({
      producers: z.array(z.object({ binding: S, queue: NonEmpty.optional(), delivery_delay: Num.optional() }).strict()).optional(),
      consumers: z
        .array(
          z
            .object({
              queue: S,
              type: S.optional(),
              max_batch_size: Num.optional(),
              max_batch_timeout: Num.optional(),
              max_retries: Num.optional(),
              dead_letter_queue: S.optional(),
              max_concurrency: Num.optional(),
              visibility_timeout_ms: Num.optional(),
              retry_delay: Num.optional(),
            })
            .strict()
            // Wrangler refuses any other type too; an HTTP pull consumer is made with a command, not the file.
            .superRefine((c, ctx) => {
              if (c.type !== undefined && c.type !== "worker")
                ctx.addIssue({
                  code: "custom",
                  path: ["type"],
                  message: `only "worker" consumers can be configured in a wrangler file (wrangler refuses "${c.type}" too); remove this entry and make the consumer with \`wrangler queues consumer http add ${c.queue}\``,
                });
            }),
        )
        .optional(),
    })
    .strict(),
  r2_buckets: z.array(z.object({ binding: S, bucket_name: NonEmpty.optional(), jurisdiction: S.optional() }).strict()),
  d1_databases: z.array(
    z
      .object({
        binding: S,
        database_id: S.optional(),
        database_name: S.optional(),
        jurisdiction: S.optional(),
        migrations_dir: S.optional(),
        migrations_table: S.optional(),
        migrations_pattern: S.optional(),
      })
      .strict(),
  ),
  hyperdrive: z.array(z.object({ binding: S, id: S }).strict()),
  services: z.array(
    z
      .object({ binding: S, service: S, environment: S.optional(), entrypoint: S.optional(), props: z.record(S, z.json()).optional() })
      .strict(),
  ),
  analytics_engine_datasets: z.array(z.object({ binding: S, dataset: S.optional() }).strict()),
  tail_consumers: z.array(z.object({ service: S, environment: S.optional() }).strict()),
  ai: z.object({ binding: S, staging: Bool.optional() }).strict(),
  ratelimits: z.array(RateLimit),
  version_metadata: z.object({ binding: S }).strict(),
  // Only rate limiters, the one kind of `unsafe` binding wrangler documents for deploys.
  unsafe: z
    .object({
      bindings: z
        .array(
          z
            .object({
              type: z.literal("ratelimit", {
                error:
                  'only unsafe bindings of type "ratelimit" are supported by the orchestrator (remove the others, or deploy this Worker with wrangler)',
              }),
            })
            .passthrough(),
        )
        .optional(),
    })
    .strict(),
} as const;

export type Shapes = { [K in keyof typeof SHAPES]: z.infer<(typeof SHAPES)[K]> };
export type ShapeKey = keyof typeof SHAPES;

/** Where dev-only sub-keys may appear: directly in the value's entries, or one level down. */
const DEV_SUBKEY_CONTAINERS: Partial<Record<ShapeKey, "items" | "self" | "queues">> = {
  kv_namespaces: "items",
  r2_buckets: "items",
  d1_databases: "items",
  hyperdrive: "items",
  services: "items",
  analytics_engine_datasets: "items",
  ratelimits: "items",
  ai: "self",
  version_metadata: "self",
  build: "self",
  queues: "queues",
  durable_objects: "self",
};

/**
 * Validates one located value against its shape. Dev-only sub-keys are removed first and
 * reported in `ignored`; problems become `<path>: <message>` lines in `refusals`.
 */
export function parseShape<K extends ShapeKey>(
  key: K,
  at: Located,
  ignored: { key: string; reason: string }[],
  refusals: string[],
): Shapes[K] | undefined {
  const value = stripDevOnly(key, at, ignored);
  const r = SHAPES[key].safeParse(value);
  if (r.success) return r.data as Shapes[K];
  for (const issue of r.error.issues.slice(0, 5)) refusals.push(describeIssue(at.path, issue, SHAPES[key]));
  return undefined;
}

function stripDevOnly(key: ShapeKey, at: Located, ignored: { key: string; reason: string }[]): unknown {
  const where = DEV_SUBKEY_CONTAINERS[key];
  if (!where) return at.value;
  const strip = (o: unknown, path: string): unknown => {
    if (typeof o !== "object" || o === null || Array.isArray(o)) return o;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) {
      const why = DEV_ONLY_SUBKEYS[k];
      // `dev` inside a service binding is a local plugin; elsewhere it is not a known sub-key.
      if (why && (k !== "dev" || key === "services")) ignored.push({ key: `${path}.${k}`, reason: why });
      else out[k] = v;
    }
    return out;
  };
  const items = (arr: unknown, path: string) => (Array.isArray(arr) ? arr.map((x, i) => strip(x, `${path}[${i}]`)) : arr);
  if (where === "self") return strip(at.value, at.path);
  if (where === "items") return items(at.value, at.path);
  const q = at.value as Record<string, unknown> | null;
  if (typeof q !== "object" || q === null || Array.isArray(q)) return q;
  return {
    ...q,
    ...(q["producers"] ? { producers: items(q["producers"], `${at.path}.producers`) } : {}),
    ...(q["consumers"] ? { consumers: items(q["consumers"], `${at.path}.consumers`) } : {}),
  };
}

function describeIssue(base: string, issue: z.core.$ZodIssue, shape: z.ZodType): string {
  const path = base + issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("");
  if (issue.code === "unrecognized_keys") {
    // A misspelling of a key the object has gets the key it most likely meant.
    const known = keysAt(shape, issue.path);
    const meant = issue.keys.flatMap((k) => {
      const c = closest(k, known);
      return c ? [`"${k}" -> "${c}"`] : [];
    });
    const typo = meant.length ? `; did you mean ${meant.join(", ")}?` : "";
    return `${path}: ${issue.keys.map((k) => `"${k}"`).join(", ")} ${issue.keys.length > 1 ? "are" : "is"} not supported by the orchestrator (remove ${issue.keys.length > 1 ? "them" : "it"}, or deploy this Worker with wrangler)${typo}`;
  }
  return `${path}: ${issue.message}`;
}
