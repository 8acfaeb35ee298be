// Real esbuild on real files: what the build reads itself (rule-matched imports, additional
// modules, the [build] command's directory, alias targets) is confined like every import; the
// [build] command runs only when allowed and never sees the daemon's secrets; refusals say what to do.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { defaultBuildSettings, type BuildSettings, type WorkerBinding, type WorkerSource } from "../config/source/model.ts";
import { CboError } from "../kit/errors.ts";
import { buildWorker, type BuildOutput } from "./bundle.ts";

const top = mkdtempSync(join(tmpdir(), "cbo-build-"));
afterAll(() => rmSync(top, { recursive: true, force: true }));
const PLANTED = { key: "pl4nted-key-77aa", host: "pl4nted-host-31bc" };
const app = join(top, "app");
const data = join(app, ".data");
mkdirSync(join(app, "src"), { recursive: true });
mkdirSync(data, { recursive: true });
writeFileSync(join(data, "master.key"), PLANTED.key);
writeFileSync(join(data, "leak.txt"), PLANTED.key);
writeFileSync(join(top, "secret.txt"), PLANTED.host);
writeFileSync(join(top, "outside.wasm"), Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
const protect = [data];

let n = 0;
function source(
  code: string,
  over: {
    build?: Partial<BuildSettings>;
    bindings?: WorkerBinding[];
    flags?: string[];
    date?: string;
    vars?: Record<string, unknown>;
  } = {},
): WorkerSource {
  const main = join(app, "src", `entry-${++n}.js`);
  writeFileSync(main, code);
  return {
    name: "w",
    origin: { kind: "spec", file: join(app, "orchestrator.yaml") },
    projectRoot: app,
    main,
    compatibilityDate: over.date ?? "2025-01-01",
    compatibilityFlags: over.flags ?? [],
    vars: (over.vars ?? {}) as WorkerSource["vars"],
    bindings: over.bindings ?? [],
    migrations: [],
    queueConsumers: [],
    triggers: {},
    routes: [],
    build: { ...defaultBuildSettings(), ...over.build },
    settings: { keepVars: false },
    requiredSecrets: [],
    warnings: [],
    ignored: [],
  };
}
const DEFAULT = `export default { fetch() { return new Response("ok"); } };\n`;
async function refusal(p: Promise<unknown>): Promise<CboError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(CboError);
  return e as CboError;
}
const noPlanted = (e: CboError) =>
  Object.values(PLANTED).filter((p) => JSON.stringify({ m: e.message, d: e.details, h: e.hint }).includes(p));
const allText = (out: BuildOutput) =>
  out.modules.map((m) => Buffer.from(m.content).toString("utf8")).join("\n") + (out.sourceMap?.content ?? "");

