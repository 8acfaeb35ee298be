// Without the v2 polyfills (modes v1, als and none), as wrangler's nodejs-compat plugin: a node:*
// import that does not resolve on disk stays an import for workerd to provide. In mode none
// wrangler warns that the Worker may throw unless nodejs_compat is on; so do we (`warnings`).
import type { Plugin } from "esbuild";
import type { NodeCompatMode } from "../node-compat.ts";

export function nodejsCompatPlugins(mode: Exclude<NodeCompatMode, "v2">, warnings: string[]): Plugin[] {
  const plugin: Plugin = {
    name: "nodejs_compat-imports",
    setup(build) {
      const seen = new Set<string>();
      const warned = new Map<string, string[]>();
      build.onStart(() => {
        seen.clear();
        warned.clear();
      });
      build.onResolve({ filter: /node:.*/ }, async ({ path, kind, resolveDir, importer }) => {
        const key = `${path}:${kind}:${resolveDir}:${importer}`;
        // The nested resolve below comes back through this hook once: let esbuild resolve it then.
        if (seen.has(key)) return undefined;
        seen.add(key);
        const result = await build.resolve(path, { kind, resolveDir, importer });
        if (result.errors.length > 0) {
          warned.set(path, [...(warned.get(path) ?? []), importer]);
          return { external: true };
        }
        return result;
      });
      build.onEnd(() => {
        if (mode === "v1") return;
        for (const [path, importers] of warned) {
          warnings.push(
            `The package "${path}" wasn't found on the file system but is built into node; the Worker may throw at run time unless the "nodejs_compat" compatibility flag is on (imported from ${importers.join(", ")}).`,
          );
        }
      });
    },
  };
  if (mode !== "als") return [plugin];
  const als: Plugin = {
    name: "async-local-storage-imports",
    setup(build) {
      build.onResolve({ filter: /^node:async_hooks(\/|$)/ }, () => ({ external: true }));
    },
  };
  return [als, plugin];
}
