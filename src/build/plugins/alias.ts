// wrangler's `alias` plugin (deployment-bundle/bundle.ts): an exact import path listed in
// `alias` resolves, with Node's resolution from the project root, to its target. It runs before
// the Node.js polyfills, so a user alias beats unenv's.
import { createRequire } from "node:module";
import type { Plugin } from "esbuild";

const ESCAPE = /[-/\\^$*+?.()|[\]{}]/g;

export function aliasPlugin(alias: Record<string, string>, projectRoot: string): Plugin {
  const require = createRequire(import.meta.url);
  return {
    name: "alias",
    setup(build) {
      const keys = Object.keys(alias);
      if (keys.length === 0) return;
      build.onResolve({ filter: new RegExp(keys.map((k) => k.replace(ESCAPE, "\\$&")).join("|")) }, (args) => {
        const target = alias[args.path];
        if (!target) return undefined;
        return { path: require.resolve(target, { paths: [projectRoot] }) };
      });
    },
  };
}
