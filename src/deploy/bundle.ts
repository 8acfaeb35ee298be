// Bundles a Worker's entry with esbuild the way wrangler does for a modules Worker: one ESM file,
// platform neutral, resolving the `workerd`/`worker`/`browser` export conditions first. The hash
// covers the code and everything else that makes the version behave differently (compatibility
// and the bindings spec), so two releases with the same hash upload the same thing.
import { createHash } from "node:crypto";
import { resolve } from "node:path";
// esbuild is imported on the first bundle: an idle daemon does not need it in memory.
import type { BuildFailure, Message } from "esbuild";
import type { ResolvedWorker } from "../config/load.ts";
import { CboError } from "../kit/errors.ts";

export type Bundle = {
  /** The name of the single module uploaded (the entry). */
  mainModule: string;
  code: string;
  /** sha256 hex of code + compatibility + bindings spec. */
  hash: string;
};

export const MAIN_MODULE = "index.js";

/** What goes into the hash besides the code: the spec side of the version. */
export function bindingSpec(worker: ResolvedWorker): Record<string, unknown> {
  const sorted = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
  return {
    compatibilityDate: worker.compatibilityDate,
    compatibilityFlags: [...worker.compatibilityFlags].sort(),
    vars: sorted(worker.vars),
    kv: sorted(worker.kv),
    services: sorted(worker.services),
  };
}

export function bundleHash(code: string, worker: ResolvedWorker): string {
  return createHash("sha256").update(code).update("\0").update(JSON.stringify(bindingSpec(worker))).digest("hex");
}

export async function bundleWorker(worker: ResolvedWorker): Promise<Bundle> {
  let code: string;
  try {
    const out = await (await import("esbuild")).build({
      entryPoints: [worker.entry],
      bundle: true,
      write: false,
      format: "esm",
      platform: "neutral",
      target: "es2024",
      conditions: ["workerd", "worker", "browser"],
      mainFields: ["browser", "module", "main"],
      // Provided by workerd at run time (and by nodejs_compat for node:*).
      external: ["cloudflare:*", "node:*"],
      minify: false,
      sourcemap: false,
      logLevel: "silent",
      outfile: MAIN_MODULE,
    });
    code = out.outputFiles[0]!.text;
  } catch (e) {
    throw bundleError(worker, e);
  }
  return { mainModule: MAIN_MODULE, code, hash: bundleHash(code, worker) };
}

function bundleError(worker: ResolvedWorker, e: unknown): CboError {
  const errors: Message[] = (e as Partial<BuildFailure>).errors ?? [];
  if (errors.length === 0) {
    return new CboError("ERR_VALIDATION", `Cannot bundle worker ${worker.name} (${worker.entry}): ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const file = (m: Message) => (m.location ? resolve(m.location.file) : null);
  const where = (m: Message) => (m.location ? `${file(m)}:${m.location.line}:${m.location.column + 1}` : worker.entry);
  const lines = errors.slice(0, 5).map((m) => `${where(m)}: ${m.text}`);
  return new CboError("ERR_VALIDATION", `Cannot bundle worker ${worker.name}:\n${lines.join("\n")}`, {
    details: { worker: worker.name, errors: errors.slice(0, 20).map((m) => ({ file: file(m), line: m.location?.line ?? null, column: m.location ? m.location.column + 1 : null, message: m.text })) },
    hint: "Fix the source at the place named above, then release again.",
  });
}
