// The multipart body of a script or version upload, in wrangler's canonical form (the one the
// real API accepts): a plain string field `metadata` holding JSON, then one part per module whose
// part name and filename are the module path and whose content type says what kind it is.
// (SDK 7 flattens metadata into `metadata[...]` brackets, which the real API rejects.)
//
// The metadata's keys are wrangler's createWorkerUploadForm's (deploy-helpers, 4.164): entry
// (`main_module`, or `body_part` for CommonJS), bindings, compatibility, Durable Object
// `migrations` (script PUT only: a version upload carrying them is refused with 10211),
// keep_bindings, logpush, placement, tail consumers, limits, annotations, `keep_assets`,
// `assets` {jwt, config}, observability. An assets-only Worker (no entry module) sends only
// assets, annotations and compatibility, with no module part.
import { CboError } from "../kit/errors.ts";

/**
 * Module kinds. The build layer's names (`commonjs`, `compiled-wasm`, `buffer`) are accepted as
 * well as the short ones.
 */
export type ModuleType = "esm" | "cjs" | "commonjs" | "wasm" | "compiled-wasm" | "text" | "data" | "buffer" | "sourcemap";

export type WorkerModule = {
  /** Module path, e.g. `index.js` or `lib/util.js`; also the part name. */
  name: string;
  content: string | Uint8Array | ArrayBuffer;
  /** Default: from the extension (.js/.mjs esm, .cjs cjs, .wasm, .txt/.html text, .map sourcemap, else data). */
  type?: ModuleType;
};

export type UploadBinding = { type: string; name: string; [key: string]: unknown };

/** One `[[migrations]]` entry without its tag. */
export type MigrationStep = {
  new_classes?: string[];
  new_sqlite_classes?: string[];
  renamed_classes?: Array<{ from: string; to: string }>;
  deleted_classes?: string[];
  transferred_classes?: Array<{ from: string; from_script: string; to: string }>;
};

/** The `migrations` of a script PUT (see durable-objects.ts migrationsToUpload). */
export type DurableObjectMigrations = { old_tag?: string; new_tag: string; steps: MigrationStep[] };

/** `assets.config` of the metadata (wrangler's AssetConfigMetadata). */
export type AssetsConfigMetadata = {
  html_handling?: "auto-trailing-slash" | "force-trailing-slash" | "drop-trailing-slash" | "none";
  not_found_handling?: "single-page-application" | "404-page" | "none";
  run_worker_first?: boolean | string[];
  /** The contents of the assets directory's `_redirects` file. */
  _redirects?: string;
  /** The contents of the assets directory's `_headers` file. */
  _headers?: string;
};

export type WorkerUpload = {
  /** Empty for an assets-only Worker (then `assets` is required). */
  modules: WorkerModule[];
  /** Name of the entry module; absent for an assets-only Worker. A CommonJS entry is sent as `body_part`. */
  mainModule?: string;
  compatibilityDate: string;
  compatibilityFlags?: string[];
  bindings?: UploadBinding[];
  /** Binding types carried over from the previous version. Default: secrets, as wrangler 4 does. */
  keepBindings?: string[];
  /** e.g. `{"workers/message": "…", "workers/tag": "…"}`. */
  annotations?: Record<string, string>;
  /** Durable Object migrations: only a script PUT may carry them (uploadScript; `deploy` then PUTs). */
  migrations?: DurableObjectMigrations;
  /** Static assets: the completion token of the upload (assets.ts syncAssets) and the router config. */
  assets?: { jwt: string; config?: AssetsConfigMetadata };
  /** Keep the previous version's assets (no new upload). */
  keepAssets?: boolean;
  /** e.g. `{"mode": "smart"}`; `mode: "off"` is better left out, as wrangler does. */
  placement?: Record<string, unknown>;
  limits?: { cpu_ms?: number; subrequests?: number };
  logpush?: boolean;
  observability?: Record<string, unknown>;
  tailConsumers?: Array<{ service: string; environment?: string }>;
  streamingTailConsumers?: Array<{ service: string }>;
  /** Further metadata keys passed through as they are (cache_options, …); the typed fields win. */
  extraMetadata?: Record<string, unknown>;
};

export const CONTENT_TYPES: Record<ModuleType, string> = {
  esm: "application/javascript+module",
  cjs: "application/javascript",
  commonjs: "application/javascript",
  wasm: "application/wasm",
  "compiled-wasm": "application/wasm",
  text: "text/plain",
  data: "application/octet-stream",
  buffer: "application/octet-stream",
  sourcemap: "application/source-map",
};

