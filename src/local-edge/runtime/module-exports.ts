// The export names of a version's main module, for the env shim's generated entry module
// (workers/env-shim/entry.ts), which must re-export every one of them statically. esbuild bundles
// the version's own JS modules in memory (anything else stays external) and reports the entry's
// exports, following `export * from` chains as workerd would.
import { posix } from "node:path";
import { build, type Plugin } from "esbuild";
import type { StoredModule } from "../state/model.ts";

export async function mainExports(modules: StoredModule[], mainModule: string): Promise<string[]> {
  const js = new Map(modules.filter((m) => m.type === "esm" || m.type === "cjs").map((m) => [m.name, m]));
  const plugin: Plugin = {
    name: "version-modules",
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === "entry-point") return { path: mainModule, namespace: "version" };
        const relative = args.path.startsWith("./") || args.path.startsWith("../") || args.path.startsWith("/");
        const name = relative ? posix.normalize(posix.join(posix.dirname(args.importer), args.path)).replace(/^\//, "") : args.path;
        return js.has(name) ? { path: name, namespace: "version" } : { path: args.path, external: true };
      });
      b.onLoad({ filter: /.*/, namespace: "version" }, (args) => {
        const m = js.get(args.path)!;
        return { contents: new TextDecoder().decode(m.content), loader: "js" };
      });
    },
  };
  const out = await build({
    entryPoints: ["main"], bundle: true, write: false, metafile: true, format: "esm", platform: "neutral",
    logLevel: "silent", plugins: [plugin], outdir: "out",
  });
  const entry = Object.values(out.metafile!.outputs).find((o) => o.entryPoint !== undefined);
  return entry?.exports ?? [];
}
