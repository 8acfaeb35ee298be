// Every key wrangler 4.164 accepts in a wrangler file, with how wrangler scopes it and what the
// orchestrator does with it. One table, so that nothing is dropped silently:
//
//   read     normalized into WorkerSource (src/config/source/model.ts)
//   refuse   present (and not empty) → ERR_VALIDATION naming the key's path and what to do
//   ignore   read and set aside with the reason (wrangler dev only, or not part of a release);
//            WorkerSource.ignored lists what a file had
//
// Scopes follow wrangler's workers-utils/src/config/validation.ts (normalizeAndValidateConfig,
// normalizeAndValidateEnvironment): `top` keys exist only at the top level; `inheritable` keys
// fall back from `[env.X]` to the top level; `env` keys (wrangler's "non-inheritable") come only
// from `[env.X]` when an environment is selected, and a top-level value is not used for it
// (wrangler warns; so do we).
export type KeyScope = "top" | "inheritable" | "env";
export type KeyHandling = { do: "read" } | { do: "refuse"; why: string; fix: string } | { do: "ignore"; why: string };
export type KeyRule = { scope: KeyScope } & KeyHandling;

const read = (scope: KeyScope): KeyRule => ({ scope, do: "read" });
const refuse = (scope: KeyScope, why: string, fix = "remove it, or deploy this Worker with wrangler"): KeyRule => ({
  scope,
  do: "refuse",
  why,
  fix,
});
const ignore = (scope: KeyScope, why: string): KeyRule => ({ scope, do: "ignore", why });

const DEV = "used by `wrangler dev` only";
const NOT_SUPPORTED = "not supported by the orchestrator";

