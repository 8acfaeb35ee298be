// The bundle is wrangler's: for each fixture project (test/fixtures/build/*, one feature each) and
// each example Worker, real `wrangler deploy --dry-run --outdir D --outfile F` runs (4.164, the
// latest pinned, and 4.86) and src/build builds the same project, read through orchestrator.yaml.
//
// Latest: the outdir (bundle, map, additional modules) is byte-identical, and so is every part of
// the upload form (modules, their content types, the uploaded source map).
// 4.86: identical too, except where the test asserts the documented difference (README "wrangler
// projects"): 4.86 uploads no source map unless upload_source_maps = true; it bundles with
// esbuild 0.27.3 (we, like 4.164, with 0.28.2), whose runtime helper and TS parameter-property
// output differ; its v2 polyfills are its own nested copy of @cloudflare/unenv-preset, so their
// paths in comments and the map differ (the code does not).
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { buildWorker, type BuildOutput } from "../src/build/index.ts";
import { loadSpec } from "../src/config/load.ts";
import { wranglerDryRun, type DryRun, type WranglerVersion } from "./support/wrangler-dry-run.ts";

const repo = fileURLToPath(new URL("../", import.meta.url));
const fixtures = join(repo, "test", "fixtures", "build");
const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

type Case = { fixture: string; env?: string; build?: boolean };
const CASES: Case[] = [
  { fixture: "ts-entry" },
  { fixture: "node-v2" },
  { fixture: "node-v1" },
  { fixture: "node-none" },
  { fixture: "rules" },
  { fixture: "wasm" },
  { fixture: "define-alias" },
  { fixture: "additional" },
  { fixture: "preserve" },
  { fixture: "envs", env: "production" },
  { fixture: "envs", env: "staging" },
  { fixture: "options" },
  { fixture: "no-bundle" },
  { fixture: "custom-build", build: true },
];

const bytes = (c: Uint8Array | string) => (typeof c === "string" ? Buffer.from(c, "utf8") : Buffer.from(c));
const text = (c: Uint8Array | string) => bytes(c).toString("utf8");

/** A copy of the fixture with an orchestrator.yaml naming its wrangler file (and env/build). */
function project(c: Case): string {
  const dir = mkdtempSync(join(tmpdir(), `cbo-build-${c.fixture}-`));
  made.push(dir);
  cpSync(join(fixtures, c.fixture), dir, { recursive: true });
  const file = existsSync(join(dir, "wrangler.toml")) ? "wrangler.toml" : "wrangler.jsonc";
  writeFileSync(
    join(dir, "orchestrator.yaml"),
    `targets: [{ name: eu }]\nworkers:\n  - { wrangler: ${file}${c.env ? `, env: ${c.env}` : ""}${c.build ? ", build: true" : ""} }\n`,
  );
  return dir;
}

async function ours(spec: string, worker: number, outdir: string): Promise<BuildOutput> {
  const w = loadSpec(spec).workers[worker]!;
  return buildWorker(w.source!, { root: w.root, outdir });
}

/** The parts we would upload beside the metadata, as name -> [content type, bytes]. */
function uploadParts(out: BuildOutput): Map<string, [string, Buffer]> {
  return new Map([
    ...out.modules.map((m): [string, [string, Buffer]] => [m.name, [m.contentType, bytes(m.content)]]),
    ...(out.sourceMap
      ? [[out.sourceMap.name, [out.sourceMap.contentType, bytes(out.sourceMap.content)]] as [string, [string, Buffer]]]
      : []),
  ]);
}
const theirParts = (d: DryRun) => new Map(d.parts.map((p): [string, [string, Buffer]] => [p.name, [p.contentType, Buffer.from(p.bytes)]]));
const outdirOf = (out: BuildOutput) => new Map(out.outdirFiles.map((f) => [f.name, bytes(f.content)]));
const theirOutdir = (d: DryRun) => new Map([...d.outdir].map(([k, v]) => [k, Buffer.from(v)]));

