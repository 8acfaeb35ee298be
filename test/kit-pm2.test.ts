// The deployment kit, run for real: `cbo kit` (the real binary) builds a kit for a one-region spec,
// GNU tar unpacks it into a stand-in install directory, and PM2 (node_modules/.bin/pm2, its own
// PM2_HOME in a temp dir) starts the daemon from the kit's ecosystem.config.cjs against a real local
// edge. `cbo status` answers through it; `pm2 restart` brings it back under a new pid; `pm2 stop` and
// `pm2 delete` stop it. On the way, secrets are planted in the vault and a Cloudflare token in the
// daemon's environment file, and every file of the kits the daemon builds (GET /v1/kit and
// `cbo kit` through it) is scanned for them.
//
// Stand-ins, said plainly: the install directory is a temp dir rather than /opt/cbo, and its
// node_modules is a symlink to this checkout's (what `npm ci --omit=dev` in setup-vps.sh installs).
import { execFile } from "node:child_process";
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_TOOLS } from "../scripts/test-tools.ts";
import { generateKeyFile } from "../src/vault/index.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { cboEnv, runCbo } from "./support/run-cbo.ts";
import { freePort } from "./support/daemon-process.ts";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const PM2 = join(ROOT, "node_modules", ".bin", "pm2");
const KIT_DIR_NAME = "clawdbot-orchestrator-kit";
const PLANTED = Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`KIT_PLANTED_${i}`, `kit-planted-${i}-${crypto.randomUUID()}`]));
const PLANTED_CF_TOKEN = `cf-planted-${crypto.randomUUID().replace(/-/g, "")}`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await sleep(200);
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Every file under `dir`, recursively, with its bytes. */
function filesUnder(dir: string): Array<{ path: string; data: Buffer }> {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => ({ path: join(e.parentPath, e.name), data: readFileSync(join(e.parentPath, e.name)) }));
}

/** A secret as it could appear in a file (raw, base64, base64url, hex), labelled: reports never print a value. */
function forms(label: string, value: string): Array<{ label: string; value: string }> {
  const b = Buffer.from(value);
  return [
    ["raw", value],
    ["base64", b.toString("base64")],
    ["base64url", b.toString("base64url")],
    ["hex", b.toString("hex")],
  ].map(([form, v]) => ({ label: `${label} (${form})`, value: v! }));
}

/** Which needles occur in which files, as "file: label". */
function scan(files: Array<{ path: string; data: Buffer }>, needles: Array<{ label: string; value: string }>): string[] {
  return files.flatMap((f) => {
    const text = f.data.toString("latin1");
    return needles.filter((n) => text.includes(n.value)).map((n) => `${f.path}: ${n.label}`);
  });
}

