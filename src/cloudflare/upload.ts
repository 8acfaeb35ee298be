// The multipart body of a script or version upload, in wrangler's canonical form (the one the
// real API accepts): a plain string field `metadata` holding JSON, then one part per module whose
// part name and filename are the module path and whose content type says what kind it is.
// (SDK 7 flattens metadata into `metadata[...]` brackets, which the real API rejects.)
import { CboError } from "../kit/errors.ts";

export type ModuleType = "esm" | "cjs" | "wasm" | "text" | "data" | "sourcemap";

export type WorkerModule = {
  /** Module path, e.g. `index.js` or `lib/util.js`; also the part name. */
  name: string;
  content: string | Uint8Array | ArrayBuffer;
  /** Default: from the extension (.js/.mjs esm, .cjs cjs, .wasm, .txt/.html text, .map sourcemap, else data). */
  type?: ModuleType;
};

export type UploadBinding = { type: string; name: string; [key: string]: unknown };

export type WorkerUpload = {
  modules: WorkerModule[];
  /** Name of the entry module. A CommonJS entry is sent as `body_part` (service-worker syntax). */
  mainModule: string;
  compatibilityDate: string;
  compatibilityFlags?: string[];
  bindings?: UploadBinding[];
  /** Binding types carried over from the previous version. Default: secrets, as wrangler 4 does. */
  keepBindings?: string[];
  /** e.g. `{"workers/message": "…", "workers/tag": "…"}`. */
  annotations?: Record<string, string>;
  /** Further metadata keys passed through as they are (migrations, observability, …). */
  extraMetadata?: Record<string, unknown>;
};

export const CONTENT_TYPES: Record<ModuleType, string> = {
  esm: "application/javascript+module",
  cjs: "application/javascript",
  wasm: "application/wasm",
  text: "text/plain",
  data: "application/octet-stream",
  sourcemap: "application/source-map",
};

export const DEFAULT_KEEP_BINDINGS = ["secret_text", "secret_key"];

export function moduleTypeOf(module: WorkerModule): ModuleType {
  if (module.type) return module.type;
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
  const main = upload.modules.find((m) => m.name === upload.mainModule);
  if (!main) {
    throw new CboError("ERR_VALIDATION", `main module ${upload.mainModule} is not among the uploaded modules`, {
      details: { mainModule: upload.mainModule, modules: upload.modules.map((m) => m.name) },
    });
  }
  const entryKey = moduleTypeOf(main) === "cjs" ? "body_part" : "main_module";
  return {
    ...upload.extraMetadata,
    [entryKey]: upload.mainModule,
    bindings: upload.bindings ?? [],
    compatibility_date: upload.compatibilityDate,
    compatibility_flags: upload.compatibilityFlags ?? [],
    keep_bindings: upload.keepBindings ?? DEFAULT_KEEP_BINDINGS,
    ...(upload.annotations === undefined ? {} : { annotations: upload.annotations }),
  };
}

export function buildUploadForm(upload: WorkerUpload): FormData {
  const seen = new Set<string>();
  for (const m of upload.modules) {
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