/** Same names and byte-identical contents (values compared as text when they are, for readable failures). */
function expectSameFiles(mine: Map<string, Buffer>, theirs: Map<string, Buffer>, label: string): void {
  expect([...mine.keys()].sort(), label).toEqual([...theirs.keys()].sort());
  for (const [name, b] of mine) {
    const t = theirs.get(name)!;
    if (!b.equals(t)) expect(b.toString("utf8"), `${label}: ${name}`).toBe(t.toString("utf8"));
    expect(b.equals(t), `${label}: ${name}`).toBe(true);
  }
}

// ---- 4.86's documented differences --------------------------------------------------------------
/** 4.86's own copy of the preset, and its package directory for the virtual modules. */
const PATHS_486: [RegExp, string][] = [
  [/node_modules\/wrangler-4\.86\/node_modules\/@cloudflare\/unenv-preset/g, "node_modules/@cloudflare/unenv-preset"],
  [/node_modules\/wrangler-4\.86\/_virtual_unenv_global_polyfill-/g, "node_modules/wrangler/_virtual_unenv_global_polyfill-"],
];
/** esbuild 0.28's __esm helper (it rethrows a failed lazy init) and 0.27's. */
const ESM_HELPER_028 =
  "var __esm = (fn, res, err) => function __init() {\n  if (err) throw err[0];\n  try {\n    return fn && (res = (0, fn[__getOwnPropNames(fn)[0]])(fn = 0)), res;\n  } catch (e) {\n    throw err = [e], e;\n  }\n};";
const ESM_HELPER_027 =
  "var __esm = (fn, res) => function __init() {\n  return fn && (res = (0, fn[__getOwnPropNames(fn)[0]])(fn = 0)), res;\n};";
/** How each fixture's 4.86 bundle differs from ours: a rewrite of ours that must give 4.86's bytes. */
const DIFF_486: Record<string, { why: string; bundle: (ours: string) => string; paths?: boolean }> = {
  "ts-entry": {
    why: "esbuild 0.28 declares a TS parameter property as a class field; 0.27 does not",
    bundle: (s) => s.replace("    this.greeting = greeting;\n  }\n  greeting;\n", "    this.greeting = greeting;\n  }\n"),
  },
  additional: { why: "esbuild 0.28's __esm helper rethrows a failed lazy init", bundle: (s) => s.replace(ESM_HELPER_028, ESM_HELPER_027) },
  "node-v2": { why: "v2 polyfill paths", bundle: (s) => s, paths: true },
  "envs:production": { why: "v2 polyfill paths", bundle: (s) => s, paths: true },
};
const normalize486 = (s: string) => PATHS_486.reduce((acc, [re, to]) => acc.replace(re, to), s);

