// find_additional_modules, as wrangler's find-additional-modules.ts: every file under the module
// root (base_dir, default the entry's directory) that matches a module rule becomes a module named
// by its path relative to that root, except the entry, the wrangler file and `.wrangler/`.
// Imports of those files stay imports (they are uploaded beside the bundle).
//
// Confined like everything a bundle reads: each file goes through check() before it is read, and
// protected directories (the data directory, `.cbo`) are not walked at all.
import { readdir, readFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { CboError } from "../kit/errors.ts";
import type { Confinement } from "./confine.ts";
import { globToRegExp } from "./glob.ts";
import { RULE_TO_MODULE_TYPE, type ModuleType, type ParsedRules } from "./rules.ts";

export type CollectedModule = { name: string; type: ModuleType; content: Uint8Array; filePath: string };

export type ModuleRootEntry = {
  /** The entry module, absolute. */
  file: string;
  /** base_dir or the entry's directory, absolute. */
  moduleRoot: string;
  projectRoot: string;
  /** The wrangler file, never a module. */
  configPath?: string;
};

async function* walk(dir: string, c: Confinement, skipDir: string, skipFile: string | undefined, root: string): AsyncGenerator<string> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const abs = join(dir, e.name);
    if (e.isDirectory()) {
      if (abs !== skipDir && c.rule(abs) !== "protected") yield* walk(abs, c, skipDir, skipFile, root);
    } else if (abs !== skipFile) {
      yield relative(root, abs).replaceAll("\\", "/");
    }
  }
}

export async function findAdditionalModules(
  entry: ModuleRootEntry,
  parsed: ParsedRules,
  c: Confinement,
  warnings: string[],
): Promise<CollectedModule[]> {
  c.check(entry.moduleRoot);
  const relativeEntry = relative(entry.moduleRoot, entry.file).replaceAll("\\", "/");
  const matchers = parsed.rules.flatMap((rule) => rule.globs.map((glob) => ({ rule, regex: globToRegExp(glob, { globstar: true }) })));
  const modules: CollectedModule[] = [];
  const names = new Set<string>();
  let files: string[];
  try {
    files = [];
    for await (const f of walk(entry.moduleRoot, c, join(entry.projectRoot, ".wrangler"), entry.configPath, entry.moduleRoot))
      files.push(f);
  } catch (e) {
    if (e instanceof CboError) throw e;
    throw new CboError("ERR_VALIDATION", `Cannot list the additional modules in ${entry.moduleRoot}: ${(e as Error).message}`, {
      hint: "Check `base_dir` (find_additional_modules walks it).",
    });
  }
  for (const name of files) {
    for (const { rule, regex } of matchers) {
      if (!regex.test(name)) continue;
      const filePath = resolve(entry.moduleRoot, name);
      const real = c.check(filePath);
      const module = { name, type: RULE_TO_MODULE_TYPE[rule.type], content: new Uint8Array(await readFile(real)), filePath };
      if (!names.has(name)) {
        names.add(name);
        modules.push(module);
      } else {
        warnings.push(`Ignoring duplicate module: ${name} (${module.type})`);
      }
    }
  }
  return modules.filter((m) => m.name !== relativeEntry);
}
