// Issue 13's kit acceptance: a kit built by the real `cbo kit` from a spec whose Workers are
// wrangler projects (D1 with migrations, KV, static assets, a queue producer and its consumer),
// unpacked with GNU tar into an empty directory and started with PM2 exactly as its README says
// (`pm2 start ecosystem.config.cjs`: the local edge and the daemon), then released with the
// commands of the README's first-run section. Each Worker then answers in every region from the
// sources the kit carried; a `.dev.vars` beside them stayed behind.
//
// Stand-ins, said plainly: the install directory is the unpacked kit in a temp dir rather than
// /opt/cbo, its node_modules is a symlink to this checkout's (what setup-vps.sh's `npm ci` installs),
// and the master key and env file are made here as setup-vps.sh makes them.
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_TOOLS } from "../scripts/test-tools.ts";
import { generateKeyFile } from "../src/vault/index.ts";
import { makeTempDir } from "./support/edge.ts";
import { eventually, httpGet } from "./support/http.ts";
import { cboEnv, runCbo } from "./support/run-cbo.ts";
import { freePort } from "./support/daemon-process.ts";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const PM2 = join(ROOT, "node_modules", ".bin", "pm2");
const PLANTED = `planted-${crypto.randomUUID()}`;

const API = `export default {
  async fetch(req, env) {
    const url = new URL(req.url);
    if (url.pathname === "/health") return new Response("ok");
    if (url.pathname === "/site") return Response.json(await env.DB.prepare("SELECT name FROM sites").first());
    if (url.pathname === "/track") { await env.EVENTS.send({ at: url.searchParams.get("id") }); return new Response("queued"); }
    if (url.pathname === "/events") return Response.json((await env.DB.prepare("SELECT id FROM events ORDER BY id").all()).results.map((r) => r.id));
    return new Response("api fallback", { status: 404 });
  },
};
`;
const SINK = `export default {
  fetch() { return new Response("sink"); },
  async queue(batch, env) {
    for (const m of batch.messages) { await env.DB.prepare("INSERT INTO events (id) VALUES (?)").bind(m.body.at).run(); m.ack(); }
  },
};
`;

