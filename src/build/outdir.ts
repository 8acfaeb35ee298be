// Writes a build the way `wrangler deploy --dry-run --outdir DIR` lays it out: the bundle, its
// map, every additional module beside it (wrangler's writeAdditionalModules). wrangler also writes
// a README.md naming the Worker and the time, left out here.
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { BuildOutput } from "./bundle.ts";

export async function writeOutdir(output: BuildOutput, dir: string): Promise<string[]> {
  const written: string[] = [];
  for (const f of output.outdirFiles) {
    const path = resolve(dir, f.name);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, f.content);
    written.push(path);
  }
  return written;
}
