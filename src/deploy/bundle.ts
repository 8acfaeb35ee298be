// Bundles a Worker's entry with esbuild the way wrangler does for a modules Worker: one ESM file,
// platform neutral, resolving the `workerd`/`worker`/`browser` export conditions first. The hash
// covers the code and everything else that makes the version behave differently (compatibility
// and the bindings spec), so two releases with the same hash upload the same thing.
// Every file it reads is confined to the Worker's project (confine.ts): a Worker cannot bundle
// the daemon's keys or any other file of the host.
import { createHash } from "node:crypto";
import { join, resolve } from "node:path";
// esbuild is imported on the first bundle: an idle daemon does not need it in memory.
import type { BuildFailure, BuildOptions, Message } from "esbuild";
import type { ResolvedWorker } from "../config/load.ts";
import { withChildEnv } from "../config/child-env.ts";
import { CboError } from "../kit/errors.ts";
import { checkMetafile, confinePlugin, createConfinement, screenMessages, type Confinement } from "./confine.ts";

export type Bundle = {
  /** The name of the single module uploaded (the entry). */
  mainModule: string;
  code: string;
  /** sha256 hex of code + compatibility + bindings spec. */
  hash: string;
};

export const MAIN_MODULE = "index.js";

/** How a release bundles a Worker (also what bench/edge-agent.bench.ts measures the agent's size with). */
export const WORKER_BUILD_OPTIONS = {
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
} as const satisfies BuildOptions;

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

export type BundleOptions = {
  /** Paths no bundle may read even inside a project: the data directory, key files, the edge's state. */
  protect?: string[];
};

export async function bundleWorker(worker: ResolvedWorker, opts: BundleOptions = {}): Promise<Bundle> {
  const confinement = createConfinement({ root: worker.root, protect: opts.protect ?? [], worker: worker.name });
  // Refused before esbuild runs: the entry itself must be in the project.
  confinement.check(worker.entry, { entry: true });
  const esbuild = await import("esbuild");
  let code: string;
  try {
    // The esbuild service is a child process started on first use: it gets no secrets.
    const out = await withChildEnv(() => esbuild.build({
      ...WORKER_BUILD_OPTIONS,
      conditions: [...WORKER_BUILD_OPTIONS.conditions],
      mainFields: [...WORKER_BUILD_OPTIONS.mainFields],
      external: [...WORKER_BUILD_OPTIONS.external],
      // Paths in the output and the metafile are relative to the project, not the daemon's cwd.
      absWorkingDir: confinement.root,
      entryPoints: [worker.entry],
      outfile: MAIN_MODULE,
      metafile: true,
      // First, so that it sees every import and every load, whatever other plugins come later.
      plugins: [confinePlugin(confinement)],
    }));
    checkMetafile(confinement, out.metafile, confinement.root);
    // The entry's output; assets (the file/copy loaders) are other output files, never uploaded.
    const main = out.outputFiles.find((f) => f.path === join(confinement.root, MAIN_MODULE));
    if (!main) throw new CboError("ERR_INTERNAL", `esbuild produced no ${MAIN_MODULE} for worker ${worker.name}.`);
    code = main.text;
  } catch (e) {
    throw bundleError(worker, confinement, e);
  }
  return { mainModule: MAIN_MODULE, code, hash: bundleHash(code, worker) };
}

function bundleError(worker: ResolvedWorker, confinement: Confinement, e: unknown): CboError {
  if (e instanceof CboError) return e;
  const errors: Message[] = (e as Partial<BuildFailure>).errors ?? [];
  // Before any message text is shown: it may quote a file the bundle must not read.
  const confined = screenMessages(confinement, errors, confinement.root, worker.name);
  if (confined) return confined;
  if (errors.length === 0) {
    return new CboError("ERR_VALIDATION", `Cannot bundle worker ${worker.name} (${worker.entry}): ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const file = (m: Message) => (m.location ? resolve(confinement.root, m.location.file) : null);
  const where = (m: Message) => (m.location ? `${file(m)}:${m.location.line}:${m.location.column + 1}` : worker.entry);
  const lines = errors.slice(0, 5).map((m) => `${where(m)}: ${m.text}`);
  return new CboError("ERR_VALIDATION", `Cannot bundle worker ${worker.name}:\n${lines.join("\n")}`, {
    details: { worker: worker.name, errors: errors.slice(0, 20).map((m) => ({ file: file(m), line: m.location?.line ?? null, column: m.location ? m.location.column + 1 : null, message: m.text })) },
    hint: "Fix the source at the place named above, then release again.",
  });
}