describe("build confinement: files the build reads itself", () => {
  it("a Text-rule import of a symlink to the data directory or out of the project is refused", async () => {
    symlinkSync(join(data, "master.key"), join(app, "src", "notes.txt"));
    symlinkSync(join(top, "secret.txt"), join(app, "src", "host.sql"));
    for (const [file, rule] of [
      ["./notes.txt", "protected"],
      ["./host.sql", "outside-project"],
    ] as const) {
      const e = await refusal(buildWorker(source(`import t from "${file}";\n${DEFAULT}`), { protect }));
      expect(e.code).toBe("ERR_BUNDLE_CONFINED");
      expect(e.details?.["rule"]).toBe(rule);
      expect(noPlanted(e)).toEqual([]);
    }
  });

  it("a .wasm import outside the project is refused before it is read", async () => {
    const e = await refusal(buildWorker(source(`import m from "../../outside.wasm";\n${DEFAULT}`), { protect }));
    expect(e.code).toBe("ERR_BUNDLE_CONFINED");
    expect(e.details?.["rule"]).toBe("outside-project");
  });

  it("find_additional_modules never walks a protected directory, and refuses a file linking out", async () => {
    const base = join(app, "mods");
    mkdirSync(join(base, "sub"), { recursive: true });
    writeFileSync(join(base, "sub", "fine.txt"), "fine text");
    symlinkSync(data, join(base, "data-link")); // a link to the data directory: a symlink, not walked as a directory
    mkdirSync(join(base, ".data-copy"));
    const ok = await buildWorker(source(DEFAULT, { build: { findAdditionalModules: true, baseDir: base } }), {
      protect: [...protect, join(base, ".data-copy")],
    });
    expect(ok.modules.map((m) => m.name).sort()).toEqual([ok.mainModule, "sub/fine.txt"].sort());
    writeFileSync(join(base, ".data-copy", "k.txt"), PLANTED.key);
    const again = await buildWorker(source(DEFAULT, { build: { findAdditionalModules: true, baseDir: base } }), {
      protect: [...protect, join(base, ".data-copy")],
    });
    expect(allText(again)).not.toContain(PLANTED.key);
    symlinkSync(join(top, "secret.txt"), join(base, "sub", "escape.txt"));
    const e = await refusal(buildWorker(source(DEFAULT, { build: { findAdditionalModules: true, baseDir: base } }), { protect }));
    expect(e.code).toBe("ERR_BUNDLE_CONFINED");
    expect(noPlanted(e)).toEqual([]);
  });

  it("base_dir, an alias target and a [build] cwd outside the project are refused", async () => {
    expect((await refusal(buildWorker(source(DEFAULT, { build: { findAdditionalModules: true, baseDir: top } }), { protect }))).code).toBe(
      "ERR_BUNDLE_CONFINED",
    );
    const aliased = source(`import x from "leak";\nexport default { fetch() { return new Response(x); } };\n`, {
      build: { alias: { leak: join(top, "secret.txt") } },
    });
    expect((await refusal(buildWorker(aliased, { protect }))).code).toBe("ERR_BUNDLE_CONFINED");
    const cmd = source(DEFAULT, { build: { command: { run: "true", cwd: top, allowed: true } } });
    expect((await refusal(buildWorker(cmd, { protect }))).code).toBe("ERR_BUNDLE_CONFINED");
  });
});

describe("[build] command", () => {
  it("runs only when allowed: otherwise the release is refused, naming the command and the switch", async () => {
    const s = source(DEFAULT, { build: { command: { run: "touch built-anyway", cwd: app, allowed: false } } });
    const e = await refusal(buildWorker(s, { protect }));
    expect(e.code).toBe("ERR_VALIDATION");
    expect(e.message).toContain("touch built-anyway");
    expect(e.hint).toContain("build: true");
  });

  it("runs in a scrubbed environment (no daemon secrets) with WRANGLER_COMMAND=deploy, and a failure shows its output", async () => {
    writeFileSync(
      join(app, "gen.mjs"),
      `import { writeFileSync } from "node:fs";\nwriteFileSync("src/generated.js", "export default { fetch() { return new Response(" + JSON.stringify(JSON.stringify({ keys: Object.keys(process.env), cmd: process.env.WRANGLER_COMMAND })) + "); } };\\n");\n`,
    );
    const s = source(DEFAULT, { build: { command: { run: `${process.execPath} gen.mjs`, cwd: app, allowed: true } } });
    s.main = join(app, "src", "generated.js");
    process.env["CBO_MASTER_KEY"] = PLANTED.key;
    process.env["CLOUDFLARE_API_TOKEN"] = PLANTED.host;
    try {
      const out = await buildWorker(s, { protect });
      const code = String(out.modules[0]!.content);
      expect(code).toMatch(/\\?"cmd\\?":\\?"deploy\\?"/);
      expect(code).toContain("PATH");
      expect(code).not.toContain("CBO_MASTER_KEY");
      expect(code).not.toContain("CLOUDFLARE_API_TOKEN");
    } finally {
      delete process.env["CBO_MASTER_KEY"];
      delete process.env["CLOUDFLARE_API_TOKEN"];
    }
    const failing = source(DEFAULT, { build: { command: { run: "echo compiling; echo broken >&2; exit 3", cwd: app, allowed: true } } });
    const e = await refusal(buildWorker(failing, { protect }));
    expect(e.message).toMatch(/exited with 3\.\ncompiling\nbroken/);
  });
});

