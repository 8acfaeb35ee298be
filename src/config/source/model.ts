// WorkerSource: one Worker as a release needs it, whoever described it. A wrangler file (read
// for one of its environments, src/config/wrangler/) and a worker declared directly in
// orchestrator.yaml (from-spec.ts) both end here, so everything after this point (bundling,
// uploads, per-target resources, script settings) reads one shape.
//
// Paths are absolute. Bindings are a discriminated union by `kind`. Each account-scoped
// resource (KV, D1, R2, queue) carries an explicit logical name: every target finds or creates
// its own resource by that name, so two bindings share a resource exactly when their names are
// equal (resources.ts decides the names; orchestrator.yaml can override them).
import * as z from "zod";

const BINDING = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const Binding = z.string().regex(BINDING, "a binding name is a JavaScript identifier");
const AbsPath = z.string().startsWith("/", "must be an absolute path");

export const ResourceKindSchema = z.enum(["kv", "d1", "r2", "queue"]);
export type ResourceKind = z.infer<typeof ResourceKindSchema>;

export const ResourceSchema = z
  .object({
    kind: ResourceKindSchema,
    /** Logical name: each target finds or creates its own resource by it (KV title, D1 database name, R2 bucket name, queue name). */
    name: z.string().min(1),
    /**
     * Where `name` came from: `wrangler` (database_name, bucket_name, queue), `derived`
     * (`<worker>-<binding>`, wrangler's own auto-provisioning name, for a KV id or a binding
     * without a name), `spec` (orchestrator.yaml's `kv:`/`d1:`/… value), `shared-id` (another
     * binding in the spec names the same wrangler id and got its name first), `override`
     * (orchestrator.yaml `resources:`).
     */
    nameFrom: z.enum(["wrangler", "derived", "spec", "shared-id", "override"]),
    /** The id the wrangler file gives (KV `id`, D1 `database_id`): an id in the wrangler user's own account, shown in the plan, never uploaded. */
    wranglerId: z.string().min(1).optional(),
    /** R2/D1 `jurisdiction` as written (e.g. `eu`). */
    jurisdiction: z.string().min(1).optional(),
  })
  .strict();
export type Resource = z.infer<typeof ResourceSchema>;

export const BindingSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("kv"), binding: Binding, resource: ResourceSchema }).strict(),
  z
    .object({
      kind: z.literal("d1"),
      binding: Binding,
      resource: ResourceSchema,
      /** Where `d1 migrations apply` finds its .sql files, and the table it records them in. */
      migrations: z.object({ dir: AbsPath, table: z.string().min(1), pattern: z.string().min(1).optional() }).strict(),
    })
    .strict(),
  z.object({ kind: z.literal("r2"), binding: Binding, resource: ResourceSchema }).strict(),
  /** A queue producer. */
  z.object({ kind: z.literal("queue"), binding: Binding, resource: ResourceSchema, deliveryDelay: z.number().optional() }).strict(),
  z
    .object({
      kind: z.literal("durable_object"),
      binding: Binding,
      className: z.string().min(1),
      /** The Worker that implements the class; absent = this Worker (it needs a migration). */
      scriptName: z.string().min(1).optional(),
      environment: z.string().min(1).optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal("service"),
      binding: Binding,
      service: z.string().min(1),
      environment: z.string().min(1).optional(),
      entrypoint: z.string().min(1).optional(),
      props: z.record(z.string(), z.json()).optional(),
    })
    .strict(),
  z.object({ kind: z.literal("analytics_engine"), binding: Binding, dataset: z.string().min(1).optional() }).strict(),
  z.object({ kind: z.literal("ai"), binding: Binding, staging: z.boolean().optional() }).strict(),
  /** A Hyperdrive config id, used as given in every target. */
  z.object({ kind: z.literal("hyperdrive"), binding: Binding, id: z.string().min(1) }).strict(),
  z
    .object({
      kind: z.literal("ratelimit"),
      binding: Binding,
      namespaceId: z.string().min(1),
      simple: z.object({ limit: z.number(), period: z.union([z.literal(10), z.literal(60)]) }).strict(),
    })
    .strict(),
  z.object({ kind: z.literal("version_metadata"), binding: Binding }).strict(),
  /** The static-assets binding (`assets.binding`); the assets themselves are WorkerSource.assets. */
  z.object({ kind: z.literal("assets"), binding: Binding }).strict(),
]);
export type WorkerBinding = z.infer<typeof BindingSchema>;
export type BindingKind = WorkerBinding["kind"];

