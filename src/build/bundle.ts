// Builds a Worker the way `wrangler deploy` does (wrangler 4.164, deployment-bundle/bundle.ts and
// maybe-build-worker.ts), with the same esbuild (0.28.2) and options, so that the main module,
// its source map and the additional modules are byte for byte what `wrangler deploy --dry-run
// --outdir` writes (test/build-conformance.test.ts compares them):
//
//   [build] command (when allowed) -> entry checked -> esbuild: confinement first, then alias,
//   module rules, Node.js compatibility (unenv + @cloudflare/unenv-preset in v2), cloudflare:*
//   -> the entry's exports checked -> modules, source map, outdir files, release hash
//
// Where the orchestrator differs from wrangler, on purpose (README "wrangler projects"):
//   - NODE_ENV is "production" whatever the daemon's own environment says (wrangler reads
//     $NODE_ENV), and WRANGLER_BUILD_CONDITIONS / WRANGLER_BUILD_PLATFORM are not read;
//   - a [build] command runs only when orchestrator.yaml allows it, in a scrubbed environment;
//   - every file read is confined to the project (confine.ts); esbuild's service gets no secrets;
//   - service-worker format Workers are refused (ES modules only);
//   - the paths esbuild prints for unenv's polyfills (comments, source map) name the
//     orchestrator's installed unenv, where wrangler names its own.
import { basename, dirname, join, parse, posix, relative, resolve } from "node:path";
import { readFileSync } from "node:fs";
import type { BuildFailure, BuildOptions, Message, Metafile, Plugin } from "esbuild";
import { withChildEnv } from "../config/child-env.ts";
import type { WorkerSource } from "../config/source/model.ts";
import { CboError } from "../kit/errors.ts";
import { findAdditionalModules } from "./additional-modules.ts";
import { checkMetafile, confinePlugin, createConfinement, screenMessages, type Confinement } from "./confine.ts";
import { runCustomBuild } from "./custom-build.ts";
import { releaseHash } from "./hash.ts";
import { definesNavigator, nodeCompatMode, type NodeCompatMode } from "./node-compat.ts";
import { aliasPlugin } from "./plugins/alias.ts";
import { cloudflareInternalPlugin } from "./plugins/cloudflare-internal.ts";
import { hybridNodejsCompatPlugin } from "./plugins/hybrid-nodejs-compat.ts";
import { createModuleCollector } from "./plugins/module-collector.ts";
import { nodejsCompatPlugins } from "./plugins/nodejs-compat.ts";
import { MODULE_CONTENT_TYPE, parseRules, type ModuleType } from "./rules.ts";
import { scanSourceMap, uploadSourceMap } from "./source-maps.ts";

/** wrangler's COMMON_ESBUILD_OPTIONS (4.164). */
export const COMMON_ESBUILD_OPTIONS = {
  target: "es2024",
  // Syntax past es2024 that workerd runs as written.
  supported: { "import-source": true, using: true },
  loader: { ".js": "jsx", ".mjs": "jsx", ".cjs": "jsx" },
} as const satisfies BuildOptions;

export const BUILD_CONDITIONS = ["workerd", "worker", "browser"] as const;

export type BuiltModule = {
  /** The module's name in the upload (the main module, `./<sha1>-<basename>`, or a path under the module root). */
  name: string;
  type: ModuleType;
  /** The multipart Content-Type wrangler gives the part. */
  contentType: string;
  content: Uint8Array | string;
  /** Where it came from (absent for the bundle itself). */
  filePath?: string;
};

export type BuildOutput = {
  /** The entry module's name (e.g. `index.js`); undefined for an assets-only Worker. */
  mainModule: string | undefined;
  /** Every module to upload: the main module first, then the others by name. */
  modules: BuiltModule[];
  /** The source map as wrangler uploads it (`<main>.map`, application/source-map), unless upload_source_maps = false. */
  sourceMap: { name: string; content: string; contentType: "application/source-map" } | undefined;
  /** What `wrangler deploy --dry-run --outdir <outdir>` writes there, README.md aside: relative name -> content. */
  outdirFiles: { name: string; content: Uint8Array | string }[];
  /** sha256 over the modules, the uploaded map and the version metadata from the source (hash.ts). */
  hash: string;
  nodeCompat: NodeCompatMode;
  /** The entry's exports (Durable Object classes, entrypoints, default). */
  exports: string[];
  /** What wrangler would have warned about while building. */
  warnings: string[];
};