describe("refusals and wrangler's rules", () => {
  it("an import matching a rule that was dropped (no fallthrough) is refused as wrangler refuses it", async () => {
    writeFileSync(join(app, "src", "a.txt"), "a");
    const s = source(`import a from "./a.txt";\n${DEFAULT}`, { build: { rules: [{ type: "Text", globs: ["**/*.md"] }] } });
    const e = await refusal(buildWorker(s, { protect }));
    expect(e.code).toBe("ERR_VALIDATION");
    expect(e.message).toContain("was ignored because a previous rule with the same type was not marked as `fallthrough = true`");
    writeFileSync(join(app, "src", "b.md"), "# b");
    const ok = await buildWorker(
      source(`import a from "./a.txt"; import b from "./b.md";\nexport default { fetch() { return new Response(a + b); } };\n`, {
        build: { rules: [{ type: "Text", globs: ["**/*.md"], fallthrough: true }] },
      }),
      { protect },
    );
    expect(ok.modules.filter((m) => m.type === "text").map((m) => Buffer.from(m.content).toString())).toEqual(
      expect.arrayContaining(["a", "# b"]),
    );
  });

  it("a service-worker format entry is refused; so is a Durable Object class the entry does not export", async () => {
    const sw = await refusal(buildWorker(source(`addEventListener("fetch", (e) => e.respondWith(new Response("x")));\n`), { protect }));
    expect(sw.message).toContain("service-worker format");
    const bindings: WorkerBinding[] = [{ kind: "durable_object", binding: "LIMITER", className: "RateLimiter" }];
    const e = await refusal(buildWorker(source(DEFAULT, { bindings }), { protect }));
    expect(e.message).toContain("RateLimiter");
    const ok = await buildWorker(source(`export class RateLimiter {}\n${DEFAULT}`, { bindings }), { protect });
    expect(ok.exports).toEqual(expect.arrayContaining(["RateLimiter", "default"]));
  });

  it('process.env.NODE_ENV is "production" whatever the daemon\'s environment says', async () => {
    const saved = process.env["NODE_ENV"];
    process.env["NODE_ENV"] = "development";
    try {
      const out = await buildWorker(source(`export default { fetch() { return new Response(process.env.NODE_ENV); } };\n`), { protect });
      expect(String(out.modules[0]!.content)).toContain(`new Response("production")`);
    } finally {
      process.env["NODE_ENV"] = saved;
    }
  });

  it("the release hash covers modules and metadata, and nothing else", async () => {
    writeFileSync(join(app, "src", "t.txt"), "one");
    const code = `import t from "./t.txt";\n${DEFAULT}`;
    const s = source(code);
    const a = await buildWorker(s, { protect });
    expect((await buildWorker(s, { protect })).hash).toBe(a.hash);
    expect((await buildWorker({ ...s, vars: { A: 1 } }, { protect })).hash).not.toBe(a.hash);
    expect((await buildWorker({ ...s, compatibilityFlags: ["nodejs_als"] }, { protect })).hash).not.toBe(a.hash);
    expect(
      (
        await buildWorker(
          { ...s, bindings: [{ kind: "kv", binding: "K", resource: { kind: "kv", name: "k", nameFrom: "spec" } }] },
          { protect },
        )
      ).hash,
    ).not.toBe(a.hash);
    // Where a resource's name came from is not part of what is uploaded.
    const named = (nameFrom: "spec" | "override") => ({
      ...s,
      bindings: [{ kind: "kv" as const, binding: "K", resource: { kind: "kv" as const, name: "k", nameFrom } }],
    });
    expect((await buildWorker(named("spec"), { protect })).hash).toBe((await buildWorker(named("override"), { protect })).hash);
    writeFileSync(join(app, "src", "t.txt"), "two");
    expect((await buildWorker(s, { protect })).hash).not.toBe(a.hash);
  });
});