/** A `[[migrations]]` entry as written; the upload sends the steps after the target's current tag, minus `tag`. */
export const MigrationSchema = z
  .object({
    tag: z.string().min(1),
    new_classes: z.array(z.string()).optional(),
    new_sqlite_classes: z.array(z.string()).optional(),
    renamed_classes: z.array(z.object({ from: z.string(), to: z.string() }).strict()).optional(),
    deleted_classes: z.array(z.string()).optional(),
    transferred_classes: z.array(z.object({ from: z.string(), from_script: z.string(), to: z.string() }).strict()).optional(),
  })
  .strict();
export type Migration = z.infer<typeof MigrationSchema>;

/** A queue this Worker consumes (a script setting applied after the upload, not a binding). */
export const QueueConsumerSchema = z
  .object({
    queue: ResourceSchema,
    maxBatchSize: z.number().optional(),
    maxBatchTimeout: z.number().optional(),
    maxRetries: z.number().optional(),
    deadLetterQueue: ResourceSchema.optional(),
    maxConcurrency: z.number().optional(),
    visibilityTimeoutMs: z.number().optional(),
    retryDelay: z.number().optional(),
  })
  .strict();
export type QueueConsumer = z.infer<typeof QueueConsumerSchema>;

export const RouteSchema = z
  .object({
    pattern: z.string().min(1),
    zoneId: z.string().min(1).optional(),
    zoneName: z.string().min(1).optional(),
    customDomain: z.boolean().optional(),
    enabled: z.boolean().optional(),
    previewsEnabled: z.boolean().optional(),
  })
  .strict();
export type Route = z.infer<typeof RouteSchema>;

export const AssetsSchema = z
  .object({
    directory: AbsPath,
    htmlHandling: z.enum(["auto-trailing-slash", "force-trailing-slash", "drop-trailing-slash", "none"]).optional(),
    notFoundHandling: z.enum(["single-page-application", "404-page", "none"]).optional(),
    runWorkerFirst: z.union([z.boolean(), z.array(z.string())]).optional(),
  })
  .strict();
export type Assets = z.infer<typeof AssetsSchema>;

export const ModuleRuleSchema = z
  .object({
    type: z.enum(["ESModule", "CommonJS", "CompiledWasm", "Text", "Data"]),
    globs: z.array(z.string()),
    fallthrough: z.boolean().optional(),
  })
  .strict();
export type ModuleRule = z.infer<typeof ModuleRuleSchema>;

/** How the code is built: wrangler's bundling keys, with their wrangler defaults already applied. */
export const BuildSettingsSchema = z
  .object({
    /**
     * `[build] command`: a shell command run before bundling, in `cwd`. It runs only when
     * `allowed` (orchestrator.yaml `build: true` for this worker): it is arbitrary shell on the
     * daemon's host.
     */
    command: z
      .object({ run: z.string().min(1), cwd: AbsPath, allowed: z.boolean() })
      .strict()
      .optional(),
    noBundle: z.boolean(),
    minify: z.boolean(),
    keepNames: z.boolean(),
    /** Tri-state as in wrangler: undefined writes and uploads the map; false does neither. */
    uploadSourceMaps: z.boolean().optional(),
    /** esbuild `define` (values are JS expressions), merged over wrangler's defaults at build time. */
    define: z.record(z.string(), z.string()),
    /** Module aliases, resolved from the project root. */
    alias: z.record(z.string(), z.string()),
    /** User module rules (wrangler's defaults are appended at build time). */
    rules: z.array(ModuleRuleSchema),
    /** Tri-state as in wrangler: unset is off when bundling and on with no_bundle. */
    findAdditionalModules: z.boolean().optional(),
    /** Where additional modules are found and named from; default: the entry's directory. */
    baseDir: AbsPath.optional(),
    preserveFileNames: z.boolean(),
    tsconfig: AbsPath.optional(),
    jsxFactory: z.string(),
    jsxFragment: z.string(),
  })
  .strict();