describe("the deployment kit under PM2", () => {
  let tmp: string;
  let t: TestEdge;
  let kitDir: string;
  let data: string;
  let etc: string;
  let pm2Home: string;
  let port: number;
  const pids: number[] = [];

  const pm2 = async (args: string[]) => {
    const env = cboEnv({
      PM2_HOME: pm2Home,
      PATH: `${dirname(process.execPath)}:${process.env.PATH}`,
      CBO_EDGE_DIR: t.dataDir,
      CBO_NODE: process.execPath,
    });
    return run(PM2, args, { cwd: kitDir, env, timeout: 60_000 });
  };
  const jlist = async () =>
    JSON.parse((await pm2(["jlist"])).stdout) as Array<{ name: string; pid: number; pm2_env: { status: string; restart_time: number } }>;
  const daemonFile = () => JSON.parse(readFileSync(join(data, "daemon.json"), "utf8")) as { url: string; pid: number };
  const adminToken = () => readFileSync(join(data, "admin-token"), "utf8").trim();
  const health = async (url: string) =>
    (await fetch(`${url}/v1/health`, { signal: AbortSignal.timeout(2_000) })).json() as Promise<{
      ok: boolean;
      tunnel?: { process: string };
    }>;
  /** The daemon PM2 runs now: daemon.json written by a live process other than `not`, answering /v1/health. */
  const serving = (not?: number) =>
    waitFor("the daemon to serve", async () => {
      const d = daemonFile();
      if (d.pid === not || !alive(d.pid)) return undefined;
      return (await health(d.url)).ok ? d : undefined;
    });

  beforeAll(async () => {
    tmp = await makeTempDir("kit-pm2");
    t = await startTestEdge({ regions: ["eu"] });
    data = join(tmp, "data");
    etc = join(tmp, "etc");
    pm2Home = join(tmp, "pm2");
    mkdirSync(etc, { mode: 0o700 });
    port = await freePort();
    // The operator's project: a spec and the Worker source it names.
    const project = join(tmp, "project");
    mkdirSync(join(project, "hello"), { recursive: true });
    writeFileSync(
      join(project, "orchestrator.yaml"),
      `version: 1\ntargets:\n  - { name: eu, api: local, jurisdiction: eu }\nworkers:\n  - name: hello\n    main: hello/index.js\n    compatibility_date: "2025-01-01"\n`,
    );
    writeFileSync(join(project, "hello", "index.js"), `export default { fetch: () => new Response("hello") };\n`);
    // The kit, built by the real CLI with no daemon running (from the spec file), for this VPS layout.
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
    expect(JSON.parse(built.stdout)).toMatchObject({ audited: false, source: join(project, "orchestrator.yaml") });
    await run(TEST_TOOLS.tar.path, ["-xzf", join(tmp, "kit.tar.gz"), "-C", tmp]);
    kitDir = join(tmp, KIT_DIR_NAME);
    // The kit carries the Worker's source beside its orchestrator.yaml.
    expect(readFileSync(join(kitDir, "config", "hello", "index.js"), "utf8")).toBe(
      readFileSync(join(project, "hello", "index.js"), "utf8"),
    );
    // What setup-vps.sh does on a VPS, in miniature: dependencies, the master key, the env file.
    symlinkSync(join(ROOT, "node_modules"), join(kitDir, "node_modules"));
    generateKeyFile(join(etc, "master.key"));
    // The Cloudflare token lives in the env file Node reads itself; CBO_CLOUDFLARED=off shows in /v1/health that it was read.
    writeFileSync(join(etc, "cbo.env"), `CLOUDFLARE_API_TOKEN=${PLANTED_CF_TOKEN}\nCBO_CLOUDFLARED=off\n`, { mode: 0o600 });
    chmodSync(join(etc, "cbo.env"), 0o600);
  });

  afterAll(async () => {
    // Always: PM2's own daemon and whatever it still runs.
    if (pm2Home) await pm2(["kill"]).catch(() => {});
    for (const pid of pids) if (alive(pid)) process.kill(pid, "SIGKILL");
    await t?.dispose();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it("pm2 starts the daemon from the kit's ecosystem file, and `cbo status` answers through it", { timeout: 120_000 }, async () => {
    const started = await pm2(["start", "ecosystem.config.cjs", "--only", "cbo-daemon"]);
    expect(started.stdout).toContain("cbo-daemon");
    const d = await serving();
    pids.push(d.pid);
    // The kit's defaults are this layout: the port and data directory it was built for.
    expect(new URL(d.url).port).toBe(String(port));
    const [app] = (await jlist()).filter((a) => a.name === "cbo-daemon");
    expect(app).toMatchObject({ pid: d.pid, pm2_env: { status: "online" } });
    // Node read the env file (the daemon's tunnel supervision is off), and PM2 never saw the token.
    expect((await health(d.url)).tunnel?.process).toBe("disabled");
    expect(JSON.stringify(await jlist())).not.toContain(PLANTED_CF_TOKEN);

    const status = await runCbo(["status", "--data", data, "--json"]);
    expect(status.code, status.stderr).toBe(0);
    expect((JSON.parse(status.stdout) as { workers: Array<{ name: string }> }).workers.map((w) => w.name)).toEqual(["hello"]);
  });

  it("the kits the daemon builds (GET /v1/kit, `cbo kit` through it) hold none of the planted secrets", { timeout: 120_000 }, async () => {
    const { url } = daemonFile();
    const auth = { authorization: `Bearer ${adminToken()}` };
    for (const [name, value] of Object.entries(PLANTED)) {
      const res = await fetch(`${url}/v1/secrets/${name}`, {
        method: "PUT",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({ value, mode: name.endsWith("0") ? "binding" : "relay" }),
      });
      expect(res.status, await res.text()).toBe(200);
    }
    // Admin only.
    expect((await fetch(`${url}/v1/kit`)).status).toBe(401);
    const viewer = (await (
      await fetch(`${url}/v1/tokens`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({ name: "kit viewer", role: "viewer" }),
      })
    ).json()) as { token: string };
    expect((await fetch(`${url}/v1/kit`, { headers: { authorization: `Bearer ${viewer.token}` } })).status).toBe(403);

    const res = await fetch(`${url}/v1/kit?dataDir=/srv/cbo`, { headers: auth });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/gzip");
    writeFileSync(join(tmp, "from-api.tar.gz"), new Uint8Array(await res.arrayBuffer()));
    const cli = await runCbo(["kit", "--data", data, "--out", join(tmp, "from-cli.tar.gz"), "--json"]);
    expect(cli.code, cli.stderr).toBe(0);
    const written = JSON.parse(cli.stdout) as { sha256: string; audited: boolean };
    expect(written.audited).toBe(true);

    const needles = [
      ...Object.entries(PLANTED).flatMap(([name, v]) => forms(`vault secret ${name}`, v)),
      ...forms("Cloudflare token in the daemon's env", PLANTED_CF_TOKEN),
      ...forms("master key", readFileSync(join(etc, "master.key"), "utf8").trim()),
      ...forms("admin token", adminToken()),
      ...forms("viewer token", viewer.token),
    ];
    for (const [archive, dataDir] of [
      ["from-api", "/srv/cbo"],
      ["from-cli", "/var/lib/cbo"],
    ] as const) {
      const out = join(tmp, archive);
      mkdirSync(out);
      await run(TEST_TOOLS.tar.path, ["-xzf", join(tmp, `${archive}.tar.gz`), "-C", out]);
      const files = filesUnder(out);
      expect(files.length).toBeGreaterThan(100);
      expect(scan(files, needles), `secrets in ${archive}`).toEqual([]);
      // The scan reads what the kit holds: tailored to this daemon (its port) and the request's data dir.
      const eco = readFileSync(join(out, KIT_DIR_NAME, "ecosystem.config.cjs"), "utf8");
      expect(eco).toContain(`env.CBO_PORT || "${port}"`);
      expect(eco).toContain(`env.CBO_DATA_DIR || "${dataDir}"`);
      // ...and its local edge's port, not the default 8780 beside this daemon's own port.
      expect(eco).toContain(`env.CBO_EDGE_PORT || "${new URL(t.edge.apiUrl).port}"`);
      expect(readFileSync(join(out, KIT_DIR_NAME, "README.md"), "utf8")).toContain("| hello | `hello/index.js` | eu | - |");
    }
    // Each download is on the audit record, with the archive's hash.
    const audit = (
      (await (await fetch(`${url}/v1/audit?action=kit.download`, { headers: auth })).json()) as {
        items: Array<{ details: { sha256: string } }>;
      }
    ).items;
    expect(audit.map((e) => e.details.sha256)).toContain(written.sha256);
    expect(audit.length).toBe(2);
  });

  it("pm2 restart brings the daemon back under a new pid, and `cbo status` answers again", { timeout: 120_000 }, async () => {
    const before = daemonFile();
    await pm2(["restart", "cbo-daemon"]);
    const after = await serving(before.pid);
    pids.push(after.pid);
    expect(after.pid).not.toBe(before.pid);
    await waitFor("the old daemon to exit", () => (alive(before.pid) ? undefined : true));
    const [app] = (await jlist()).filter((a) => a.name === "cbo-daemon");
    expect(app).toMatchObject({ pid: after.pid, pm2_env: { status: "online" } });
    const status = await runCbo(["status", "--data", data, "--json"]);
    expect(status.code, status.stderr).toBe(0);
    expect((JSON.parse(status.stdout) as { workers: Array<{ name: string }> }).workers.map((w) => w.name)).toEqual(["hello"]);
  });

  it("pm2 stop stops it, pm2 delete forgets it; PM2's files never held a secret", { timeout: 120_000 }, async () => {
    const d = daemonFile();
    await pm2(["stop", "cbo-daemon"]);
    await waitFor("the daemon to exit", () => (alive(d.pid) ? undefined : true));
    await expect(health(d.url)).rejects.toThrow();
    expect((await jlist()).find((a) => a.name === "cbo-daemon")?.pm2_env.status).toBe("stopped");
    const status = await runCbo(["status", "--data", data]);
    expect(status.code).not.toBe(0);
    await pm2(["delete", "cbo-daemon"]);
    expect((await jlist()).map((a) => a.name)).toEqual([]);
    // The daemon's stdout (the first admin token) went to /dev/null; its stderr log holds no secret.
    const logs = readdirSync(join(pm2Home, "logs"));
    expect(logs.filter((l) => l.startsWith("cbo-daemon-error"))).toHaveLength(1);
    expect(logs.filter((l) => l.startsWith("cbo-daemon-out"))).toEqual([]);
    expect(readFileSync(join(pm2Home, "logs", logs.find((l) => l.startsWith("cbo-daemon-error"))!), "utf8")).toContain("shutting down");
    const needles = [
      ...Object.entries(PLANTED).flatMap(([name, v]) => forms(`vault secret ${name}`, v)),
      ...forms("Cloudflare token", PLANTED_CF_TOKEN),
      ...forms("admin token", adminToken()),
    ];
    expect(scan(filesUnder(pm2Home), needles)).toEqual([]);
  });
});
