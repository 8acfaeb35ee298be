import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { ResolvedSpec } from "../config/load.ts";
import { GateSchema } from "../config/schema.ts";
import { kitFacts, type KitFacts, type KitOptions } from "./facts.ts";
import { deploymentFiles } from "./plan.ts";
import { composeObject, renderCompose } from "./render-compose.ts";
import { renderDockerfile } from "./render-dockerfile.ts";
import { renderEcosystem } from "./render-ecosystem.ts";
import { renderEnvExample } from "./render-env.ts";
import { readSetupTemplate, renderSetup } from "./render-setup.ts";
import { renderDaemonUnit, renderEdgeUnit } from "./render-systemd.ts";

const LOCAL: ResolvedSpec["targets"] = [
  { name: "eu", api: "local", jurisdiction: "eu" },
  { name: "us", api: "local" },
];
const CLOUD: ResolvedSpec["targets"] = [
  { name: "eu", api: "https://api.cloudflare.com/client/v4", account_id: "b".repeat(32), jurisdiction: "eu" },
];

function facts(targets: ResolvedSpec["targets"], options: KitOptions = {}): KitFacts {
  const spec: ResolvedSpec = {
    tenant: "acme",
    file: "/srv/p/orchestrator.yaml",
    targets,
    workers: [
      {
        tenant: "acme",
        name: "api",
        entry: "/srv/p/api/index.ts",
        root: "/srv/p",
        compatibilityDate: "2025-01-01",
        compatibilityFlags: [],
        vars: {},
        kv: {},
        services: {},
        secrets: ["STRIPE_KEY"],
        agent: true,
        drift: "report",
        targets: targets.map((t) => t.name),
        waves: [targets.map((t) => t.name)],
        steps: [100],
        gate: GateSchema.parse({}),
      },
    ],
  };
  return kitFacts(spec, { name: "clawdbot-orchestrator", version: "0.1.0" }, options);
}

type App = {
  name: string;
  script: string;
  args: string[];
  exec_mode: string;
  instances: number;
  node_args: string[];
  out_file?: string;
  env: Record<string, string>;
  cwd: string;
  interpreter: string;
};

/** Evaluates the ecosystem file as PM2 does (CommonJS), with `env` as process.env. */
function ecosystem(f: KitFacts, env: Record<string, string> = {}): App[] {
  const module = { exports: {} as { apps: App[] } };
  runInNewContext(renderEcosystem(f), {
    module,
    exports: module.exports,
    require: (m: string) => (m === "node:path" ? { join: (...p: string[]) => p.join("/") } : undefined),
    process: { env },
    __dirname: "/kit",
  });
  return module.exports.apps;
}

