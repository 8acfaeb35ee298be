// The kit's files, checked by the tools that judge them: GNU tar unpacks the archive, compose.yaml
// validates against the Compose Specification's JSON schema (vendored in test/fixtures, see
// compose-spec.source.json), setup-vps.sh passes `bash -n` and shellcheck, and the systemd units
// pass `systemd-analyze verify`. Two configurations: the bundled example (local edge, three regions)
// with a tunnel, and a Cloudflare-only spec without one. The tools are Debian's, at the paths of
// scripts/test-tools.ts, which `npm test` makes sure of before any test runs.
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Ajv } from "ajv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { TEST_TOOLS } from "../scripts/test-tools.ts";
import { loadSpec } from "../src/config/load.ts";
import { buildKit, type Kit } from "../src/packaging/index.ts";
import { makeTempDir } from "./support/edge.ts";

const run = promisify(execFile);
const EXAMPLE = fileURLToPath(new URL("../examples/orchestrator.yaml", import.meta.url));
const SCHEMA = JSON.parse(readFileSync(fileURLToPath(new URL("./fixtures/compose-spec.json", import.meta.url)), "utf8")) as object;
const KIT = "clawdbot-orchestrator-kit";

/** Runs a tool and returns its exit code and output instead of throwing on a non-zero exit. */
async function tool(cmd: string, args: string[], cwd?: string): Promise<{ code: number; out: string }> {
  try {
    const r = await run(cmd, args, { cwd, timeout: 60_000 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === "number" ? err.code : -1, out: `${err.stdout ?? ""}${err.stderr ?? ""}` };
  }
}

describe("the kit's files", () => {
  let tmp: string;
  const kits: Record<string, { kit: Kit; dir: string }> = {};
  // The schema's $schema is https://json-schema.org/draft-07/schema, which Ajv's draft-07 meta
  // schema is not registered under; the spec's own loose typing (union types, untyped object
  // keywords) is valid JSON Schema that Ajv's strictTypes would only warn about.
  const validate = new Ajv({ allErrors: true, strictTypes: false, validateSchema: false }).compile(SCHEMA);

  beforeAll(async () => {
    tmp = await makeTempDir("kit-files");
    const cloud = join(tmp, "cloud", "orchestrator.yaml");
    mkdirSync(join(tmp, "cloud"));
    writeFileSync(
      cloud,
      `version: 1\ntargets:\n  - { name: eu, api: "https://api.cloudflare.com/client/v4", account_id: ${"c".repeat(32)}, jurisdiction: eu }\n  - { name: us, api: "https://api.cloudflare.com/client/v4", account_id: ${"d".repeat(32)} }\nworkers:\n  - name: api\n    main: api/index.ts\n`,
    );
    // The operator's project: the Worker's source, its dependencies (left to npm ci), a lockfile,
    // and files that hold secrets by convention (never carried).
    mkdirSync(join(tmp, "cloud", "api", "node_modules", "dep"), { recursive: true });
    writeFileSync(join(tmp, "cloud", "api", "index.ts"), "export default { fetch: () => new Response('api') };\n");
    writeFileSync(join(tmp, "cloud", "api", "node_modules", "dep", "index.js"), "module.exports = 1;\n");
    writeFileSync(join(tmp, "cloud", "package.json"), '{"name":"api-project","private":true}\n');
    writeFileSync(join(tmp, "cloud", "package-lock.json"), '{"name":"api-project","lockfileVersion":3,"packages":{}}\n');
    writeFileSync(join(tmp, "cloud", "api", ".dev.vars"), "STRIPE_KEY=sk_live_planted\n");
    writeFileSync(join(tmp, "cloud", ".env"), "CLOUDFLARE_API_TOKEN=planted\n");
    mkdirSync(join(tmp, "cloud", ".cbo"));
    writeFileSync(join(tmp, "cloud", ".cbo", "master.key"), "planted\n");
    const configs = {
      local: { spec: EXAMPLE, options: { tunnelHostname: "cbo.example.com" } },
      cloud: { spec: cloud, options: { port: 9100, dataDir: "/srv/cbo" } },
    };
    for (const [name, c] of Object.entries(configs)) {
      const kit = buildKit({ spec: loadSpec(c.spec), options: c.options });
      const dir = join(tmp, `x-${name}`);
      mkdirSync(dir);
      writeFileSync(join(tmp, `${name}.tar.gz`), kit.bytes);
      await run(TEST_TOOLS.tar.path, ["-xzf", join(tmp, `${name}.tar.gz`), "-C", dir]);
      kits[name] = { kit, dir: join(dir, KIT) };
    }
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it("unpacks with GNU tar into one directory: the deployment files and the product, no tests, no modules, no local state", () => {
    for (const { kit, dir } of Object.values(kits)) {
      const files = readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
        .sort();
      expect(files).toEqual(kit.files.map((f) => f.path).sort());
      for (const f of [
        "README.md",
        "Dockerfile",
        ".dockerignore",
        "compose.yaml",
        "ecosystem.config.cjs",
        "systemd/cbo-daemon.service",
        "setup-vps.sh",
        ".env.example",
        "config/orchestrator.yaml",
        "package.json",
        "package-lock.json",
        "bin/cbo.js",
        "src/cli/main.ts",
      ]) {
        expect(files, f).toContain(f);
      }
      expect(files.filter((f) => /\.test\.ts$|(^|\/)node_modules\/|(^|\/)\.cbo\/|^test\/|\.sqlite$|\.key$/.test(f))).toEqual([]);
      expect(statSync(join(dir, "setup-vps.sh")).mode & 0o777).toBe(0o755);
      expect(statSync(join(dir, "bin/cbo.js")).mode & 0o777).toBe(0o755);
      expect(statSync(join(dir, "compose.yaml")).mode & 0o777).toBe(0o644);
    }
    // The Worker projects the spec names come along (the example's, an operator's), without
    // dependencies, local state or the files that hold secrets by convention; the README says which.
    for (const f of [
      "ads-api/wrangler.jsonc",
      "ads-api/src/index.ts",
      "ads-api/migrations/0001_sites.sql",
      "ads-api/public/snippet.js",
      "ads-conversions/wrangler.jsonc",
    ])
      expect(existsSync(join(kits.local!.dir, "config", f)), f).toBe(true);
    const carried = readdirSync(join(kits.cloud!.dir, "config"), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name).slice(join(kits.cloud!.dir, "config").length + 1))
      .sort();
    expect(carried).toEqual(["api/index.ts", "orchestrator.yaml", "package-lock.json", "package.json"]);
    expect(readFileSync(join(kits.cloud!.dir, "README.md"), "utf8")).toContain("this kit left out `.env`, `api/.dev.vars`");
  });

  it("compose.yaml validates against the Compose Specification schema (and a broken one does not)", () => {
    for (const [name, { dir }] of Object.entries(kits)) {
      const doc = parse(readFileSync(join(dir, "compose.yaml"), "utf8")) as { services: Record<string, Record<string, unknown>> };
      expect(validate(doc), `${name}: ${JSON.stringify(validate.errors?.slice(0, 3))}`).toBe(true);
      expect(Object.keys(doc.services)).toEqual(
        name === "local" ? ["edge", "orchestrator", "cloudflared"] : ["orchestrator", "cloudflared"],
      );
      // The validator does judge: a misspelt key and a wrong depends_on condition are refused.
      const broken = structuredClone(doc);
      broken.services.orchestrator!.restart_policy = "always";
      expect(validate(broken)).toBe(false);
      const wrong = structuredClone(doc);
      (wrong.services.cloudflared!.depends_on as Record<string, { condition: string }>).orchestrator!.condition = "service_ready";
      expect(validate(wrong)).toBe(false);
    }
    const local = parse(readFileSync(join(kits.local!.dir, "compose.yaml"), "utf8")) as {
      services: Record<string, { profiles?: string[] }>;
    };
    expect(local.services.cloudflared!.profiles).toBeUndefined(); // a tunnel is configured: it starts with the stack
  });

  it("setup-vps.sh passes bash -n and shellcheck, and checks its arguments before touching anything", async () => {
    for (const { dir } of Object.values(kits)) {
      const script = join(dir, "setup-vps.sh");
      expect(await tool(TEST_TOOLS.bash.path, ["-n", script])).toEqual({ code: 0, out: "" });
      const sc = await tool(TEST_TOOLS.shellcheck.path, ["--severity=style", script]);
      expect(sc.out).toBe("");
      expect(sc.code).toBe(0);
      const help = await tool(TEST_TOOLS.bash.path, [script, "--help"]);
      expect(help.code).toBe(0);
      expect(help.out).toContain("sudo ./setup-vps.sh [--mode systemd|pm2|compose]");
      const bad = await tool(TEST_TOOLS.bash.path, [script, "--mode", "kubernetes"]);
      expect(bad.code).toBe(1);
      expect(bad.out).toContain("--mode must be systemd, pm2 or compose");
    }
    // Tailored: the cloud kit's script installs to its data directory.
    expect(readFileSync(join(kits.cloud!.dir, "setup-vps.sh"), "utf8")).toContain("DATA_DIR=/srv/cbo\n");
  });

  it("the systemd units pass systemd-analyze verify", async () => {
    for (const [name, { dir }] of Object.entries(kits)) {
      const names = readdirSync(join(dir, "systemd"));
      expect(names.length).toBe(name === "local" ? 2 : 1);
      // systemd-analyze checks that ExecStart's program exists. The units run `node` from
      // systemd's PATH through /usr/bin/env (no Node path is guessed: setup-vps.sh pins the one
      // `command -v node` finds); the copies verified are as the setup script installs them, with
      // the Node running this test.
      const verified = join(tmp, `systemd-verified-${name}`);
      mkdirSync(verified, { recursive: true });
      const units = names.map((u) => {
        const text = readFileSync(join(dir, "systemd", u), "utf8");
        expect(text, u).not.toContain("/usr/bin/node");
        expect(text, u).toMatch(/^ExecStart=\/usr\/bin\/env node --max-semi-space-size=1 \/opt\/cbo\/bin\/cbo\.js /m);
        writeFileSync(join(verified, u), text.replace("ExecStart=/usr/bin/env node ", `ExecStart=${process.execPath} `));
        return join(verified, u);
      });
      // The edge's port is not written into its command line: an environment value the env file can move.
      if (name === "local") expect(readFileSync(join(dir, "systemd", "cbo-edge.service"), "utf8")).toMatch(/--port \$\{CBO_EDGE_PORT\}/);
      const r = await tool(TEST_TOOLS.systemdAnalyze.path, ["verify", ...units]);
      expect(r, name).toEqual({ code: 0, out: "" });
      // It does judge: a unit whose program does not exist is refused.
      writeFileSync(
        join(verified, "broken.service"),
        readFileSync(units[0]!, "utf8").replace(`ExecStart=${process.execPath} `, "ExecStart=/nonexistent/node "),
      );
      expect((await tool(TEST_TOOLS.systemdAnalyze.path, ["verify", join(verified, "broken.service")])).code).not.toBe(0);
    }
  });

  it("the ecosystem file loads in Node as PM2 loads it", async () => {
    for (const [name, { dir }] of Object.entries(kits)) {
      const r = await run(
        process.execPath,
        [
          "-e",
          `process.stdout.write(JSON.stringify(require(${JSON.stringify(join(dir, "ecosystem.config.cjs"))}).apps.map(a => [a.name, a.args.join(" ")])))`,
        ],
        { env: { PATH: process.env.PATH ?? "" } },
      );
      const apps = JSON.parse(r.stdout) as Array<[string, string]>;
      expect(apps.map((a) => a[0])).toEqual(name === "local" ? ["cbo-edge", "cbo-daemon"] : ["cbo-daemon"]);
      expect(apps.at(-1)![1]).toBe(
        name === "local"
          ? `daemon --config ${dir}/config/orchestrator.yaml --data /var/lib/cbo --port 8700 --edge /var/lib/cbo/edge`
          : `daemon --config ${dir}/config/orchestrator.yaml --data /srv/cbo --port 9100`,
      );
    }
  });
});
