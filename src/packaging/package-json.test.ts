import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { kitPackageJson } from "./package-json.ts";
import { PRODUCT_ROOT } from "./product.ts";

const product = readFileSync(join(PRODUCT_ROOT, "package.json"), "utf8");
type Pkg = { name: string; scripts: Record<string, string>; dependencies: Record<string, string>; devDependencies: Record<string, string> };

describe("the kit's package.json", () => {
  it("is the product's, byte for byte, when a target is local", () => {
    expect(kitPackageJson(product, { localEdge: true })).toBe(product);
  });

  it("lists the local edge's packages (Miniflare, graphql) as dev dependencies, same versions, when every target is on Cloudflare; nothing else changes", () => {
    const before = JSON.parse(product) as Pkg;
    const after = JSON.parse(kitPackageJson(product, { localEdge: false })) as Pkg;
    for (const name of ["miniflare", "graphql"]) {
      expect(after.dependencies[name]).toBeUndefined();
      expect(after.devDependencies[name]).toBe(before.dependencies[name]);
    }
    const { miniflare: _moved, graphql: _moved2, ...rest } = before.dependencies;
    expect(after.dependencies).toEqual(rest);
    expect(Object.keys(after.devDependencies)).toEqual(Object.keys(after.devDependencies).sort());
    expect({ ...after, dependencies: undefined, devDependencies: undefined }).toEqual({
      ...before,
      dependencies: undefined,
      devDependencies: undefined,
    });
    // The second Node and the SDK are dev dependencies of the product itself.
    expect(Object.keys(after.devDependencies)).toEqual(expect.arrayContaining(["node", "cloudflare", "wrangler"]));
    expect(Object.keys(after.dependencies)).not.toEqual(expect.arrayContaining(["node"]));
  });

  it("refuses a package.json it cannot read", () => {
    expect(() => kitPackageJson("{", { localEdge: false })).toThrow(/package.json cannot be read/);
  });
});