describe("kit files", () => {
  it("PM2: one daemon in fork mode, secrets read by Node from the env file, paths overridable; the edge only for local targets", () => {
    const cloud = ecosystem(facts(CLOUD, { port: 9001 }));
    expect(cloud.map((a) => a.name)).toEqual(["cbo-daemon"]);
    const d = cloud[0]!;
    expect(d).toMatchObject({
      script: "/kit/bin/cbo.js",
      exec_mode: "fork",
      instances: 1,
      out_file: "/dev/null",
      cwd: "/kit",
      interpreter: "node",
    });
    expect(d.args).toEqual(["daemon", "--config", "/kit/config/orchestrator.yaml", "--data", "/var/lib/cbo", "--port", "9001"]);
    expect(d.node_args).toEqual(["--env-file-if-exists=/etc/cbo/cbo.env", "--max-semi-space-size=1"]);
    expect(d.env).toEqual({ NODE_ENV: "production", CBO_MASTER_KEY_FILE: "/etc/cbo/master.key" });

    const local = ecosystem(facts(LOCAL), {
      CBO_DATA_DIR: "/tmp/d",
      CBO_EDGE_DIR: "/tmp/e",
      CBO_PORT: "7000",
      CBO_MASTER_KEY_FILE: "/tmp/k",
      CBO_NODE: "/opt/node24/bin/node",
    });
    expect(local.map((a) => a.name)).toEqual(["cbo-edge", "cbo-daemon"]);
    expect(local[0]!.args).toEqual(["edge", "--data", "/tmp/e", "--port", "8780", "--regions", "eu,us"]);
    expect(local[1]!.args).toEqual([
      "daemon",
      "--config",
      "/kit/config/orchestrator.yaml",
      "--data",
      "/tmp/d",
      "--port",
      "7000",
      "--edge",
      "/tmp/e",
    ]);
    expect(local[1]!).toMatchObject({ interpreter: "/opt/node24/bin/node", env: { CBO_MASTER_KEY_FILE: "/tmp/k" } });
  });

  it("Compose: no published port, cloudflared in the daemon's (or edge's) network namespace, token as a secret file", () => {
    for (const [targets, owner] of [
      [CLOUD, "orchestrator"],
      [LOCAL, "edge"],
    ] as const) {
      const c = composeObject(facts(targets)) as {
        services: Record<string, Record<string, unknown>>;
        secrets: Record<string, { file: string }>;
      };
      for (const s of Object.values(c.services)) expect(s.ports).toBeUndefined();
      expect(c.services.cloudflared).toMatchObject({
        network_mode: `service:${owner}`,
        secrets: ["tunnel_token"],
        command: ["tunnel", "run", "--token-file", "/run/secrets/tunnel_token"],
        profiles: ["tunnel"],
      });
      expect(c.secrets.tunnel_token.file).toBe("/etc/cbo/tunnel-token");
      expect(c.services.orchestrator!.environment).toEqual({ CBO_MASTER_KEY_FILE: "/etc/cbo/master.key", CBO_CLOUDFLARED: "off" });
      expect(Object.keys(c.services)).toEqual(
        targets === LOCAL ? ["edge", "orchestrator", "cloudflared"] : ["orchestrator", "cloudflared"],
      );
    }
    // A configured tunnel starts with the stack; the YAML reads back as the same object.
    const f = facts(CLOUD, { tunnelHostname: "cbo.example.com" });
    expect((composeObject(f) as { services: { cloudflared: { profiles?: unknown } } }).services.cloudflared.profiles).toBeUndefined();
    const text = renderCompose(f);
    expect(parse(text)).toEqual(composeObject(f));
    expect(text).not.toMatch(/[&*]a\d/); // no YAML anchors
    expect(text).toContain("Cloudflare Tunnel for cbo.example.com");
  });

  it("Dockerfile: Node 24 slim, npm ci in the builder, non-root runtime with a health check on /v1/health", () => {
    const d = renderDockerfile(facts(CLOUD, { port: 8123 }));
    expect(d.match(/^FROM \$\{NODE_IMAGE\} AS \w+$/gm)).toEqual([`FROM \${NODE_IMAGE} AS builder`, `FROM \${NODE_IMAGE} AS runtime`]);
    expect(d).toContain("ARG NODE_IMAGE=node:24-slim");
    expect(d).toMatch(/RUN npm ci --omit=dev/);
    expect(d.indexOf("USER node")).toBeGreaterThan(d.indexOf(`FROM \${NODE_IMAGE} AS runtime`));
    expect(d).toMatch(/HEALTHCHECK .*\n.*\/v1\/health/);
    expect(JSON.parse(/^ENTRYPOINT (.*)$/m.exec(d)![1]!)).toEqual(["node", "--max-semi-space-size=1", "/app/bin/cbo.js"]);
    const cmd = JSON.parse(/^CMD (.*)$/m.exec(d)![1]!) as string[];
    expect(cmd).toEqual(["daemon", "--config", "/app/config/orchestrator.yaml", "--data", "/var/lib/cbo", "--port", "8123"]);
    // The compile cache is filled at build time, as the node user, with the entrypoint's own flags
    // (Node keeps one cache per set of flags): a new container starts warm.
    expect(d).toMatch(/^ {4}NODE_COMPILE_CACHE=\/app\/\.compile-cache$/m);
    expect(d).toMatch(/^RUN install -d -o node -g node -m 0700 .* \/app\/\.compile-cache$/m);
    const warm = /^RUN (\[.*warm-compile-cache\.js"\])$/m.exec(d);
    expect(JSON.parse(warm![1]!)).toEqual(["node", "--max-semi-space-size=1", "/app/bin/warm-compile-cache.js"]);
    expect(d.indexOf(warm![0])).toBeGreaterThan(d.indexOf("USER node"));
  });

  it("systemd: sandboxed, writes only the data and key directories, secrets from the environment file", () => {
    const unit = renderDaemonUnit(facts(LOCAL, { dataDir: "/srv/data" }));
    for (const line of [
      "NoNewPrivileges=true",
      "ProtectSystem=strict",
      "ReadWritePaths=/srv/data /etc/cbo",
      "User=cbo",
      "EnvironmentFile=-/etc/cbo/cbo.env",
      "Requires=cbo-edge.service",
      "PrivateTmp=true",
      "CapabilityBoundingSet=",
    ]) {
      expect(unit.split("\n")).toContain(line);
    }
    expect(unit).toContain(
      "ExecStart=/usr/bin/env node --max-semi-space-size=1 /opt/cbo/bin/cbo.js daemon --config /opt/cbo/config/orchestrator.yaml --data /srv/data --port 8700 --edge /srv/data/edge",
    );
    for (const u of [unit, renderEdgeUnit(facts(LOCAL))])
      expect(u.split("\n")).toEqual(expect.arrayContaining(["CacheDirectory=cbo", "Environment=NODE_COMPILE_CACHE=/var/cache/cbo"]));
    expect(unit).not.toMatch(/^MemoryDenyWriteExecute/m); // V8's JIT needs it off
    expect(renderEdgeUnit(facts(LOCAL)).split("\n")).toContain("ReadWritePaths=/var/lib/cbo");
    expect(renderDaemonUnit(facts(CLOUD))).not.toContain("cbo-edge");
  });

  it("setup-vps.sh and .env.example: every placeholder filled, no secret value", () => {
    const f = facts(CLOUD);
    const sh = renderSetup(f, readSetupTemplate());
    expect(sh).not.toContain("@@");
    expect(sh).toContain("INSTALL_DIR=/opt/cbo\n");
    expect(() => renderSetup(f, "echo @@NOPE@@")).toThrow(/unknown value/);
    const env = renderEnvExample(f);
    const assignments = env.split("\n").filter((l) => /^[A-Z_]+=/.test(l));
    expect(assignments.map((l) => l.split("=")[0])).toEqual(["CBO_MASTER_KEY_FILE", "CLOUDFLARE_API_TOKEN", "TUNNEL_TOKEN_FILE"]);
    // Values are empty or paths: names only.
    for (const l of assignments) expect(l).toMatch(/^[A-Z_]+=(\/[A-Za-z0-9._/-]+)?$/);
    expect(env).toContain("Required for the Cloudflare targets eu");
  });

  it("the README walks the customer through copy, setup, start (PM2, systemd, Compose), verify, and keeping the master key", () => {
    const files = deploymentFiles(facts(LOCAL, { tunnelHostname: "cbo.example.com" }), {
      setupTemplate: readSetupTemplate(),
      specText: "version: 1\n",
      generatedAt: "2026-01-01",
      productPaths: ["src/a.ts"],
    });
    const readme = new TextDecoder().decode(files.find((x) => x.path === "README.md")!.data);
    for (const s of [
      "scp ",
      "sudo ./setup-vps.sh --mode systemd",
      "pm2 start /opt/cbo/ecosystem.config.cjs",
      "systemctl enable --now cbo-edge.service cbo-daemon.service",
      "docker compose up -d --build",
      "bin/cbo.js status --data /var/lib/cbo",
      "apart from the backups",
      "`cbo.example.com`",
      "| api | `api/index.ts` | eu, us | STRIPE_KEY |",
    ]) {
      expect(readme).toContain(s);
    }
    expect(files.map((x) => x.path)).toEqual([
      "README.md",
      "Dockerfile",
      ".dockerignore",
      "compose.yaml",
      "ecosystem.config.cjs",
      "systemd/cbo-daemon.service",
      "systemd/cbo-edge.service",
      "setup-vps.sh",
      ".env.example",
      "config/orchestrator.yaml",
    ]);
    expect(files.find((x) => x.path === "setup-vps.sh")!.mode).toBe(0o755);
  });
});
