// The kit's package.json: the product's, except that a kit whose targets are all on Cloudflare
// lists the local edge's packages (Miniflare, and workerd through it; graphql for its analytics API) as dev dependencies, so that
// the kit's `npm ci --omit=dev` leaves them out (about 200 MB, and never loaded by `cbo daemon`).
//
// Why this and not an npm flag: wrangler (a dev dependency) depends on Miniflare too, so npm marks
// Miniflare neither "peer" nor "optional" whatever the product declares, and `--omit=peer` or
// `--omit=optional` would keep it (the latter would also drop esbuild's platform binary). Moving it
// between dependency groups changes no version: `npm ci` accepts the same lockfile unchanged.
// The kit runs `npm ci --legacy-peer-deps` too: npm installs an optional peer that the lockfile
// holds, and the unenv preset (src/build) names workerd as one (checked with real npm in
// test/kit-lean-install.test.ts). No production package relies on npm adding a peer for it.
import * as z from "zod";
import { CboError } from "../kit/errors.ts";

/** Packages only the local edge (src/local-edge) needs at run time. */
export const LOCAL_EDGE_PACKAGES = ["miniflare", "graphql"];

const PackageJsonSchema = z.looseObject({
  dependencies: z.record(z.string(), z.string()).optional(),
  devDependencies: z.record(z.string(), z.string()).optional(),
});

export function kitPackageJson(text: string, o: { localEdge: boolean }): string {
  if (o.localEdge) return text;
  let pkg: z.infer<typeof PackageJsonSchema>;
  try {
    pkg = PackageJsonSchema.parse(JSON.parse(text));
  } catch (e) {
    throw new CboError("ERR_INTERNAL", "The product's package.json cannot be read for the kit.", { cause: e });
  }
  const dependencies = { ...pkg.dependencies };
  const devDependencies = { ...pkg.devDependencies };
  for (const name of LOCAL_EDGE_PACKAGES) {
    const version = dependencies[name];
    if (version === undefined) continue;
    delete dependencies[name];
    devDependencies[name] = version;
  }
  const sorted = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return `${JSON.stringify({ ...pkg, dependencies, devDependencies: sorted(devDependencies) }, null, 2)}\n`;
}
