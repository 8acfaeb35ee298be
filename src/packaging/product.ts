// The product's own files that go into a kit (the side-effect half of the kit: reading disk).
// Only what runs: package.json and the lockfile (npm ci), bin/ and src/ without unit tests. No
// node_modules (installed on the VPS), no tests, no local state: nothing of this machine's data.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import * as z from "zod";
import { CboError } from "../kit/errors.ts";

export type ProductFile = { path: string; data: Uint8Array; mode: number };
export type Product = { name: string; version: string; files: ProductFile[] };

/** The package's root: two levels above this file (src/packaging/). */
export const PRODUCT_ROOT = fileURLToPath(new URL("../../", import.meta.url));

const PackageSchema = z.looseObject({ name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/), version: z.string().regex(/^[0-9A-Za-z.+-]+$/) });

const include = (rel: string) => (rel.startsWith("src/") || rel.startsWith("bin/")) && !/\.test\.ts$/.test(rel);

function walk(root: string, dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)).split(sep).join("/"));
}

function read(root: string, rel: string): ProductFile {
  const mode = rel.startsWith("bin/") ? 0o755 : 0o644;
  return { path: rel, data: readFileSync(join(root, rel)), mode };
}

/** The product's name and version (package.json), e.g. for the kit's file name. */
export function productInfo(root: string = PRODUCT_ROOT): { name: string; version: string } {
  try {
    const { name, version } = PackageSchema.parse(JSON.parse(readFileSync(join(root, "package.json"), "utf8")));
    return { name, version };
  } catch (e) {
    throw new CboError("ERR_INTERNAL", `Cannot read the product's package.json in ${root}.`, { cause: e });
  }
}

export const kitFileName = (p: { name: string; version: string }) => `${p.name}-kit-${p.version}.tar.gz`;

/** The product files under `root` (the Worker sources a spec names are sources.ts's). */
export function readProduct(root: string = PRODUCT_ROOT): Product {
  const pkg = productInfo(root);
  const rels = ["package.json", "package-lock.json", ...walk(root, "bin"), ...walk(root, "src")]
    .filter((r) => r.startsWith("package") || include(r))
    .sort();
  return { name: pkg.name, version: pkg.version, files: rels.map((r) => read(root, r)) };
}
