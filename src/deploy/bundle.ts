// Thin adapter for today's release path over the build layer (src/build/): a resolved worker in,
// the modules a version upload carries out, in the Cloudflare client's vocabulary. Bundling
// itself (wrangler's options, module rules, Node.js compatibility, confinement) is src/build.
import { join } from "node:path";
import type { BuildOptions } from "esbuild";
import type { ResolvedWorker } from "../config/load.ts";
import { defaultBuildSettings, type WorkerBinding, type WorkerSource } from "../config/source/model.ts";
import { buildWorker, byCodeUnits, type BuildOutput, type ModuleType } from "../build/index.ts";
import type { ModuleType as UploadModuleType, WorkerModule } from "../cloudflare/upload.ts";
import { CboError } from "../kit/errors.ts";
import { createHash } from "node:crypto";

export type Bundle = {
  /** The name of the entry module; absent for an assets-only Worker. */
  mainModule?: string;
  /** The entry module's code ("" for an assets-only Worker). */
  code: string;
  /** Every part to upload: the entry, the rule-matched and additional modules, the source map. */
  modules: WorkerModule[];
  /** Release hash (src/build/hash.ts): modules, source map and the version's metadata. */
  hash: string;
  /** The full build, for callers that need more (exports, warnings, outdir files). */
  build: BuildOutput;
};

export const MAIN_MODULE = "index.js";

/** esbuild options close to a release's, for benches that bundle without plugins (bench/edge-agent.bench.ts). */
export const WORKER_BUILD_OPTIONS = {
  bundle: true,
  write: false,
  format: "esm",
  target: "es2024",
  conditions: ["workerd", "worker", "browser"],
  mainFields: ["browser", "module", "main"],
  // Provided by workerd at run time (and by nodejs_compat for node:*).
  external: ["cloudflare:*", "node:*"],
  minify: false,
  sourcemap: false,
  logLevel: "silent",
} as const satisfies BuildOptions;

const UPLOAD_TYPE: Record<ModuleType, UploadModuleType> = {
  esm: "esm",
  commonjs: "cjs",
  "compiled-wasm": "wasm",
  text: "text",
  buffer: "data",
};

/** What goes into the legacy hash besides the code: compatibility and bindings, keys in code-unit order (never the host's locale). */
export function bindingSpec(worker: ResolvedWorker): Record<string, unknown> {
  const sorted = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => byCodeUnits(a, b)));
  return {
    compatibilityDate: worker.compatibilityDate,
    compatibilityFlags: [...worker.compatibilityFlags].sort(byCodeUnits),
    vars: sorted(worker.vars),
    kv: sorted(worker.kv),
    services: sorted(worker.services),
  };
}

/** sha256 of code + bindingSpec (kept for callers of the old single-module hash). */
export function bundleHash(code: string, worker: ResolvedWorker): string {
  return createHash("sha256")
    .update(code)
    .update("\0")
    .update(JSON.stringify(bindingSpec(worker)))
    .digest("hex");
}

export type BundleOptions = {
  /** Paths no bundle may read even inside a project: the data directory, key files, the edge's state. */
  protect?: string[];
};

/** The source of a worker built by hand (tests): its legacy fields as a WorkerSource. */
export function legacySource(worker: ResolvedWorker): WorkerSource {
  const bindings: WorkerBinding[] = [
    ...Object.entries(worker.kv).map(
      ([binding, name]): WorkerBinding => ({ kind: "kv", binding, resource: { kind: "kv", name, nameFrom: "spec" } }),
    ),
    ...Object.entries(worker.services).map(([binding, service]): WorkerBinding => ({ kind: "service", binding, service })),
    ...(worker.versionMetadata ? [{ kind: "version_metadata" as const, binding: worker.versionMetadata }] : []),
  ];
  return {
    name: worker.name,
    origin: { kind: "spec", file: join(worker.root, "orchestrator.yaml") },
    projectRoot: worker.root,
    main: worker.entry,
    compatibilityDate: worker.compatibilityDate,
    compatibilityFlags: worker.compatibilityFlags,
    vars: worker.vars,
    bindings,
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

/** The default environment's bundle (what `cbo plan` and a release of one environment build). */
export async function bundleWorker(worker: ResolvedWorker, opts: BundleOptions = {}): Promise<Bundle> {
  return bundleSource(worker.name, worker.source ?? legacySource(worker), worker.root, opts);
}

/** One source's bundle: the modules a version upload carries. */
export async function bundleSource(name: string, source: WorkerSource, root: string, opts: BundleOptions = {}): Promise<Bundle> {
  const build = await buildWorker(source, { root, protect: opts.protect ?? [] });
  const main = build.modules[0];
  // An assets-only Worker (no `main`, only `assets`) uploads no modules, as wrangler's does.
  if (!build.mainModule && build.modules.length === 0 && source.assets) return { code: "", modules: [], hash: build.hash, build };
  if (!build.mainModule || !main) {
    throw new CboError("ERR_VALIDATION", `Worker ${name} has no main module and no assets.`, {
      hint: "Give the Worker a `main` entry module, or `assets` for an assets-only Worker.",
    });
  }
  const modules: WorkerModule[] = [
    ...build.modules.map((m) => ({ name: m.name, content: m.content, type: UPLOAD_TYPE[m.type] })),
    ...(build.sourceMap ? [{ name: build.sourceMap.name, content: build.sourceMap.content, type: "sourcemap" as const }] : []),
  ];
  return { mainModule: build.mainModule, code: String(main.content), modules, hash: build.hash, build };
}