export type BuildWorkerOptions = {
  /** The confinement root: every file read must be inside it or an installed package (default: the source's project root). */
  root?: string;
  /** Never readable, even inside the root: the data directory, key files, the local edge's state. */
  protect?: string[];
  /**
   * The output directory as `wrangler deploy --outdir` would have it. Nothing is written; only
   * the `--outdir` form of the source map (`outdirFiles`) depends on it. Default: a directory
   * under the project's `.wrangler/tmp`.
   */
  outdir?: string;
  signal?: AbortSignal;
  /** Build command timeout; default 10 minutes. */
  buildTimeoutMs?: number;
};

export async function buildWorker(source: WorkerSource, opts: BuildWorkerOptions = {}): Promise<BuildOutput> {
  const c = createConfinement({ root: opts.root ?? source.projectRoot, protect: opts.protect ?? [], worker: source.name });
  const warnings: string[] = [];
  const cmd = source.build.command;
  if (cmd) {
    if (!cmd.allowed) {
      throw new CboError(
        "ERR_VALIDATION",
        `Worker ${source.name}: its wrangler file has a [build] command (\`${cmd.run}\`), which the orchestrator runs only when allowed.`,
        {
          details: { worker: source.name, command: cmd.run },
          hint: "Set `build: true` on this worker in orchestrator.yaml (the command then runs on the orchestrator's host), or run the build yourself and remove [build].",
        },
      );
    }
    c.check(cmd.cwd);
    await runCustomBuild({
      command: cmd.run,
      cwd: cmd.cwd,
      ...(source.main ? { entry: source.main } : {}),
      worker: source.name,
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.buildTimeoutMs ? { timeoutMs: opts.buildTimeoutMs } : {}),
    });
  }
  const mode = nodeCompatMode(source.compatibilityDate, source.compatibilityFlags);
  if (!source.main) {
    return {
      mainModule: undefined,
      modules: [],
      sourceMap: undefined,
      outdirFiles: [],
      hash: releaseHash([], undefined, source),
      nodeCompat: mode,
      exports: [],
      warnings,
    };
  }
  const entry = source.main;
  c.check(entry, { entry: true });
  if (source.build.noBundle) return noBundle(source, entry, c, mode, warnings);

  const destination = resolve(source.projectRoot, opts.outdir ?? join(".wrangler", "tmp", "cbo-build"));
  const moduleRoot = source.build.baseDir ?? dirname(entry);
  const parsed = parseRules(source.build.rules);
  const collector = createModuleCollector({
    entry: {
      file: entry,
      moduleRoot,
      projectRoot: source.projectRoot,
      ...(source.origin.kind === "wrangler" ? { configPath: source.origin.file } : {}),
    },
    parsed,
    findAdditionalModules: source.build.findAdditionalModules ?? false,
    preserveFileNames: source.build.preserveFileNames,
    confinement: c,
    warnings,
  });
  const node: Plugin[] =
    mode === "v2"
      ? [hybridNodejsCompatPlugin({ compatibilityDate: source.compatibilityDate, compatibilityFlags: source.compatibilityFlags })]
      : nodejsCompatPlugins(mode, warnings);
  const nodeEnv = JSON.stringify("production");
  const options: BuildOptions & { metafile: true; write: false } = {
    entryPoints: [entry],
    bundle: true,
    absWorkingDir: source.projectRoot,
    keepNames: source.build.keepNames,
    outdir: destination,
    entryNames: parse(entry).name,
    inject: [],
    external: ["__STATIC_CONTENT_MANIFEST"],
    format: "esm",
    target: COMMON_ESBUILD_OPTIONS.target,
    supported: { ...COMMON_ESBUILD_OPTIONS.supported },
    sourcemap: source.build.uploadSourceMaps ?? true,
    sourceRoot: destination,
    minify: source.build.minify,
    metafile: true,
    conditions: [...BUILD_CONDITIONS],
    define: {
      ...(definesNavigator(source.compatibilityDate, source.compatibilityFlags) ? { "navigator.userAgent": `"Cloudflare-Workers"` } : {}),
      "process.env.NODE_ENV": nodeEnv,
      "global.process.env.NODE_ENV": nodeEnv,
      "globalThis.process.env.NODE_ENV": nodeEnv,
      ...source.build.define,
    },
    loader: { ...COMMON_ESBUILD_OPTIONS.loader },
    // Confinement first, so that it sees every import and every load whatever the others do.
    plugins: [confinePlugin(c), aliasPlugin(source.build.alias, source.projectRoot), collector.plugin, ...node, cloudflareInternalPlugin],
    jsxFactory: source.build.jsxFactory,
    jsxFragment: source.build.jsxFragment,
    ...(source.build.tsconfig ? { tsconfig: source.build.tsconfig } : {}),
    logLevel: "silent",
    write: false,
  };
  if (source.build.tsconfig) c.check(source.build.tsconfig);
  const esbuild = await import("esbuild");
  let result: Awaited<ReturnType<typeof esbuild.build<typeof options>>>;
  try {
    // The esbuild service is a child process started on first use: it gets no secrets.
    result = await withChildEnv(() => esbuild.build(options));
    checkMetafile(c, result.metafile, source.projectRoot);
  } catch (e) {
    throw bundleError(source, entry, c, e);
  }
  warnings.push(...result.warnings.map((w) => w.text));

  const [outPath, out] = entryOutput(result.metafile, entry);
  const exports = out.exports;
  if (exports.length === 0 || (!exports.includes("default") && (await usesServiceWorkerSyntax(entry, source)))) {
    throw new CboError(
      "ERR_VALIDATION",
      `Worker ${source.name}: ${relative(source.projectRoot, entry)} has no default export, so it is a service-worker format Worker, which the orchestrator does not release.`,
      {
        hint: "Export the handlers from an ES module: export default { async fetch(request, env, ctx) { … } }.",
      },
    );
  }
  const missing = source.bindings
    .filter((b) => b.kind === "durable_object" && !b.scriptName && !exports.includes(b.className))
    .map((b) => (b as { className: string }).className);
  if (missing.length > 0) {
    throw new CboError(
      "ERR_VALIDATION",
      `Worker ${source.name} binds Durable Object class${missing.length > 1 ? "es" : ""} ${missing.join(", ")}, not exported by its entry ${relative(source.projectRoot, entry)}.`,
      {
        hint: "Export the class from the entry module, or give the binding the script_name of the Worker that implements it.",
      },
    );
  }
  const mainPath = resolve(source.projectRoot, outPath);
  const mainModule = basename(mainPath);
  const files = new Map(result.outputFiles.map((f) => [f.path, f]));
  const code = files.get(mainPath)?.text;
  if (code === undefined) throw new CboError("ERR_INTERNAL", `esbuild produced no ${mainModule} for worker ${source.name}.`);
  const mapText = files.get(`${mainPath}.map`)?.text;
  const byName = new Map(collector.modules.map((m) => [m.name, m])); // last wins, as wrangler's dedupe
  const others = [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const modules: BuiltModule[] = [
    { name: mainModule, type: "esm", contentType: MODULE_CONTENT_TYPE.esm, content: code },
    ...others.map((m) => ({
      name: m.name,
      type: m.type,
      contentType: MODULE_CONTENT_TYPE[m.type],
      content: m.content,
      filePath: m.filePath,
    })),
  ];
  const uploadMap =
    mapText !== undefined && source.build.uploadSourceMaps !== false
      ? uploadSourceMap(mainModule, mapText, destination, source.projectRoot)
      : undefined;
  const sourceMap = uploadMap ? { ...uploadMap, contentType: "application/source-map" as const } : undefined;
  const outdirFiles = [
    { name: mainModule, content: code },
    ...(mapText !== undefined ? [{ name: `${mainModule}.map`, content: mapText }] : []),
    ...others.map((m) => ({ name: posix.normalize(m.name), content: m.content })),
  ];
  return {
    mainModule,
    modules,
    sourceMap,
    outdirFiles,
    hash: releaseHash(modules, sourceMap, source),
    nodeCompat: mode,
    exports,
    warnings,
  };
}

