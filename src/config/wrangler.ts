// Thin adapter kept for earlier callers: the wrangler reader is src/config/wrangler/ (every key,
// environments, refusals) and its output is a WorkerSource. This gives the old summary of a
// file's top level.
import type { WorkerSource } from "./source/model.ts";
import { readWranglerWorker } from "./wrangler/index.ts";

export type WranglerWorker = {
  name: string;
  /** Absolute path of the entry module. */
  main: string;
  compatibilityDate?: string;
  compatibilityFlags: string[];
  vars: Record<string, string | number | boolean>;
  /** Binding -> KV namespace logical name (src/config/source/resources.ts). */
  kv: Record<string, string>;
  services: Record<string, string>;
  versionMetadata?: string;
  /** Everything else the file says. */
  source: WorkerSource;
};

export function readWranglerConfig(file: string, env?: string): WranglerWorker {
  const source = readWranglerWorker(file, env !== undefined ? { env } : {});
  const vm = source.bindings.find((b) => b.kind === "version_metadata")?.binding;
  return {
    name: source.name,
    main: source.main ?? "",
    ...(source.compatibilityDate ? { compatibilityDate: source.compatibilityDate } : {}),
    compatibilityFlags: source.compatibilityFlags,
    vars: Object.fromEntries(
      Object.entries(source.vars).map(([k, v]) => [
        k,
        typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? v : JSON.stringify(v),
      ]),
    ),
    kv: Object.fromEntries(source.bindings.flatMap((b) => (b.kind === "kv" ? [[b.binding, b.resource.name]] : []))),
    services: Object.fromEntries(source.bindings.flatMap((b) => (b.kind === "service" ? [[b.binding, b.service]] : []))),
    ...(vm ? { versionMetadata: vm } : {}),
    source,
  };
}