export const WRANGLER_KEYS: Record<string, KeyRule> = {
  // --- top level only ------------------------------------------------------------------------
  $schema: ignore("top", "editor schema hint"),
  dev: ignore("top", DEV),
  send_metrics: ignore("top", "wrangler's own telemetry; the orchestrator sends none"),
  dependencies_instrumentation: ignore("top", "wrangler's npm-dependency upload metadata; the orchestrator does not collect it"),
  keep_vars: read("top"),
  alias: read("top"),
  site: refuse(
    "top",
    `Workers Sites is ${NOT_SUPPORTED}`,
    'move the files to `assets = { directory = "…" }`, or deploy this Worker with wrangler',
  ),
  wasm_modules: refuse(
    "top",
    "is for service-worker format Workers only",
    "import the .wasm file from your ES module instead (module rules bundle it)",
  ),
  text_blobs: refuse(
    "top",
    "is for service-worker format Workers only",
    "import the file from your ES module instead (module rules bundle it)",
  ),
  data_blobs: refuse(
    "top",
    "is for service-worker format Workers only",
    "import the file from your ES module instead (module rules bundle it)",
  ),
  addresses: refuse("top", `Email Routing addresses are ${NOT_SUPPORTED}`),
  pages_build_output_dir: refuse(
    "top",
    "marks a Cloudflare Pages project, which the orchestrator does not deploy",
    "deploy it with `wrangler pages deploy`",
  ),
  legacy_env: refuse("top", "is no longer supported by wrangler (4.164 refuses it; each environment is its own Worker)", "remove it"),
  node_compat: refuse("inheritable", "was removed in wrangler 4", "use the `nodejs_compat` compatibility flag"),

  // --- inheritable ---------------------------------------------------------------------------
  name: read("inheritable"),
  main: read("inheritable"),
  compatibility_date: read("inheritable"),
  compatibility_flags: read("inheritable"),
  account_id: ignore("inheritable", "each target names its own account in orchestrator.yaml"),
  jsx_factory: read("inheritable"),
  jsx_fragment: read("inheritable"),
  tsconfig: read("inheritable"),
  rules: read("inheritable"),
  find_additional_modules: read("inheritable"),
  preserve_file_names: read("inheritable"),
  base_dir: read("inheritable"),
  route: read("inheritable"),
  routes: read("inheritable"),
  triggers: read("inheritable"),
  assets: read("inheritable"),
  limits: read("inheritable"),
  placement: read("inheritable"),
  build: read("inheritable"),
  workers_dev: read("inheritable"),
  preview_urls: read("inheritable"),
  migrations: read("inheritable"),
  exports: refuse(
    "inheritable",
    `declarative Durable Object \`exports\` are ${NOT_SUPPORTED}`,
    "declare the classes with `[[migrations]]` instead",
  ),
  logfwdr: refuse("inheritable", `logfwdr bindings are ${NOT_SUPPORTED}`),
  no_bundle: read("inheritable"),
  minify: read("inheritable"),
  keep_names: read("inheritable"),
  first_party_worker: refuse("inheritable", "is for Cloudflare-internal Workers"),
  logpush: read("inheritable"),
  upload_source_maps: read("inheritable"),
  observability: read("inheritable"),
  access: refuse("inheritable", `Cloudflare Access settings are ${NOT_SUPPORTED}`),
  cache: refuse("inheritable", `cache settings are ${NOT_SUPPORTED}`),
  compliance_region: refuse(
    "inheritable",
    "is chosen per target in orchestrator.yaml, not per Worker",
    "remove it and set the target's `jurisdiction`",
  ),
  python_modules: ignore("inheritable", 'Python Workers are refused by their entry (`main = "*.py"`); the exclude list has no other use'),
  previews: refuse("inheritable", `preview settings are ${NOT_SUPPORTED}`),

  // --- per environment (wrangler's "non-inheritable") -----------------------------------------
  vars: read("env"),
  secrets: read("env"),
  define: read("env"),
  durable_objects: read("env"),
  kv_namespaces: read("env"),
  queues: read("env"),
  r2_buckets: read("env"),
  d1_databases: read("env"),
  hyperdrive: read("env"),
  services: read("env"),
  analytics_engine_datasets: read("env"),
  tail_consumers: read("env"),
  ai: read("env"),
  ratelimits: read("env"),
  version_metadata: read("env"),
  unsafe: read("env"), // only `unsafe.bindings` of type "ratelimit"; anything else is refused (environment.ts)
  workflows: refuse("env", `Workflows are ${NOT_SUPPORTED}`),
  cloudchamber: refuse("env", `Cloudchamber is ${NOT_SUPPORTED}`),
  containers: refuse("env", `Containers are ${NOT_SUPPORTED}`),
  send_email: refuse("env", `send_email bindings are ${NOT_SUPPORTED}`),
  connect: refuse("env", `connect handlers are ${NOT_SUPPORTED}`),
  vectorize: refuse("env", `Vectorize bindings are ${NOT_SUPPORTED}`),
  ai_search_namespaces: refuse("env", `AI Search bindings are ${NOT_SUPPORTED}`),
  ai_search: refuse("env", `AI Search bindings are ${NOT_SUPPORTED}`),
  agent_memory: refuse("env", `agent memory bindings are ${NOT_SUPPORTED}`),
  dispatch_namespaces: refuse("env", `dispatch namespaces (Workers for Platforms) are ${NOT_SUPPORTED}`),
  mtls_certificates: refuse("env", `mTLS certificate bindings are ${NOT_SUPPORTED}`),
  streaming_tail_consumers: refuse(
    "env",
    `streaming tail consumers are ${NOT_SUPPORTED}`,
    "use `tail_consumers`, or deploy this Worker with wrangler",
  ),
  browser: refuse("env", `Browser Rendering bindings are ${NOT_SUPPORTED}`),
  analytics: refuse("env", `this binding is ${NOT_SUPPORTED}`),
  images: refuse("env", `Images bindings are ${NOT_SUPPORTED}`),
  stream: refuse("env", `Stream bindings are ${NOT_SUPPORTED}`),
  media: refuse("env", `Media bindings are ${NOT_SUPPORTED}`),
  pipelines: refuse("env", `Pipelines bindings are ${NOT_SUPPORTED}`),
  k2: refuse("env", `this binding is ${NOT_SUPPORTED}`),
  secrets_store_secrets: refuse(
    "env",
    `Secrets Store bindings are ${NOT_SUPPORTED}`,
    "keep the secret in the orchestrator's vault and list it under the worker's `secrets:`",
  ),
  artifacts: refuse("env", `Artifacts bindings are ${NOT_SUPPORTED}`),
  unsafe_hello_world: refuse("env", `this binding is ${NOT_SUPPORTED}`),
  flagship: refuse("env", `Flagship bindings are ${NOT_SUPPORTED}`),
  worker_loaders: refuse("env", `Worker Loader bindings are ${NOT_SUPPORTED}`),
  vpc_services: refuse("env", `VPC service bindings are ${NOT_SUPPORTED}`),
  vpc_networks: refuse("env", `VPC network bindings are ${NOT_SUPPORTED}`),
};

/**
 * Keys inside a binding or setting that only `wrangler dev` reads (local stand-ins, remote-dev
 * switches, watch lists). They are set aside with this reason wherever they appear.
 */
export const DEV_ONLY_SUBKEYS: Record<string, string> = {
  preview_id: `${DEV} (the preview namespace of \`wrangler dev --remote\`)`,
  preview_bucket_name: `${DEV} (the preview bucket of \`wrangler dev --remote\`)`,
  preview_database_id: `${DEV} (the preview database of \`wrangler dev --remote\`)`,
  remote: `${DEV} (binds the remote resource during local development)`,
  experimental_remote: `${DEV} (binds the remote resource during local development)`,
  local_dev: `${DEV} (local stand-in credentials)`,
  localConnectionString: `${DEV} (the local database Hyperdrive points at)`,
  watch_dir: `${DEV} (the directories whose changes rebuild)`,
  dev: `${DEV} (a local Miniflare plugin for the service)`,
};

/** A value counts as absent when wrangler's normalization would leave the default: undefined, [], {} (and `{bindings: []}`). */
export function isEmptyValue(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === "object") return Object.values(v as object).every(isEmptyValue);
  return false;
}
