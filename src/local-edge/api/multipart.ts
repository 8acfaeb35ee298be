// Parses a Worker upload (PUT /scripts/:name, POST /scripts/:name/versions) in the forms wrangler
// and SDK 5/6 send: `metadata` as a string field or an application/json file part, and modules as
// parts named by their path, or all named `files` and told apart by filename (CLOUDFLARE-API §3).
import * as z from "zod";
import { transform } from "esbuild";
import { withChildEnv } from "../../config/child-env.ts";
import { CF_CODES, CfApiError } from "./envelope.ts";
import { parseJson } from "./json-body.ts";
import type { ModuleType, StoredModule } from "../state/model.ts";

const BindingSchema = z.object({ type: z.string().min(1), name: z.string().min(1) }).passthrough();

export const UploadMetadataSchema = z
  .object({
    main_module: z.string().min(1).optional(),
    body_part: z.string().min(1).optional(),
    bindings: z.array(BindingSchema).default([]),
    compatibility_date: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/, "compatibility_date must look like 2025-01-01")
      .optional(),
    compatibility_flags: z.array(z.string()).default([]),
    /** Absent is not `[]`: without it, Cloudflare still carries the previous version's secrets over (operations.ts). */
    keep_bindings: z.array(z.string()).optional(),
    annotations: z.record(z.string(), z.string()).default({}),
  })
  .passthrough();
export type UploadMetadata = z.infer<typeof UploadMetadataSchema>;

export type ParsedUpload = { metadata: UploadMetadata; mainModule: string; modules: StoredModule[] };

const invalid = (message: string) => new CfApiError(400, CF_CODES.SCRIPT_INVALID, message);

function moduleType(contentType: string): ModuleType | undefined {
  const ct = contentType.split(";")[0]!.trim().toLowerCase();
  switch (ct) {
    case "application/javascript+module":
    case "text/javascript+module":
      return "esm";
    case "application/javascript":
    case "text/javascript":
      return "cjs";
    case "application/wasm":
      return "wasm";
    case "text/plain":
      return "text";
    case "application/octet-stream":
      return "data";
    case "application/json":
      return "json";
    case "application/source-map":
      return "sourcemap";
    default:
      return undefined;
  }
}

export async function parseUpload(request: Request): Promise<ParsedUpload> {
  const contentType = request.headers.get("content-type") ?? "";
  if (!contentType.toLowerCase().startsWith("multipart/form-data")) {
    throw invalid("Uploads must be multipart/form-data with a `metadata` part and one part per module.");
  }
  let form: FormData;
  try {
    form = await request.formData();
  } catch (e) {
    throw invalid(`Could not parse the multipart body: ${e instanceof Error ? e.message : String(e)}`);
  }

  let metadataText: string | undefined;
  const modules: StoredModule[] = [];
  for (const [partName, value] of form.entries()) {
    if (partName === "metadata") {
      metadataText = typeof value === "string" ? value : await value.text();
      continue;
    }
    if (partName.startsWith("metadata[")) {
      throw invalid("Bracket-encoded metadata (cloudflare SDK 7 multipart) is not accepted; send `metadata` as one JSON part.");
    }
    if (typeof value === "string") {
      // A plain string field: treat as an ES module only when named like one.
      modules.push({ name: partName, type: partName.endsWith(".map") ? "sourcemap" : "esm", content: new TextEncoder().encode(value) });
      continue;
    }
    const name = value.name && value.name !== "blob" ? value.name : partName;
    const type = moduleType(value.type || "application/octet-stream");
    if (type === undefined) throw invalid(`Module "${name}" has content type "${value.type}", which the local edge cannot run.`);
    modules.push({ name, type: name.endsWith(".map") ? "sourcemap" : type, content: new Uint8Array(await value.arrayBuffer()) });
  }

  if (metadataText === undefined) throw invalid("The upload has no `metadata` part.");
  // Not JSON, or nested deeper than the edge can store and serve (a 5,000-deep `json` binding): 10021.
  const raw = parseJson(metadataText, "The `metadata` part", CF_CODES.SCRIPT_INVALID);
  const parsed = UploadMetadataSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw invalid(`metadata.${issue.path.join(".")}: ${issue.message}`);
  }
  const metadata = parsed.data;
  if (metadata.body_part && !metadata.main_module) {
    throw invalid("Service-worker syntax (body_part) is not supported by the local edge; upload an ES module Worker (main_module).");
  }
  // An assets-only Worker (no `main` in its wrangler config) uploads metadata with `assets` and no module.
  if (!metadata.main_module && metadata.assets !== undefined && modules.length === 0) return { metadata, mainModule: "", modules };
  if (!metadata.main_module) throw invalid("metadata.main_module is required: name the part holding the entry module.");
  const main = modules.find((m) => m.name === metadata.main_module);
  if (!main) {
    throw invalid(
      `No such module "${metadata.main_module}": metadata.main_module must name one of the uploaded parts (${modules.map((m) => m.name).join(", ") || "none"}).`,
    );
  }
  if (main.type !== "esm") throw invalid(`The main module "${main.name}" must be an ES module (application/javascript+module).`);

  // Syntax-check JavaScript now, as Cloudflare does at upload, so a broken Worker fails the upload
  // with 10021 rather than every request later.
  for (const m of modules) {
    if (m.type !== "esm" && m.type !== "cjs") continue;
    try {
      const code = new TextDecoder().decode(m.content);
      await withChildEnv(() => transform(code, { loader: "js", format: m.type === "esm" ? "esm" : "cjs", logLevel: "silent" }));
    } catch (e) {
      const msg = (e as { errors?: Array<{ text: string; location?: { line: number; column: number } }> }).errors?.[0];
      throw invalid(
        `Uncaught SyntaxError in ${m.name}${msg?.location ? `:${msg.location.line}:${msg.location.column}` : ""}: ${msg?.text ?? String(e)}`,
      );
    }
  }
  return { metadata, mainModule: main.name, modules };
}