/** `no_bundle = true`: the entry as it is, plus the additional modules (wrangler's noBundleWorker). */
async function noBundle(
  source: WorkerSource,
  entry: string,
  c: Confinement,
  mode: NodeCompatMode,
  warnings: string[],
): Promise<BuildOutput> {
  const moduleRoot = source.build.baseDir ?? dirname(entry);
  // As wrangler: with no_bundle, additional modules are found unless find_additional_modules = false.
  const additional =
    source.build.findAdditionalModules !== false
      ? await findAdditionalModules(
          {
            file: entry,
            moduleRoot,
            projectRoot: source.projectRoot,
            ...(source.origin.kind === "wrangler" ? { configPath: source.origin.file } : {}),
          },
          parseRules(source.build.rules),
          c,
          warnings,
        )
      : [];
  const mainModule = basename(entry);
  const code = readFileSync(entry, "utf8");
  const others = [...additional].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const modules: BuiltModule[] = [
    { name: mainModule, type: "esm", contentType: MODULE_CONTENT_TYPE.esm, content: code, filePath: entry },
    ...others.map((m) => ({
      name: m.name,
      type: m.type,
      contentType: MODULE_CONTENT_TYPE[m.type],
      content: m.content,
      filePath: m.filePath,
    })),
  ];
  const map = source.build.uploadSourceMaps === false ? undefined : scanSourceMap({ name: mainModule, filePath: entry, content: code }, c);
  const sourceMap = map ? { ...map, contentType: "application/source-map" as const } : undefined;
  const outdirFiles = [{ name: mainModule, content: code }, ...others.map((m) => ({ name: posix.normalize(m.name), content: m.content }))];
  return {
    mainModule,
    modules,
    sourceMap,
    outdirFiles,
    hash: releaseHash(modules, sourceMap, source),
    nodeCompat: mode,
    exports: [],
    warnings,
  };
}

