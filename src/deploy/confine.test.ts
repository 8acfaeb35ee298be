// Real esbuild on real files: a Worker's bundle reads only its project (and installed packages),
// never the daemon's data directory or key files, whatever the path, symlink, loader or import
// attribute. Every refusal is ERR_BUNDLE_CONFINED naming the file, and no planted byte shows up
// in a bundle or in an error.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { ResolvedWorker } from "../config/load.ts";
import { GateSchema } from "../config/schema.ts";
import { CboError } from "../kit/errors.ts";
import { bundleWorker } from "./bundle.ts";
import { createConfinement } from "./confine.ts";

const top = mkdtempSync(join(tmpdir(), "cbo-confine-"));
afterAll(() => rmSync(top, { recursive: true, force: true }));

// <top>/node_modules/hoisted            a dependency hoisted above the project (monorepo)
// <top>/secret.txt                      a file of the host outside the project
// <top>/packages/linked                 a workspace package outside the project, linked in node_modules
// <top>/app/                            the project root (where orchestrator.yaml is)
// <top>/app/.cbo/{master.key,admin-token}  the daemon's data directory inside the project
// <top>/app/keys/master.key             a master key file kept in the project (configured)
// <top>/app/node_modules/dep            an installed dependency
const PLANTED = {
  key: "pl4nted-master-key-3f9a",
  token: "cbo_pl4nted_admin_token_77c1",
  host: "pl4nted-host-file-e21d",
  keyFile: "pl4nted-keyfile-0b3c",
};
const app = join(top, "app");
const data = join(app, ".cbo");
const keyFile = join(app, "keys", "master.key");
mkdirSync(data, { recursive: true });
mkdirSync(join(app, "keys"), { recursive: true });
writeFileSync(join(data, "master.key"), PLANTED.key);
writeFileSync(join(data, "admin-token"), PLANTED.token + "\n");
writeFileSync(keyFile, PLANTED.keyFile);
writeFileSync(keyFile + ".retired-k1", PLANTED.keyFile);
writeFileSync(join(top, "secret.txt"), PLANTED.host);
for (const [dir, pkg] of [
  [join(top, "node_modules", "hoisted"), "hoisted"],
  [join(app, "node_modules", "dep"), "dep"],
  [join(top, "packages", "linked"), "linked"],
] as const) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: pkg, main: "index.js" }));
  writeFileSync(join(dir, "index.js"), `export const from = "${pkg}-ok";`);
}
symlinkSync(join(top, "packages", "linked"), join(app, "node_modules", "linked"));

const worker = (entry: string): ResolvedWorker => ({
  tenant: "default",
  name: "evil",
  entry: join(app, entry),
  root: app,
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
});
const protect = [data, keyFile];
let n = 0;
/** Writes a one-off entry module importing `imports`, bundles it, and returns the outcome. */
async function attempt(imports: string): Promise<{ code?: string; error?: CboError }> {
  const file = `entry-${++n}.js`;
  writeFileSync(join(app, file), `${imports}\nexport default { fetch() { return new Response("x"); } };\n`);
  try {
    // Everything the upload would carry: the bundle, rule-matched modules (a .txt import is its
    // own Text module, as with wrangler) and the source map.
    const b = await bundleWorker(worker(file), { protect });
    return {
      code: b.modules
        .map((m) => (typeof m.content === "string" ? m.content : new TextDecoder().decode(m.content as Uint8Array)))
        .join("\n"),
    };
  } catch (e) {
    return { error: e as CboError };
  }
}
const noPlanted = (text: string) => Object.values(PLANTED).filter((p) => text.includes(p));