describe("bundles are wrangler's (wrangler deploy --dry-run --outdir, --outfile)", () => {
  for (const c of CASES) {
    const label = c.env ? `${c.fixture} (env ${c.env})` : c.fixture;
    it(`${label}: byte-identical to wrangler 4.164, and to 4.86 up to its documented differences`, { timeout: 180_000 }, async () => {
      const dir = project(c);
      const envArgs = c.env ? ["--env", c.env] : [];
      // latest: everything identical
      const latestOut = join(dir, "out-latest");
      const latest = await wranglerDryRun("latest", dir, latestOut, envArgs);
      const mine = await ours(join(dir, "orchestrator.yaml"), 0, latestOut);
      expectSameFiles(outdirOf(mine), theirOutdir(latest), `${label} outdir`);
      const myParts = uploadParts(mine);
      expect([...myParts.keys()].sort(), `${label} upload parts`).toEqual([...theirParts(latest).keys()].sort());
      for (const [name, [ct, b]] of theirParts(latest)) {
        expect(myParts.get(name)![0], `${label}: ${name} content type`).toBe(ct);
        expect(myParts.get(name)![1].equals(b), `${label}: ${name} bytes`).toBe(true);
      }
      expect(latest.metadata["main_module"]).toBe(mine.mainModule);
      const w = loadSpec(join(dir, "orchestrator.yaml")).workers[0]!;
      expect(latest.metadata["compatibility_date"]).toBe(w.source!.compatibilityDate);
      expect(latest.metadata["compatibility_flags"]).toEqual(w.source!.compatibilityFlags);

      // 4.86
      const oldOut = join(dir, "out-4.86");
      const old = await wranglerDryRun("4.86", dir, oldOut, envArgs);
      const mine486 = await ours(join(dir, "orchestrator.yaml"), 0, oldOut);
      const diff = DIFF_486[c.env ? `${c.fixture}:${c.env}` : c.fixture];
      const theirs = theirOutdir(old);
      const mineFiles = outdirOf(mine486);
      expect([...mineFiles.keys()].sort()).toEqual([...theirs.keys()].sort());
      for (const [name, b] of mineFiles) {
        const t = theirs.get(name)!;
        const differs = diff !== undefined && (name === mine486.mainModule || name === `${mine486.mainModule}.map`);
        if (!differs) {
          expect(b.equals(t), `${label} 4.86: ${name}`).toBe(true);
        } else if (diff!.paths) {
          expect(b.equals(t), `${label} 4.86: ${name} differs (${diff!.why})`).toBe(false);
          expect(normalize486(t.toString("utf8")), `${label} 4.86: ${name} once 4.86's preset paths are ours`).toBe(b.toString("utf8"));
        } else if (name === mine486.mainModule) {
          expect(b.equals(t)).toBe(false);
          expect(diff!.bundle(b.toString("utf8")), `${label} 4.86 (${diff!.why})`).toBe(t.toString("utf8"));
        } else {
          // The map: the same sources and contents; only the mappings follow the changed code.
          const [m, tm] = [JSON.parse(b.toString("utf8")), JSON.parse(t.toString("utf8"))] as Record<string, unknown>[];
          expect({ ...m, mappings: "" }).toEqual({ ...tm, mappings: "" });
        }
      }
      // 4.86 uploads a source map only with upload_source_maps = true (none of the fixtures says so).
      const oldParts = theirParts(old);
      const myOldParts = uploadParts(mine486);
      if (mine486.sourceMap) expect(oldParts.has(mine486.sourceMap.name)).toBe(false);
      for (const [name, [ct, b]] of oldParts) {
        expect(myOldParts.get(name)?.[0], `${label} 4.86: ${name}`).toBe(ct);
        if (!diff || name !== mine486.mainModule) expect(myOldParts.get(name)![1].equals(b), `${label} 4.86: ${name}`).toBe(true);
      }
    });
  }
});

describe("the example fleet's Workers bundle exactly as wrangler bundles them", () => {
  const examples = join(repo, "examples");
  const spec = loadSpec(join(examples, "orchestrator.yaml"));
  // wrangler leaves .wrangler/tmp in each project it runs in (gitignored); remove what we made.
  const projects = spec.workers.map((w) => dirname((w.source!.origin as { file: string }).file));
  const had = new Set(projects.filter((p) => existsSync(join(p, ".wrangler"))));
  afterAll(() => {
    for (const p of projects) if (!had.has(p)) rmSync(join(p, ".wrangler"), { recursive: true, force: true });
  });
  for (const [i, w] of spec.workers.entries()) {
    for (const version of ["latest", "4.86"] as WranglerVersion[]) {
      it(`${w.name}, wrangler ${version}: outdir and upload byte-identical`, { timeout: 180_000 }, async () => {
        const outdir = join(mkdtempSync(join(tmpdir(), "cbo-example-")), "out");
        made.push(outdir);
        // Each is a wrangler project: wrangler runs in its directory and reads its wrangler.jsonc.
        const theirs = await wranglerDryRun(version, projects[i]!, outdir);
        const mine = await ours(join(examples, "orchestrator.yaml"), i, outdir);
        expectSameFiles(outdirOf(mine), theirOutdir(theirs), `${w.name} ${version}`);
        const parts = uploadParts(mine);
        for (const [name, [ct, b]] of theirParts(theirs)) {
          expect(parts.get(name)?.[0]).toBe(ct);
          expect(parts.get(name)![1].equals(b), `${w.name} ${version}: ${name}`).toBe(true);
        }
        expect(theirParts(theirs).has(`${mine.mainModule}.map`)).toBe(version === "latest");
        const marker = { "ads-api": "createEdgeAgent", "ads-attribution": "last-click", "ads-conversions": "rollups-latest.csv" }[w.name];
        expect(text(mine.modules[0]!.content)).toContain(marker);
      });
    }
  }
});
