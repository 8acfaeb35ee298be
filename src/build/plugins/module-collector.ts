// Module rules during bundling, as wrangler's module-collection.ts: an import that matches a rule
// (Text, Data, CompiledWasm, or a user rule) is not bundled; it becomes its own module, named
// `./<sha1 of content>-<basename>` (or by its path with preserve_file_names), and the import is
// kept pointing at that name. An import matching a rule that was dropped (an earlier rule of the
// same type without `fallthrough`) is refused, as wrangler refuses it.
//
// Every file read here goes through the confinement check first.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import type { Plugin } from "esbuild";
import { CboError } from "../../kit/errors.ts";
import { findAdditionalModules, type CollectedModule, type ModuleRootEntry } from "../additional-modules.ts";
import type { Confinement } from "../confine.ts";
import { globToRegExp } from "../glob.ts";
import { isJavaScriptModuleRule, RULE_TO_MODULE_TYPE, type ParsedRules } from "../rules.ts";

export type ModuleCollector = { modules: CollectedModule[]; plugin: Plugin };

const stripQuery = (p: string) => (p.includes("?") ? p.slice(0, p.indexOf("?")) : p);

function collectedName(cleaned: string, hash: string, preserve: boolean): string {
  if (!preserve) return `./${hash}-${basename(cleaned)}`;
  if (isAbsolute(cleaned)) return `./${hash}/${basename(cleaned)}`;
  return cleaned;
}

const isFile = (p: string) => {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
};

/** The `resolve` package's sync lookup for a path with an extension: the file itself, or under a node_modules up the tree. */
function nodeResolveFile(spec: string, basedir: string): string | undefined {
  if (spec.startsWith("./") || spec.startsWith("../") || spec === "." || spec === ".." || isAbsolute(spec)) {
    const p = resolve(basedir, spec);
    return isFile(p) ? p : undefined;
  }
  for (let dir = resolve(basedir); ; dir = dirname(dir)) {
    if (basename(dir) !== "node_modules") {
      const p = join(dir, "node_modules", spec);
      if (isFile(p)) return p;
    }
    if (dirname(dir) === dir) return undefined;
  }
}

export function createModuleCollector(opts: {
  entry: ModuleRootEntry;
  parsed: ParsedRules;
  findAdditionalModules: boolean;
  preserveFileNames: boolean;
  confinement: Confinement;
  warnings: string[];
}): ModuleCollector {
  const { parsed, confinement: c } = opts;
  const modules: CollectedModule[] = [];
  const read = (file: string, via: { importer?: string; specifier?: string }) => new Uint8Array(readFileSync(c.check(file, via)));
  const sha1 = (b: Uint8Array) => createHash("sha1").update(b).digest("hex");
  return {
    modules,
    plugin: {
      name: "wrangler-module-collector",
      setup(build) {
        let found: string[] = [];
        build.onStart(async () => {
          modules.splice(0);
          if (!opts.findAdditionalModules) return;
          const additional = await findAdditionalModules(opts.entry, parsed, c, opts.warnings);
          found = additional.map((m) => resolve(opts.entry.moduleRoot, m.name));
          modules.push(...additional);
        });

        const matchers = parsed.rules.flatMap((rule) => rule.globs.map((glob) => ({ regex: globToRegExp(glob), rule })));

        // wrangler 1.x let an import name a file beside the entry without "./"; wrangler still
        // honours it (with a deprecation warning) for files that match a rule.
        const entryDir = dirname(opts.entry.file);
        const legacy = readdirSync(entryDir, { withFileTypes: true })
          .filter((d) => d.isFile() && d.name !== basename(opts.entry.file))
          .map((d) => d.name);
        if (legacy.length > 0) {
          build.onResolve(
            { filter: new RegExp("^(" + legacy.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|") + ")$") },
            (args) => {
              if (args.kind !== "import-statement" && args.kind !== "require-call") return undefined;
              const cleaned = stripQuery(args.path);
              const filePath = join(entryDir, cleaned);
              const content = read(filePath, { importer: args.importer, specifier: args.path });
              const name = collectedName(cleaned, sha1(content), opts.preserveFileNames);
              const rule = matchers.find(({ regex }) => regex.test(name))?.rule;
              if (!rule) return undefined;
              opts.warnings.push(`Deprecation: a legacy module import of "${args.path}" in ${args.importer}; write "./${args.path}".`);
              modules.push({ name, filePath, content, type: RULE_TO_MODULE_TYPE[rule.type] });
              return { path: name, external: true, namespace: `wrangler-module-${rule.type}`, watchFiles: [filePath] };
            },
          );
        }

        for (const rule of parsed.rules) {
          if (!opts.findAdditionalModules && isJavaScriptModuleRule(rule)) continue;
          for (const glob of rule.globs) {
            build.onResolve({ filter: globToRegExp(glob) }, async (args) => {
              if ((args.pluginData as { skip?: boolean } | undefined)?.skip) return undefined;
              const cleaned = stripQuery(args.path);
              let filePath = join(args.resolveDir, cleaned);
              if (found.includes(filePath)) return { path: cleaned, external: true };
              if (isJavaScriptModuleRule(rule)) return undefined;
              try {
                const resolved = await build.resolve(cleaned, {
                  kind: args.kind,
                  importer: args.importer,
                  resolveDir: args.resolveDir,
                  pluginData: { skip: true },
                });
                if (resolved.path) filePath = resolved.path;
              } catch {
                // as wrangler: fall back to the path as written
              }
              filePath = nodeResolveFile(cleaned, args.resolveDir) ?? filePath;
              const content = read(filePath, { importer: args.importer, specifier: args.path });
              const name = collectedName(cleaned, sha1(content), opts.preserveFileNames);
              modules.push({ name, filePath, content, type: RULE_TO_MODULE_TYPE[rule.type] });
              return { path: name, external: true, namespace: `wrangler-module-${rule.type}`, watchFiles: [filePath] };
            });
          }
        }

        for (const rule of parsed.removedRules) {
          for (const glob of rule.globs) {
            build.onResolve({ filter: globToRegExp(glob) }, (args) => {
              throw new CboError(
                "ERR_VALIDATION",
                `The file ${args.path} matched a module rule in your configuration (${JSON.stringify(rule)}), but was ignored because a previous rule with the same type was not marked as \`fallthrough = true\`.`,
                {
                  hint: "Add `fallthrough = true` to the earlier rule of that type, or change the globs.",
                },
              );
            });
          }
        }
      },
    },
  };
}