describe("bundle confinement", () => {
  it("bundles the project's own files, installed packages (also hoisted above the project) and the product's edge library", async () => {
    writeFileSync(join(app, "data.txt"), "project text");
    const r = await attempt(
      `import { from as a } from "dep"; import { from as b } from "hoisted"; import t from "./data.txt" with { type: "text" }; import { createEdgeAgent } from "${join(import.meta.dirname, "../edge/index.ts")}";\nglobalThis.x = [a, b, t, createEdgeAgent];`,
    );
    expect(r.error).toBeUndefined();
    expect(r.code).toContain("dep-ok");
    expect(r.code).toContain("hoisted-ok");
    expect(r.code).toContain("project text");
  });

  it.each([
    ["the data directory's master key, as text", `import k from "./.cbo/master.key" with { type: "text" };`, "protected"],
    ["the admin token through ../ from a subfolder", `import k from "./sub/../.cbo/admin-token" with { type: "text" };`, "protected"],
    ["the configured key file, as bytes", `import k from "./keys/master.key" with { type: "bytes" };`, "protected"],
    ["a retired key file beside it", `import k from "./keys/master.key.retired-k1" with { type: "text" };`, "protected"],
    ["an absolute path to the data directory", `import k from "${join(data, "admin-token")}" with { type: "text" };`, "protected"],
    ["a host file by absolute path", `import k from "/etc/passwd" with { type: "text" };`, "outside-project"],
    ["a host file through ../", `import k from "../secret.txt" with { type: "text" };`, "outside-project"],
    ["a host file as JSON", `import k from "../secret.txt" with { type: "json" };`, "outside-project"],
    ["a host file as bytes", `import k from "../secret.txt" with { type: "bytes" };`, "outside-project"],
    ["a workspace package linked from outside the project", `import { from } from "linked";`, "outside-project"],
  ])("refuses %s", async (_what, imports, rule) => {
    const r = await attempt(imports);
    expect(r.code).toBeUndefined();
    expect(r.error?.code).toBe("ERR_BUNDLE_CONFINED");
    expect(r.error?.details).toMatchObject({ rule, worker: "evil" });
    expect(r.error?.message).toMatch(/cannot be bundled: .+ (is the orchestrator's own data|is outside the Worker's project root)/);
    expect(noPlanted(JSON.stringify({ m: r.error?.message, d: r.error?.details, h: r.error?.hint }))).toEqual([]);
  });

  it("follows symlinks: a link in the project to a key or a host file is refused, whatever loader reads it", async () => {
    symlinkSync(join(data, "master.key"), join(app, "innocent.txt"));
    symlinkSync(join(top, "secret.txt"), join(app, "notes.bin"));
    mkdirSync(join(app, "linkdir"));
    symlinkSync(data, join(app, "linkdir", "inner"));
    for (const [imports, rule] of [
      [`import k from "./innocent.txt" with { type: "text" };`, "protected"],
      [`import k from "./innocent.txt";`, "protected"],
      [`import k from "./notes.bin" with { type: "bytes" };`, "outside-project"],
      [`import k from "./linkdir/inner/admin-token" with { type: "text" };`, "protected"],
    ] as const) {
      const r = await attempt(imports);
      expect(r.error?.code, imports).toBe("ERR_BUNDLE_CONFINED");
      expect(r.error?.details?.rule, imports).toBe(rule);
      expect(noPlanted(JSON.stringify({ m: r.error?.message, d: r.error?.details }))).toEqual([]);
    }
  });

  it("a symlinked package.json met while resolving is refused without quoting it", async () => {
    mkdirSync(join(app, "pkg"));
    writeFileSync(join(app, "pkg", "index.js"), "export default 1;");
    symlinkSync(join(data, "admin-token"), join(app, "pkg", "package.json"));
    const r = await attempt(`import p from "./pkg";`);
    expect(r.error?.code).toBe("ERR_BUNDLE_CONFINED");
    expect(r.error?.details).toMatchObject({ rule: "protected", realPath: join(data, "admin-token") });
    expect(noPlanted(JSON.stringify({ m: r.error?.message, d: r.error?.details }))).toEqual([]);
  });

  it("a tsconfig.json extending a key is refused without quoting it", async () => {
    mkdirSync(join(app, "tsdir"));
    writeFileSync(join(app, "tsdir", "tsconfig.json"), JSON.stringify({ extends: join(data, "admin-token") }));
    writeFileSync(join(app, "tsdir", "index.ts"), `export default { fetch() { return new Response("x"); } };`);
    const err = await bundleWorker(worker("tsdir/index.ts"), { protect }).catch((e: unknown) => e as CboError);
    expect(err).toBeInstanceOf(CboError);
    expect((err as CboError).code).toBe("ERR_BUNDLE_CONFINED");
    expect((err as CboError).message).toContain("its error is withheld");
    expect(noPlanted(JSON.stringify({ m: (err as CboError).message, d: (err as CboError).details }))).toEqual([]);
  });

  it("refuses a main module outside the project, given as an absolute path or through ../", async () => {
    for (const entry of [join(top, "secret.txt"), "../secret.txt"]) {
      const w = { ...worker("x.js"), entry: entry.startsWith("/") ? entry : join(app, entry) };
      const err = await bundleWorker(w, { protect }).catch((e: unknown) => e as CboError);
      expect(err).toBeInstanceOf(CboError);
      expect((err as CboError).code).toBe("ERR_BUNDLE_CONFINED");
      expect((err as CboError).message).toContain("main module");
    }
  });

  it("loaders configured for an extension do not get around it either (file, copy, binary, dataurl)", async () => {
    const c = createConfinement({ root: app, protect });
    const { build } = await import("esbuild");
    const { confinePlugin } = await import("./confine.ts");
    for (const loader of ["file", "copy", "binary", "dataurl", "base64", "text"] as const) {
      writeFileSync(join(app, `via-${loader}.js`), `import k from "../secret.txt"; export default k;`);
      const out = await build({
        entryPoints: [join(app, `via-${loader}.js`)],
        bundle: true,
        write: false,
        outdir: join(app, "out"),
        logLevel: "silent",
        absWorkingDir: app,
        loader: { ".txt": loader },
        plugins: [confinePlugin(c)],
      }).catch((e: { errors: Array<{ detail?: unknown }> }) => e);
      expect("errors" in out && out.errors.some((m) => (m.detail as CboError | undefined)?.code === "ERR_BUNDLE_CONFINED"), loader).toBe(
        true,
      );
    }
  });
});
