// The content of one version as Cloudflare answers `GET …/scripts/:name/content/v2`: every module
// as a part of a multipart/form-data body, typed by its module kind, with the main module named in
// `cf-entrypoint`. `wrangler versions secret put|bulk|delete` read it to re-upload the same code
// with other secrets, so the parts must round-trip through wrangler's `fromMimeType`.
import type { ModuleType, StoredModule } from "../state/model.ts";

const MIME: Record<ModuleType, string> = {
  esm: "application/javascript+module",
  cjs: "application/javascript",
  wasm: "application/wasm",
  text: "text/plain",
  data: "application/octet-stream",
  json: "application/json",
  sourcemap: "application/source-map",
};

export function scriptContentResponse(modules: StoredModule[], mainModule: string): Response {
  const form = new FormData();
  for (const m of modules) form.append(m.name, new Blob([new Uint8Array(m.content)], { type: MIME[m.type] }), m.name);
  const res = new Response(form);
  res.headers.set("cf-entrypoint", mainModule);
  return res;
}