export const DEFAULT_KEEP_BINDINGS = ["secret_text", "secret_key"];

const CANONICAL: Partial<Record<ModuleType, ModuleType>> = { commonjs: "cjs", "compiled-wasm": "wasm", buffer: "data" };

/** The module's kind in the short vocabulary (`commonjs` -> `cjs`, `compiled-wasm` -> `wasm`, `buffer` -> `data`). */
export function moduleTypeOf(module: WorkerModule): ModuleType {
  if (module.type) return CANONICAL[module.type] ?? module.type;
  const name = module.name.toLowerCase();
  if (name.endsWith(".js") || name.endsWith(".mjs")) return "esm";
  if (name.endsWith(".cjs")) return "cjs";
  if (name.endsWith(".wasm")) return "wasm";
  if (name.endsWith(".map")) return "sourcemap";
  if (name.endsWith(".txt") || name.endsWith(".html")) return "text";
  return "data";
}

/** The metadata object of an upload (also handy for tests and logs). */
export function uploadMetadata(upload: WorkerUpload): Record<string, unknown> {
  if (upload.mainModule === undefined) {
    if (upload.assets === undefined || upload.modules.length > 0) {
      throw new CboError("ERR_VALIDATION", "an upload without a main module must be an assets-only Worker: assets and no modules", {
        details: { modules: upload.modules.map((m) => m.name) },
      });
    }
    // wrangler's assets-only form: nothing else, not even bindings.
    return {
      assets: { jwt: upload.assets.jwt, config: upload.assets.config ?? {} },
      ...(upload.annotations === undefined ? {} : { annotations: upload.annotations }),
      compatibility_date: upload.compatibilityDate,
      compatibility_flags: upload.compatibilityFlags ?? [],
    };
  }
  const main = upload.modules.find((m) => m.name === upload.mainModule);
  if (!main) {
    throw new CboError("ERR_VALIDATION", `main module ${upload.mainModule} is not among the uploaded modules`, {
      details: { mainModule: upload.mainModule, modules: upload.modules.map((m) => m.name) },
    });
  }
  const entryKey = moduleTypeOf(main) === "cjs" ? "body_part" : "main_module";
  const opt = <K extends string>(key: K, value: unknown) => (value === undefined ? {} : { [key]: value });
  return {
    ...upload.extraMetadata,
    [entryKey]: upload.mainModule,
    bindings: upload.bindings ?? [],
    compatibility_date: upload.compatibilityDate,
    compatibility_flags: upload.compatibilityFlags ?? [],
    ...opt("migrations", upload.migrations),
    keep_bindings: upload.keepBindings ?? DEFAULT_KEEP_BINDINGS,
    ...opt("logpush", upload.logpush),
    ...opt("placement", upload.placement),
    ...opt("tail_consumers", upload.tailConsumers),
    ...opt("streaming_tail_consumers", upload.streamingTailConsumers),
    ...opt("limits", upload.limits),
    ...opt("annotations", upload.annotations),
    ...opt("keep_assets", upload.keepAssets),
    ...(upload.assets === undefined ? {} : { assets: { jwt: upload.assets.jwt, config: upload.assets.config ?? {} } }),
    ...opt("observability", upload.observability),
  };
}

export function buildUploadForm(upload: WorkerUpload): FormData {
  const seen = new Set<string>();
  for (const m of upload.modules) {
    if (m.name === "metadata")
      throw new CboError("ERR_VALIDATION", 'a module cannot be named "metadata": that part holds the upload\'s metadata');
    if (seen.has(m.name)) throw new CboError("ERR_VALIDATION", `module ${m.name} is listed twice`);
    seen.add(m.name);
  }
  const form = new FormData();
  form.set("metadata", JSON.stringify(uploadMetadata(upload)));
  for (const m of upload.modules) {
    const file = new File([toBlobPart(m.content)], m.name, { type: CONTENT_TYPES[moduleTypeOf(m)] });
    form.append(m.name, file, m.name);
  }
  return form;
}

/** Bytes or text as a BlobPart, copying views over shared or foreign buffers. */
export function toBlobPart(content: string | Uint8Array | ArrayBuffer): string | Uint8Array<ArrayBuffer> {
  if (typeof content === "string") return content;
  if (content instanceof ArrayBuffer) return new Uint8Array(content);
  return content.buffer instanceof ArrayBuffer ? (content as Uint8Array<ArrayBuffer>) : new Uint8Array(content);
}