export type BuildSettings = z.infer<typeof BuildSettingsSchema>;

/** Script-level settings that live outside a version (applied and recorded per release). */
export const ScriptSettingsSchema = z
  .object({
    workersDev: z.boolean().optional(),
    previewUrls: z.boolean().optional(),
    placement: z.record(z.string(), z.json()).optional(),
    limits: z.object({ cpuMs: z.number().optional(), subrequests: z.number().optional() }).strict().optional(),
    observability: z.record(z.string(), z.json()).optional(),
    logpush: z.boolean().optional(),
    tailConsumers: z.array(z.object({ service: z.string().min(1), environment: z.string().min(1).optional() }).strict()).optional(),
    /** wrangler `keep_vars`: vars set outside the release survive it. */
    keepVars: z.boolean(),
  })
  .strict();
export type ScriptSettings = z.infer<typeof ScriptSettingsSchema>;

export const WorkerSourceSchema = z
  .object({
    /** The script name in the target (wrangler: `env.X.name` or `<name>-<X>`; orchestrator.yaml `name:` wins). */
    name: z.string().min(1),
    origin: z.discriminatedUnion("kind", [
      z
        .object({
          kind: z.literal("wrangler"),
          file: AbsPath,
          env: z.string().min(1).optional(),
          topLevelName: z.string().optional(),
          definedEnvironments: z.array(z.string()),
        })
        .strict(),
      z.object({ kind: z.literal("spec"), file: AbsPath }).strict(),
    ]),
    /** The bundle's working directory: the wrangler file's directory, or orchestrator.yaml's. */
    projectRoot: AbsPath,
    /** The entry module; absent for an assets-only Worker. */
    main: AbsPath.optional(),
    compatibilityDate: z.string().optional(),
    compatibilityFlags: z.array(z.string()),
    /** Plain vars; a string is uploaded as plain_text, anything else as json. */
    vars: z.record(z.string(), z.json()),
    bindings: z.array(BindingSchema),
    migrations: z.array(MigrationSchema),
    queueConsumers: z.array(QueueConsumerSchema),
    /** `crons` undefined leaves the target's schedules alone; `[]` clears them (as wrangler). */
    triggers: z.object({ crons: z.array(z.string()).optional() }).strict(),
    routes: z.array(RouteSchema),
    assets: AssetsSchema.optional(),
    build: BuildSettingsSchema,
    settings: ScriptSettingsSchema,
    /** wrangler `secrets.required`: names the Worker expects as secrets. */
    requiredSecrets: z.array(z.string()),
    /** What wrangler would warn about (e.g. a binding at the top level missing from the env). */
    warnings: z.array(z.string()),
    /** Keys read and deliberately not used (wrangler dev only, or irrelevant to a release), with why. */
    ignored: z.array(z.object({ key: z.string(), reason: z.string() }).strict()),
  })
  .strict();
export type WorkerSource = z.infer<typeof WorkerSourceSchema>;

/** Build settings when nothing is configured: wrangler's defaults. */
export function defaultBuildSettings(): BuildSettings {
  return {
    noBundle: false,
    minify: false,
    keepNames: true,
    define: {},
    alias: {},
    rules: [],
    preserveFileNames: false,
    jsxFactory: "React.createElement",
    jsxFragment: "React.Fragment",
  };
}

/** The resources a source uses (bindings and consumers), in order, each once per (kind, name). */
export function resourcesOf(source: WorkerSource): Resource[] {
  const all = [
    ...source.bindings.flatMap((b) => ("resource" in b ? [b.resource] : [])),
    ...source.queueConsumers.flatMap((c) => [c.queue, ...(c.deadLetterQueue ? [c.deadLetterQueue] : [])]),
  ];
  const seen = new Set<string>();
  return all.filter((r) => {
    const key = `${r.kind}:${r.name}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