function entryOutput(metafile: Metafile, entry: string): [string, Metafile["outputs"][string] & { exports: string[] }] {
  const entries = Object.entries(metafile.outputs).filter(([, o]) => o.entryPoint !== undefined);
  if (entries.length !== 1) throw new CboError("ERR_INTERNAL", `esbuild produced ${entries.length} entry points for ${entry}.`);
  return entries[0]!;
}

/** wrangler's guessWorkerFormat, for an entry with exports but no default: does it call addEventListener? */
async function usesServiceWorkerSyntax(entry: string, source: WorkerSource): Promise<boolean> {
  const MARK = "__WRANGLER_SERVICE_WORKER_EVENT_LISTENER__";
  const esbuild = await import("esbuild");
  const r = await withChildEnv(() =>
    esbuild.build({
      ...COMMON_ESBUILD_OPTIONS,
      supported: { ...COMMON_ESBUILD_OPTIONS.supported },
      loader: { ...COMMON_ESBUILD_OPTIONS.loader },
      entryPoints: [entry],
      absWorkingDir: source.projectRoot,
      metafile: true,
      bundle: false,
      write: false,
      ...(source.build.tsconfig ? { tsconfig: source.build.tsconfig } : {}),
      define: { addEventListener: MARK, "globalThis.addEventListener": MARK, "self.addEventListener": MARK },
      logLevel: "silent",
    }),
  );
  return r.outputFiles.some((f) => f.text.includes(MARK));
}

function bundleError(source: WorkerSource, entry: string, c: Confinement, e: unknown): CboError {
  if (e instanceof CboError) return e;
  const errors: Message[] = (e as Partial<BuildFailure>).errors ?? [];
  // Before any message text is shown: it may quote a file the bundle must not read.
  const confined = screenMessages(c, errors, source.projectRoot, source.name);
  if (confined) return confined;
  // A plugin's CboError (e.g. a dropped module rule) says what to do itself.
  for (const m of errors) if (m.detail instanceof CboError) return m.detail;
  if (errors.length === 0) {
    return new CboError("ERR_VALIDATION", `Cannot bundle worker ${source.name} (${entry}): ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
    });
  }
  const file = (m: Message) => (m.location ? resolve(source.projectRoot, m.location.file) : null);
  const where = (m: Message) => (m.location ? `${file(m)}:${m.location.line}:${m.location.column + 1}` : entry);
  const lines = errors.slice(0, 5).map((m) => `${where(m)}: ${m.text}`);
  return new CboError("ERR_VALIDATION", `Cannot bundle worker ${source.name}:\n${lines.join("\n")}`, {
    details: {
      worker: source.name,
      errors: errors.slice(0, 20).map((m) => ({
        file: file(m),
        line: m.location?.line ?? null,
        column: m.location ? m.location.column + 1 : null,
        message: m.text,
      })),
    },
    hint: "Fix the source at the place named above, then release again.",
  });
}
