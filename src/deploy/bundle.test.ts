// Real esbuild on files in a temp dir: imports bundled into one module, the `workerd` export
// condition chosen, syntax errors reported with file and line.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { ResolvedWorker } from "../config/load.ts";
import { GateSchema } from "../config/schema.ts";
import { isCboError } from "../kit/errors.ts";
import { loadSpec } from "../config/load.ts";
import { bindingSpec, bundleWorker } from "./bundle.ts";
import { buildRelease } from "./release-build.ts";

const dir = mkdtempSync(join(tmpdir(), "cbo-bundle-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const worker = (entry: string, over: Partial<ResolvedWorker> = {}): ResolvedWorker => ({
  tenant: "default",
  name: "w",
  entry,
  root: dir,
  compatibilityDate: "2025-01-01",
  compatibilityFlags: [],
  vars: {},
  kv: {},
  services: {},
  secrets: [],
  agent: false,
  drift: "report",
  targets: ["eu"],
  waves: [["eu"]],
  steps: [100],
  gate: GateSchema.parse({}),
  ...over,
});

describe("bundleWorker", () => {
  it("bundles imports into one ESM module, preferring the workerd export condition", async () => {
    const pkg = join(dir, "node_modules", "dual");
    mkdirSync(pkg, { recursive: true });
    writeFileSync(
      join(pkg, "package.json"),
      JSON.stringify({ name: "dual", exports: { workerd: "./workerd.js", node: "./node.js", default: "./node.js" } }),
    );
    writeFileSync(join(pkg, "workerd.js"), `export const flavour = "workerd-build";`);
    writeFileSync(join(pkg, "node.js"), `export const flavour = "node-build";`);
    writeFileSync(join(dir, "util.js"), `export const greet = (n) => "hi " + n;`);
    writeFileSync(
      join(dir, "index.js"),
      `import { greet } from "./util.js";\nimport { flavour } from "dual";\nexport default { fetch() { return new Response(greet(flavour)); } };\n`,
    );
    const b = await bundleWorker(worker(join(dir, "index.js")));
    expect(b.mainModule).toBe("index.js");
    expect(b.code).toContain("workerd-build");
    expect(b.code).not.toContain("node-build");
    expect(b.code).not.toMatch(/\bimport\b.*from/);
    expect(b.code).toMatch(/export\s*{[^}]*as default/);
    expect(b.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("hashes code, compatibility and bindings: the same input gives the same hash", async () => {
    const entry = join(dir, "index.js");
    const a = await bundleWorker(worker(entry));
    expect((await bundleWorker(worker(entry))).hash).toBe(a.hash);
    expect((await bundleWorker(worker(entry, { vars: { A: "1" } }))).hash).not.toBe(a.hash);
    expect((await bundleWorker(worker(entry, { compatibilityDate: "2025-02-01" }))).hash).not.toBe(a.hash);
    expect((await bundleWorker(worker(entry, { kv: { K: "t" } }))).hash).not.toBe(a.hash);
  });

  it("orders the hashed bindings by code units, never by the host's locale", () => {
    const spec = bindingSpec(
      worker("x.js", { vars: { b: "1", B: "1", a: "1", _: "1", é: "1" }, kv: { Z: "z", a: "a" }, compatibilityFlags: ["b", "A", "_"] }),
    );
    // localeCompare would give _ a B b é (or another order, by locale).
    expect(Object.keys(spec["vars"] as object)).toEqual(["B", "_", "a", "b", "é"]);
    expect(Object.keys(spec["kv"] as object)).toEqual(["Z", "a"]);
    expect(spec["compatibilityFlags"]).toEqual(["A", "_", "b"]);
  });

  it("reports a syntax error as ERR_VALIDATION naming file:line", async () => {
    const entry = join(dir, "broken.js");
    writeFileSync(entry, `export default {\n  fetch() {\n    return new Response("x";\n  },\n};\n`);
    const err = await bundleWorker(worker(entry)).catch((e: unknown) => e);
    expect(isCboError(err) && err.code).toBe("ERR_VALIDATION");
    expect((err as Error).message).toContain(`${entry}:3:`);
  });

  it("reports a missing import with the importing file and line", async () => {
    const entry = join(dir, "missing.js");
    writeFileSync(entry, `\nimport x from "./nope.js";\nexport default { fetch() { return new Response(x); } };\n`);
    const err = await bundleWorker(worker(entry)).catch((e: unknown) => e);
    expect(isCboError(err) && err.code).toBe("ERR_VALIDATION");
    expect((err as Error).message).toContain(`${entry}:2:`);
    expect((err as Error).message).toContain("nope.js");
  });

  it("builds what every environment releases: a per-target environment is no longer refused", async () => {
    const p = join(dir, "later");
    mkdirSync(p, { recursive: true });
    writeFileSync(join(p, "index.js"), `export default { fetch() { return new Response(typeof PROD === "undefined" ? "x" : PROD); } };\n`);
    writeFileSync(
      join(p, "envs.toml"),
      `name = "envs"\nmain = "index.js"\ncompatibility_date = "2025-01-01"\n[env.production]\ndefine = { PROD = "'prod'" }\n[env.staging]\n`,
    );
    writeFileSync(
      join(p, "orchestrator.yaml"),
      "targets: [{ name: eu }, { name: us }]\nworkers:\n  - { wrangler: envs.toml, name: split, env: { eu: production, us: staging } }\n",
    );
    const [split] = loadSpec(join(p, "orchestrator.yaml")).workers;
    const build = await buildRelease(split!);
    expect(build.of("eu").bundle.code).toContain('"prod"');
    expect(build.of("us").bundle.code).not.toContain('"prod"');
    expect(build.of("eu").hash).not.toBe(build.of("us").hash);
  });
});