describe("a kit of wrangler projects, started with PM2 as its README says, releases them", () => {
  let tmp: string;
  let kitDir: string;
  let data: string;
  let etc: string;
  let pm2Home: string;

  const pm2 = (args: string[]) =>
    run(PM2, args, {
      cwd: kitDir,
      env: cboEnv({
        PM2_HOME: pm2Home,
        PATH: `${dirname(process.execPath)}:${process.env.PATH}`,
        CBO_NODE: process.execPath,
        CBO_EDGE_PORT: "0",
      }),
      timeout: 60_000,
    });
  /** PM2's logs of both apps, for a failure's message (they hold no secret: the daemon's stdout goes to /dev/null). */
  const pm2Logs = () =>
    existsSync(join(pm2Home, "logs"))
      ? readdirSync(join(pm2Home, "logs"))
          .map((f) => `--- ${f}\n${readFileSync(join(pm2Home, "logs", f), "utf8").slice(-3000)}`)
          .join("\n")
      : "no PM2 logs";
  const edgeInfo = () =>
    JSON.parse(readFileSync(join(data, "edge", "edge.json"), "utf8")) as { regions: Array<{ name: string; publicUrl: string }> };
  const regionPort = (name: string) => Number(new URL(edgeInfo().regions.find((r) => r.name === name)!.publicUrl).port);

  beforeAll(async () => {
    tmp = await makeTempDir("kit-wrangler");
    data = join(tmp, "data");
    etc = join(tmp, "etc");
    pm2Home = join(tmp, "pm2");
    mkdirSync(etc, { mode: 0o700 });
    // The operator's project: orchestrator.yaml naming two wrangler projects.
    const project = join(tmp, "project");
    const put = (rel: string, text: string) => {
      mkdirSync(dirname(join(project, rel)), { recursive: true });
      writeFileSync(join(project, rel), text);
    };
    put(
      "orchestrator.yaml",
      [
        "targets:",
        "  - { name: eu, api: local, jurisdiction: eu }",
        "  - { name: us, api: local }",
        "rollout:",
        "  steps: [50, 100]",
        "  gate: { probe_path: /health, interval_ms: 50, bake_ms: 200, min_samples: 2 }",
        "workers:",
        "  - wrangler: api/wrangler.jsonc",
        "  - wrangler: sink/wrangler.toml",
        "",
      ].join("\n"),
    );
    put(
      "api/wrangler.jsonc",
      JSON.stringify({
        name: "api",
        main: "src/index.js",
        compatibility_date: "2025-01-01",
        d1_databases: [{ binding: "DB", database_name: "sites", database_id: "11111111-1111-1111-1111-111111111111" }],
        queues: { producers: [{ binding: "EVENTS", queue: "events" }] },
        assets: { directory: "public", run_worker_first: ["/site", "/track", "/events", "/health"] },
      }),
    );
    put("api/src/index.js", API);
    put("api/public/snippet.js", "window.track = true;");
    put(
      "api/migrations/0001_init.sql",
      "CREATE TABLE sites (name TEXT);\nINSERT INTO sites VALUES ('acme');\nCREATE TABLE events (id TEXT);\n",
    );
    put("api/.dev.vars", `STRIPE_KEY=${PLANTED}\n`);
    put(
      "sink/wrangler.toml",
      [
        'name = "sink"',
        'main = "index.js"',
        'compatibility_date = "2025-01-01"',
        "",
        "[[d1_databases]]",
        'binding = "DB"',
        'database_name = "sites"',
        "",
        "[[queues.consumers]]",
        'queue = "events"',
        "max_batch_size = 1",
        "max_batch_timeout = 1",
        "",
      ].join("\n"),
    );
    put("sink/index.js", SINK);

    const port = await freePort();
    const built = await runCbo(
      [
        "kit",
        "--config",
        join(project, "orchestrator.yaml"),
        "--out",
        join(tmp, "kit.tar.gz"),
        "--port",
        String(port),
        "--data-dir",
        data,
        "--etc-dir",
        etc,
        "--json",
      ],
      { cwd: tmp },
    );
    expect(built.code, built.stderr).toBe(0);
    // An empty directory, the kit unpacked into it.
    const empty = join(tmp, "vps");
    mkdirSync(empty);
    await run(TEST_TOOLS.tar.path, ["-xzf", join(tmp, "kit.tar.gz"), "-C", empty]);
    kitDir = join(empty, "clawdbot-orchestrator-kit");
    symlinkSync(join(ROOT, "node_modules"), join(kitDir, "node_modules"));
    generateKeyFile(join(etc, "master.key"));
    writeFileSync(join(etc, "cbo.env"), "CBO_CLOUDFLARED=off\n", { mode: 0o600 });
  });

  afterAll(async () => {
    if (pm2Home) await pm2(["kill"]).catch(() => {});
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it("carries every project file the spec references, and none of its secrets", () => {
    const carried = readdirSync(join(kitDir, "config"), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name).slice(join(kitDir, "config").length + 1))
      .sort();
    expect(carried).toEqual([
      "api/migrations/0001_init.sql",
      "api/public/snippet.js",
      "api/src/index.js",
      "api/wrangler.jsonc",
      "orchestrator.yaml",
      "sink/index.js",
      "sink/wrangler.toml",
    ]);
    const readme = readFileSync(join(kitDir, "README.md"), "utf8");
    expect(readme).toContain("this kit left out `api/.dev.vars`");
    expect(readme).toContain("## First run: secrets, the first release, config");
    expect(readme).toContain(`bin/cbo.js release api --data ${data}`);
    expect(readme).toContain(`bin/cbo.js release sink --data ${data}`);
    for (const f of readdirSync(kitDir, { recursive: true, withFileTypes: true }).filter(
      (e) => e.isFile() && !e.parentPath.includes("node_modules"),
    ))
      expect(readFileSync(join(f.parentPath, f.name)).includes(PLANTED), join(f.parentPath, f.name)).toBe(false);
  });

  it("`pm2 start ecosystem.config.cjs` runs the edge and the daemon; the README's release commands release the Workers", {
    timeout: 240_000,
  }, async () => {
    const readme = readFileSync(join(kitDir, "README.md"), "utf8");
    expect(readme).toContain("pm2 start /opt/cbo/ecosystem.config.cjs");
    await pm2(["start", "ecosystem.config.cjs"]);
    await eventually(
      async () =>
        expect(
          existsSync(join(data, "daemon.json")),
          pm2Logs() +
            JSON.stringify(
              (JSON.parse((await pm2(["jlist"])).stdout) as Array<{ name: string; pm2_env: Record<string, unknown> }>).map((a) => [
                a.name,
                a.pm2_env.status,
                a.pm2_env.restart_time,
                a.pm2_env.unstable_restarts,
                a.pm2_env.exit_code,
              ]),
            ),
        ).toBe(true),
      90_000,
      250,
    );
    await eventually(async () => expect((await runCbo(["status", "--data", data, "--json"])).code).toBe(0), 90_000, 500);
    // The first-run section, as written (the install directory is the kit's here).
    const releases = [...readme.matchAll(/bin\/cbo\.js (release \S+) --data/g)].map((m) => m[1]!.split(" "));
    expect(releases).toEqual([
      ["release", "api"],
      ["release", "sink"],
    ]);
    for (const args of releases) {
      const r = await runCbo([...args, "--data", data], { timeoutMs: 180_000 });
      expect(r.code, r.stdout + r.stderr).toBe(0);
    }
    for (const region of ["eu", "us"]) {
      const get = (path: string) => httpGet(regionPort(region), "api.localhost", { path });
      expect((await get("/site")).body, region).toBe('{"name":"acme"}');
      expect((await get("/snippet.js")).body).toBe("window.track = true;");
      expect((await get("/track?id=e1")).body).toBe("queued");
      await eventually(async () => expect((await get("/events")).body).toBe('["e1"]'), 20_000, 200);
    }
  });
});
