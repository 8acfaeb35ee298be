// Source maps as wrangler handles them (deployment-bundle/source-maps.ts). esbuild writes the map
// with `sourceRoot` = the output directory and `sources` relative to it; that is the file
// `--outdir` holds. The map wrangler uploads is rewritten: `file` = the module name, `sourceRoot`
// made relative to the map's own directory (so ""), `sources` relative to the project root.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import type { Confinement } from "./confine.ts";

type RawMap = { sources: string[]; sourceRoot?: string; file?: string; [k: string]: unknown };

/** The uploaded form of the bundle's map (wrangler's loadSourceMap). */
export function uploadSourceMap(
  mainName: string,
  mapText: string,
  destination: string,
  projectRoot: string,
): { name: string; content: string } {
  const map = JSON.parse(mapText) as RawMap;
  map.file = mainName;
  if (map.sourceRoot) map.sourceRoot = relative(destination, map.sourceRoot);
  map.sources = map.sources.map((s) => relative(projectRoot, join(destination, s)));
  return { name: `${mainName}.map`, content: JSON.stringify(map) };
}

/** The trailing `//# sourceMappingURL=` of a module, as wrangler reads it. */
function sourceMappingUrl(content: string): string | undefined {
  const lines = content.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!.trim();
    if (line.length === 0) continue;
    if (line.startsWith("//# sourceMappingURL=")) {
      const url = line.slice("//# sourceMappingURL=".length).trim();
      return url.startsWith("data:") ? undefined : url;
    }
    if (!line.startsWith("//#") && !line.startsWith("//@")) return undefined;
  }
  return undefined;
}

const stripPrefix = (prefix: string, s: string) => {
  while (s.startsWith(prefix)) s = s.slice(prefix.length);
  return s;
};
const cleanPathPrefix = (p: string) => stripPrefix("..\\", stripPrefix("../", stripPrefix(".\\", stripPrefix("./", p))));

/**
 * For `no_bundle`: the map a module's own sourceMappingURL names, if it exists (wrangler's
 * scanSourceMaps, non-strict). The map file is read only if the confinement allows it.
 */
export function scanSourceMap(
  module: { name: string; filePath: string; content: string },
  c: Confinement,
): { name: string; content: string } | undefined {
  const url = sourceMappingUrl(module.content);
  if (url === undefined) return undefined;
  const path = join(dirname(module.filePath), url);
  if (!existsSync(path) || c.rule(path) !== null) return undefined;
  const map = JSON.parse(readFileSync(c.check(path), "utf8")) as RawMap;
  map.file = module.name;
  if (map.sourceRoot) map.sourceRoot = cleanPathPrefix(map.sourceRoot);
  map.sources = map.sources.map(cleanPathPrefix);
  return { name: `${module.name}.map`, content: JSON.stringify(map) };
}
