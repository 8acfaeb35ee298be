// nodejs_compat v2, as wrangler's hybrid-nodejs-compat plugin: unenv's environment with
// Cloudflare's preset decides, for the compatibility date and flags, which node:* modules workerd
// provides (left as imports) and which are polyfilled (bundled from unenv / the preset). unenv and
// @cloudflare/unenv-preset are pinned to the versions wrangler 4.164 pins.
//
// The injected globals come from virtual modules whose paths wrangler puts under its own package
// directory (`<node_modules>/wrangler/_virtual_unenv_global_polyfill-…`); esbuild prints that path
// in a comment of the bundle, so it is reproduced here relative to where unenv is installed. It is
// only a name: nothing is read there.
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import type { PluginBuild, Plugin } from "esbuild";

const require = createRequire(import.meta.url);
const REQUIRED_NODE_BUILT_IN_NAMESPACE = "node-built-in-modules";
const REQUIRED_UNENV_ALIAS_NAMESPACE = "required-unenv-alias";

/** Where wrangler would be installed beside the unenv we use: the virtual modules' directory. */
export function virtualModulesDir(): string {
  return resolve(dirname(require.resolve("unenv/package.json")), "..", "wrangler");
}

export function hybridNodejsCompatPlugin(opts: { compatibilityDate: string | undefined; compatibilityFlags: string[] }): Plugin {
  return {
    name: "hybrid-nodejs_compat",
    async setup(build) {
      const { defineEnv } = await import("unenv");
      const { getCloudflarePreset, nonPrefixedNodeModules } = await import("@cloudflare/unenv-preset");
      const { alias, inject, external, polyfill } = defineEnv({
        presets: [
          getCloudflarePreset({ compatibilityDate: opts.compatibilityDate, compatibilityFlags: opts.compatibilityFlags }),
          // As wrangler: the real `debug` package, not unenv's no-op stub.
          { alias: { debug: "debug" } },
        ],
        npmShims: true,
      }).env;
      const nodeJsModuleRegexp = new RegExp(`^(${nonPrefixedNodeModules.join("|")}|node:.+)$`);
      handleRequireCallsToNodeJSBuiltins(build, nodeJsModuleRegexp);
      handleUnenvAliasedPackages(build, alias, external);
      handleNodeJSGlobals(build, inject, polyfill);
    },
  };
}

/** `require("node:x")` in an ES module: through a virtual CommonJS module importing its default. */
function handleRequireCallsToNodeJSBuiltins(build: PluginBuild, nodeJsModuleRegexp: RegExp): void {
  build.onResolve({ filter: nodeJsModuleRegexp }, (args) => {
    if (args.kind === "require-call") return { path: args.path, namespace: REQUIRED_NODE_BUILT_IN_NAMESPACE };
    return undefined;
  });
  build.onLoad({ filter: /.*/, namespace: REQUIRED_NODE_BUILT_IN_NAMESPACE }, ({ path }) => ({
    contents: `import libDefault from '${path}';\nmodule.exports = libDefault;`,
    loader: "js",
  }));
}

function handleUnenvAliasedPackages(build: PluginBuild, alias: Readonly<Record<string, string>>, external: readonly string[]): void {
  const aliasAbsolute: Record<string, string> = {};
  for (const [module, unresolved] of Object.entries(alias)) {
    try {
      aliasAbsolute[module] = require.resolve(unresolved);
    } catch {
      // Not installed (e.g. `debug`): the import resolves normally.
    }
  }
  const UNENV_ALIAS_RE = new RegExp(`^(${Object.keys(aliasAbsolute).join("|")})$`);
  build.onResolve({ filter: UNENV_ALIAS_RE }, (args) => {
    const unresolved = alias[args.path]!;
    // A require() of an npm shim or mock gets a CommonJS view of the ES module.
    if (args.kind === "require-call" && (unresolved.startsWith("unenv/npm/") || unresolved.startsWith("unenv/mock/"))) {
      return { path: args.path, namespace: REQUIRED_UNENV_ALIAS_NAMESPACE };
    }
    return { path: aliasAbsolute[args.path]!, external: external.includes(unresolved) };
  });
  build.onLoad({ filter: /.*/, namespace: REQUIRED_UNENV_ALIAS_NAMESPACE }, ({ path }) => ({
    // ts-dedent of wrangler's template, byte for byte (it is the module's text in the source map).
    contents: [
      `import * as esm from '${path}';`,
      "module.exports = Object.entries(esm)",
      "\t\t\t.filter(([k,]) => k !== 'default')",
      "\t\t\t.reduce((cjs, [k, value]) =>",
      "\t\t\t\tObject.defineProperty(cjs, k, { value, enumerable: true }),",
      '\t\t\t\t"default" in esm ? esm.default : {}',
      "\t\t\t);",
    ].join("\n"),
    loader: "js",
  }));
}

/** Globals (process, Buffer, …) assigned on globalThis from virtual modules, plus unenv's polyfills, all injected. */
function handleNodeJSGlobals(
  build: PluginBuild,
  inject: Readonly<Record<string, string | readonly string[]>>,
  polyfill: readonly string[],
): void {
  const UNENV_VIRTUAL_MODULE_RE = /_virtual_unenv_global_polyfill-(.+)$/;
  const prefix = resolve(virtualModulesDir(), "_virtual_unenv_global_polyfill-");
  const injectsByModule = new Map<string, { injectedName: string; exportName: string; importName: string }[]>();
  const virtualModulePathToSpecifier = new Map<string, string>();
  for (const [injectedName, spec] of Object.entries(inject)) {
    const [module, exportName, importName] = Array.isArray(spec)
      ? [spec[0]!, spec[1]!, spec[1]!]
      : [spec as string, "default", "defaultExport"];
    if (!injectsByModule.has(module)) {
      injectsByModule.set(module, []);
      virtualModulePathToSpecifier.set(prefix + module.replaceAll("/", "-"), module);
    }
    injectsByModule.get(module)!.push({ injectedName, exportName, importName });
  }
  build.initialOptions.inject = [
    ...(build.initialOptions.inject ?? []),
    ...virtualModulePathToSpecifier.keys(),
    ...polyfill.map((m) => require.resolve(m)),
  ];
  build.onResolve({ filter: UNENV_VIRTUAL_MODULE_RE }, ({ path }) => ({ path }));
  build.onLoad({ filter: UNENV_VIRTUAL_MODULE_RE }, ({ path }) => {
    const module = virtualModulePathToSpecifier.get(path)!;
    const injects = injectsByModule.get(module)!;
    const imports = injects.map(({ exportName, importName }) =>
      importName === exportName ? exportName : `${exportName} as ${importName}`,
    );
    return {
      contents: `import { ${imports.join(", ")} } from "${module}";\n${injects.map(({ injectedName, importName }) => `globalThis.${injectedName} = ${importName};`).join("\n")}`,
    };
  });
}
