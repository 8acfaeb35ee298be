import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CboError } from "../kit/errors.ts";
import { loadSpec, parseSpec, resolveSpec } from "./load.ts";
import { MAX_SPEC_FILE_BYTES, MAX_SPEC_VALUE_BYTES } from "./size-limits.ts";

const BASE = `
targets:
  - { name: eu }
  - { name: us }
  - { name: ap }
workers:
  - { name: api, main: src/index.js }
`;

function refusal(text: string): CboError {
  try {
    parseSpec(text, "orchestrator.yaml");
  } catch (e) {
    expect(e).toBeInstanceOf(CboError);
    expect((e as CboError).code).toBe("ERR_VALIDATION");
    return e as CboError;
  }
  throw new Error("expected the spec to be refused");
}

describe("orchestrator.yaml", () => {
  it("fills defaults and resolves canary-first waves", () => {
    const spec = resolveSpec(parseSpec(BASE, "/tmp/x/orchestrator.yaml"), "/tmp/x/orchestrator.yaml");
    const w = spec.workers[0]!;
    expect(spec.tenant).toBe("default");
    expect(w.entry).toBe("/tmp/x/src/index.js");
    expect(w.waves).toEqual([["eu"], ["us", "ap"]]);
    expect(w.targets).toEqual(["eu", "us", "ap"]);
    expect(w.steps).toEqual([10, 50, 100]);
    expect(w.gate.max_error_rate).toBe(0.05);
    expect(spec.targets[0]!.api).toBe("local");
  });

  it("lets a worker narrow its targets and override the rollout; waves follow", () => {
    const text = BASE.replace(
      "{ name: api, main: src/index.js }",
      "{ name: api, main: a.js, targets: [us, ap], rollout: { steps: [25, 100], waves: [[ap]] } }",
    );
    const w = resolveSpec(parseSpec(text, "o.yaml"), "o.yaml").workers[0]!;
    expect(w.waves).toEqual([["ap"], ["us"]]);
    expect(w.steps).toEqual([25, 100]);
  });

  it("a worker's rollout overrides only the keys it names; the rest come from the spec's rollout", () => {
    const text = `${BASE.replace(
      "{ name: api, main: src/index.js }",
      "{ name: api, main: a.js, rollout: { allow_non_gradual: true } }\n  - { name: web, main: b.js, rollout: { gate: { bake_ms: 5 } } }",
    )}rollout:\n  steps: [100]\n  gate: { probe_path: /health, bake_ms: 1, min_samples: 1 }\n  analysis: { enabled: false }\n`;
    const [api, web] = resolveSpec(parseSpec(text, "o.yaml"), "o.yaml").workers;
    expect(api!.allowNonGradual).toBe(true);
    expect(api!.steps).toEqual([100]);
    expect(api!.gate).toMatchObject({ probe_path: "/health", bake_ms: 1, min_samples: 1 });
    expect(api!.analysis?.enabled).toBe(false);
    // A key it names is taken whole: web's gate is its own, with the gate's defaults.
    expect(web!.allowNonGradual).toBe(false);
    expect(web!.steps).toEqual([100]);
    expect(web!.gate).toMatchObject({ probe_path: "/", bake_ms: 5, min_samples: 8 });
  });

  it("names the file, the path and the fix for a misspelt key", () => {
    const e = refusal(BASE.replace("{ name: api, main: src/index.js }", "{ name: api, main: a.js, varz: { A: 1 } }"));
    expect(e.message).toBe('orchestrator.yaml: workers[0]: unknown key "varz" (did you mean "vars"?)');
    const nested = refusal(`${BASE}rollout: { stpes: [100] }\n`);
    expect(nested.message).toBe('orchestrator.yaml: rollout: unknown key "stpes" (did you mean "steps"?)');
    const far = refusal(BASE.replace("{ name: api, main: src/index.js }", "{ name: api, main: a.js, zzzzzz: 1 }"));
    expect(far.message).toBe('orchestrator.yaml: workers[0]: unknown key "zzzzzz" (check the spelling)');
    // A YAML merge key is named as what it is, not as a misspelling.
    const merged = refusal(
      BASE.replace("{ name: api, main: src/index.js }", "&api { name: api, main: a.js }\n  - { <<: *api, name: web }"),
    );
    expect(merged.message.split("\n")[0]).toBe(
      'orchestrator.yaml: workers[1]: a YAML merge key "<<" is not supported: write the keys out (an alias of a whole value, `*name`, works)',
    );
  });

  it("refuses steps that do not end at 100, unknown targets, duplicates and main+wrangler together", () => {
    expect(refusal(BASE + "rollout: { steps: [50, 10] }\n").message).toContain("rollout.steps: steps must increase and end at 100");
    expect(refusal(BASE.replace("main: src/index.js", "main: a.js, targets: [mars]")).message).toContain(
      'workers[0].targets[0]: unknown target "mars"',
    );
    expect(refusal(BASE + "  - { name: api, main: b.js }\n").message).toContain('worker "api" is declared twice');
    expect(refusal(BASE.replace("main: src/index.js", "main: a.js, wrangler: w.toml")).message).toContain("exactly one of `main`");
    expect(refusal("targets: []\n").message).toContain("targets: declare at least one target");
    // A Cloudflare target's account may come from CLOUDFLARE_ACCOUNT_ID when the daemon builds it
    // (test/cloudflare-target-tokens.test.ts refuses it there when neither names one).
    expect(() =>
      parseSpec(BASE.replace("{ name: us }", "{ name: us, api: 'https://api.cloudflare.com/client/v4' }"), "o.yaml"),
    ).not.toThrow();
    expect(refusal(BASE.replace("{ name: us }", "{ name: us, api_token_secret: CF_TOKEN }")).message).toContain(
      "targets[1].api_token_secret: a target on the local edge uses the edge's token",
    );
  });

  it("reports YAML syntax errors with the line", () => {
    const e = refusal("targets:\n  - { name: eu\nworkers: [");
    expect(e.message).toMatch(/^orchestrator\.yaml:\d+: /);
    const deep = refusal(BASE.replace("main: src/index.js", `main: src/index.js, vars: { X: ${"[".repeat(3000)}${"]".repeat(3000)} }`));
    expect(deep.message).toMatch(/^orchestrator\.yaml:\d+: values are nested too deeply here/);
  });

  it("refuses a cron trigger Cloudflare would refuse when the file is read, in orchestrator.yaml and in a wrangler config", () => {
    const e = refusal(BASE.replace("main: src/index.js", 'main: src/index.js, crons: ["*/5 * * * *", "0 12 * * MON#2", "* * * * * *"]'));
    expect(e.message).toContain('workers[0].crons[2]: not a cron expression Cloudflare takes: "* * * * * *" has 6 fields');
    expect(refusal(BASE.replace("main: src/index.js", 'main: src/index.js, crons: ["61 * * * *"]')).message).toContain(
      "workers[0].crons[0]",
    );
    const dir = mkdtempSync(join(tmpdir(), "cbo-spec-"));
    writeFileSync(join(dir, "w.jsonc"), '{ "name": "w", "main": "m.js", "triggers": { "crons": ["*/5 * * * *", "every day"] } }');
    writeFileSync(join(dir, "orchestrator.yaml"), "targets: [{ name: eu }]\nworkers:\n  - { name: w, wrangler: w.jsonc }\n");
    expect(() => loadSpec(join(dir, "orchestrator.yaml"))).toThrow(/triggers\.crons\[1\]: not a cron expression Cloudflare takes/);
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses a string var over 5 KiB of UTF-8 (Cloudflare refuses its upload), naming worker and var, never the value", () => {
    const dir = mkdtempSync(join(tmpdir(), "cbo-spec-"));
    const file = join(dir, "orchestrator.yaml");
    const refused = () => {
      try {
        loadSpec(file);
      } catch (e) {
        expect((e as CboError).code).toBe("ERR_VALIDATION");
        return e as CboError;
      }
      throw new Error("expected the spec to be refused");
    };
    // 2,561 "é": 2,561 characters but 5,122 bytes, as the edge counts.
    const big = "é".repeat(2561);
    writeFileSync(file, `targets: [{ name: eu }]\nworkers:\n  - { name: api, main: a.js, vars: { SMALL: x, BIG: "${big}" } }\n`);
    const e = refused();
    expect(e.message).toBe(
      `${file}: workers[0]: worker "api": var "BIG" is 5122 bytes; Cloudflare takes a var of at most 5120 bytes (5 KiB), so every upload of this worker would be refused.`,
    );
    expect(e.details).toEqual({ worker: "api", var: "BIG", bytes: 5122, limit: 5120 });
    expect(JSON.stringify({ m: e.message, d: e.details, h: e.hint })).not.toContain("éé");
    // Exactly 5 KiB is taken, and so is a JSON var of any size (a json binding, not plain_text).
    writeFileSync(
      file,
      `targets: [{ name: eu }]\nworkers:\n  - { name: api, main: a.js, vars: { EXACT: "${"é".repeat(2560)}", OBJ: { a: "${"y".repeat(6000)}" } } }\n`,
    );
    expect(loadSpec(file).workers[0]!.vars.EXACT).toHaveLength(2560);
    // From a wrangler file, in the environment a target releases; the file and env are named.
    writeFileSync(
      join(dir, "w.jsonc"),
      `{ "name": "w", "main": "m.js", "env": { "prod": { "vars": { "CERT": "${"z".repeat(5121)}" } } } }`,
    );
    writeFileSync(file, "targets: [{ name: eu }, { name: us }]\nworkers:\n  - { name: w, wrangler: w.jsonc, env: { us: prod } }\n");
    expect(refused().message).toContain(`worker "w": var "CERT" (from ${join(dir, "w.jsonc")}, env prod) is 5121 bytes;`);
    // orchestrator.yaml's value replaces the file's: fine when small, and named as its own when not.
    writeFileSync(
      file,
      "targets: [{ name: eu }, { name: us }]\nworkers:\n  - { name: w, wrangler: w.jsonc, env: { us: prod }, vars: { CERT: c } }\n",
    );
    expect(loadSpec(file).workers[0]!.sources!.us!.vars.CERT).toBe("c");
    writeFileSync(file, `targets: [{ name: eu }]\nworkers:\n  - { name: w, wrangler: w.jsonc, vars: { CERT: "${"c".repeat(5121)}" } }\n`);
    expect(refused().message).toContain(`workers[0]: worker "w": var "CERT" is 5121 bytes;`);
    rmSync(dir, { recursive: true, force: true });
  });

  it("reads workers from wrangler.toml and wrangler.jsonc", () => {
    const dir = mkdtempSync(join(tmpdir(), "cbo-spec-"));
    mkdirSync(join(dir, "w1"));
    writeFileSync(
      join(dir, "w1", "wrangler.toml"),
      'name = "w1"\nmain = "src/main.ts"\ncompatibility_date = "2025-03-01"\n[vars]\nA = "x"\n[[kv_namespaces]]\nbinding = "CACHE"\nid = "abc"\n[[services]]\nbinding = "UP"\nservice = "w2"\n',
    );
    writeFileSync(
      join(dir, "w2.jsonc"),
      '// comment\n{ "name": "w2", "main": "m.js", "vars": { "B": 2 }, "version_metadata": { "binding": "VM" }, }',
    );
    writeFileSync(
      join(dir, "orchestrator.yaml"),
      "targets: [{ name: eu }]\nworkers:\n  - { name: w1, wrangler: w1/wrangler.toml, vars: { A: y } }\n  - { name: w2, wrangler: w2.jsonc }\n",
    );
    const spec = loadSpec(join(dir, "orchestrator.yaml"));
    const [w1, w2] = spec.workers;
    expect(w1).toMatchObject({
      entry: join(dir, "w1", "src", "main.ts"),
      compatibilityDate: "2025-03-01",
      vars: { A: "y" },
      kv: { CACHE: "w1-cache" },
      services: { UP: "w2" },
    });
    expect(w2).toMatchObject({ entry: join(dir, "m.js"), vars: { B: "2" }, versionMetadata: "VM" });
  });

  it("gives each worker a project root: the directory of orchestrator.yaml, or a wrangler file's own directory outside it", () => {
    const top = mkdtempSync(join(tmpdir(), "cbo-root-"));
    const dir = join(top, "ops");
    mkdirSync(join(dir, "apps", "api"), { recursive: true });
    mkdirSync(join(top, "elsewhere"));
    writeFileSync(join(dir, "apps", "api", "wrangler.toml"), 'name = "api"\nmain = "src/index.ts"\n');
    writeFileSync(join(top, "elsewhere", "wrangler.toml"), 'name = "far"\nmain = "index.ts"\n');
    writeFileSync(
      join(dir, "orchestrator.yaml"),
      "targets: [{ name: eu }]\nworkers:\n  - { name: plain, main: plain/index.js }\n  - { name: api, wrangler: apps/api/wrangler.toml }\n  - { name: far, wrangler: ../elsewhere/wrangler.toml }\n",
    );
    const roots = Object.fromEntries(loadSpec(join(dir, "orchestrator.yaml")).workers.map((w) => [w.name, w.root]));
    expect(roots).toEqual({ plain: dir, api: dir, far: join(top, "elsewhere") });
  });

  it("refuses a value or key over 64 KiB, naming its path and the limit", () => {
    const big = "x".repeat(MAX_SPEC_VALUE_BYTES + 1);
    const e = refusal(BASE.replace("{ name: api, main: src/index.js }", `{ name: api, main: a.js, vars: { BIG: "${big}" } }`));
    expect(e.message).toBe(
      `orchestrator.yaml: workers[0].vars.BIG: the value is ${MAX_SPEC_VALUE_BYTES + 1} bytes; a value may be at most ${MAX_SPEC_VALUE_BYTES} bytes.`,
    );
    expect(e.details).toMatchObject({ path: "workers[0].vars.BIG", limit: MAX_SPEC_VALUE_BYTES });
    // Counted in UTF-8 bytes: 22,000 three-byte characters are over the limit.
    expect(refusal(BASE + `rollout: { gate: { probe_path: "/${"€".repeat(22_000)}" } }\n`).message).toContain(
      "rollout.gate.probe_path: the value is 66001 bytes",
    );
    expect(
      refusal(BASE.replace("{ name: api, main: src/index.js }", `{ name: api, main: a.js, vars: { ? "${big}" : 1 } }`)).message,
    ).toContain(`the key is ${MAX_SPEC_VALUE_BYTES + 1} bytes`);
    // Just under the limit is only the schema's business.
    expect(() =>
      parseSpec(
        BASE.replace("{ name: api, main: src/index.js }", `{ name: api, main: a.js, vars: { OK: "${"x".repeat(MAX_SPEC_VALUE_BYTES)}" } }`),
        "o.yaml",
      ),
    ).not.toThrow();
  });

  it("refuses a file over 1 MiB before reading it, naming the file and the limit", () => {
    const dir = mkdtempSync(join(tmpdir(), "cbo-spec-"));
    const file = join(dir, "orchestrator.yaml");
    // 50 MB of one value, as the attack had it; valid YAML otherwise.
    writeFileSync(file, BASE + "# " + "x".repeat(50 * 1024 * 1024) + "\n");
    let err: unknown;
    try {
      loadSpec(file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CboError);
    expect((err as CboError).code).toBe("ERR_VALIDATION");
    expect((err as CboError).message).toMatch(
      new RegExp(`^${file}: the file is \\d+ bytes; it may be at most ${MAX_SPEC_FILE_BYTES} bytes\\.$`),
    );
    expect(refusal(BASE + "# " + "x".repeat(MAX_SPEC_FILE_BYTES)).message).toContain(`it may be at most ${MAX_SPEC_FILE_BYTES} bytes`);
    // A wrangler config the spec names is held to the same limit.
    writeFileSync(join(dir, "w.jsonc"), `{ "name": "w", "main": "m.js", "vars": { "A": "${"y".repeat(MAX_SPEC_VALUE_BYTES + 1)}" } }`);
    writeFileSync(file, "targets: [{ name: eu }]\nworkers:\n  - { name: w, wrangler: w.jsonc }\n");
    expect(() => loadSpec(file)).toThrowError(/w\.jsonc: vars\.A: the value is 65537 bytes; a value may be at most 65536 bytes/);
  });

  it("refuses a device, a FIFO with no writer or a socket by name, at once (a FIFO's open hung; /dev/zero never ends), and names a directory", async () => {
    const notAFile = (f: string) => `${f} is not a regular file (a pipe, socket or device); it cannot be read again when it changes.`;
    expect(() => loadSpec("/dev/zero")).toThrowError(notAFile("/dev/zero"));
    const dir = mkdtempSync(join(tmpdir(), "cbo-spec-"));
    const fifo = join(dir, "fifo.yaml");
    execFileSync("mkfifo", [fifo]);
    expect(() => loadSpec(fifo)).toThrowError(expect.objectContaining({ code: "ERR_VALIDATION", message: notAFile(fifo) }));
    const sock = join(dir, "sock.yaml");
    const server = createServer();
    await new Promise<void>((done) => server.listen(sock, done));
    try {
      expect(() => loadSpec(sock)).toThrowError(notAFile(sock));
    } finally {
      server.close();
    }
    expect(() => loadSpec(dir)).toThrowError(`${dir} is a directory, not a file.`);
    // Its hint is about naming the file, not about sizes.
    expect(() => loadSpec(dir)).toThrowError(
      expect.objectContaining({ hint: "Name the file itself, e.g. orchestrator.yaml or wrangler.toml inside that directory." }),
    );
    // A wrangler config the spec names too.
    writeFileSync(join(dir, "orchestrator.yaml"), "targets: [{ name: eu }]\nworkers:\n  - { name: w, wrangler: fifo.yaml }\n");
    expect(() => loadSpec(join(dir, "orchestrator.yaml"))).toThrowError(notAFile(fifo));
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses an unpaired UTF-16 surrogate in a value or a key, naming its path", () => {
    const vars = refusal(BASE.replace("{ name: api, main: src/index.js }", '{ name: api, main: a.js, vars: { GREETING: "hi \\ud800" } }'));
    expect(vars.message).toBe(
      "orchestrator.yaml: workers[0].vars.GREETING: holds an unpaired UTF-16 surrogate (a lone \\ud800-\\udfff escape).",
    );
    expect(vars.details).toEqual({ path: "workers[0].vars.GREETING" });
    const config = refusal(
      BASE.replace("{ name: api, main: src/index.js }", '{ name: api, main: a.js, config: { values: { "k\\udc00": 1 } } }'),
    );
    expect(config.message).toContain("orchestrator.yaml: workers[0].config.values.k\ufffd: holds an unpaired UTF-16 surrogate");
    // A pair is one character, and fine.
    expect(() =>
      parseSpec(BASE.replace("{ name: api, main: src/index.js }", '{ name: api, main: a.js, vars: { E: "\\ud83d\\ude00" } }'), "o.yaml"),
    ).not.toThrow();
  });

  it("says which file is missing", () => {
    expect(() => loadSpec("/nonexistent/orchestrator.yaml")).toThrowError(/Cannot read \/nonexistent\/orchestrator\.yaml/);
  });
});
