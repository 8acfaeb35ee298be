// The daemon supervises cloudflared. No real cloudflared can be installed or downloaded here, so a
// STAND-IN stands in for it: a small shell script named `cloudflared` in a temp dir on the daemon's
// PATH (a test double). It records each start (pid, time in ms, a hash of the token file it was
// given, its arguments, the names of its environment variables), echoes the token to stderr (as a
// careless connector might), then idles until stopped, or exits 1 at once while <dir>/crash exists.
// Checked: it starts once a tunnel exists, with the token file and config (never the token) on its
// command line and none of the daemon's secrets in its environment; when it crashes it is restarted
// with growing delays, each actually waited; status and /v1/health show it; it is stopped with the
// daemon, and started again by the next daemon on the same data.
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDaemon } from "../src/daemon.ts";
import { startTunnelRig, type TunnelRig } from "./tunnel-fixture.ts";
import { makeTempDir } from "./support/edge.ts";

const STAND_IN = `#!/bin/sh
# Stand-in for cloudflared (test double for test/tunnel-supervise.test.ts), not the real connector.
dir=$(dirname "$0")
token_file=""
prev=""
for a in "$@"; do
  [ "$prev" = "--token-file" ] && token_file="$a"
  prev="$a"
done
hash=$(sha256sum "$token_file" 2>/dev/null | cut -d' ' -f1)
echo "$$ $(date +%s%3N) \${hash:-none} $*" >> "$dir/starts.log"
env | cut -d= -f1 | sort | tr '\\n' ' ' > "$dir/env-$$.txt"
echo "stand-in cloudflared: starting with token $(cat "$token_file")" >&2
while :; do
  if [ -f "$dir/crash" ]; then echo "stand-in cloudflared: told to crash" >&2; exit 1; fi
  sleep 0.05
done
`;

const SPEC = `version: 1
targets:
  - { name: eu, api: local }
workers:
  - name: hello
    main: hello.js
`;

type Start = { pid: number; at: number; hash: string; args: string[] };
type ProcessStatus = {
  state: string;
  pid: number | null;
  restarts: number;
  attempt: number;
  exits: Array<{ code: number | null; restartInMs: number | null }>;
};

describe("cloudflared supervision (with a stand-in cloudflared)", () => {
  let rig: TunnelRig;
  let bin: string;
  const planted = `planted-cf-token-${randomBytes(8).toString("hex")}`;
  const starts = (): Start[] =>
    existsSync(join(bin, "starts.log"))
      ? readFileSync(join(bin, "starts.log"), "utf8")
          .trim()
          .split("\n")
          .map((l) => {
            const [pid, at, hash, ...args] = l.split(" ");
            return { pid: Number(pid), at: Number(at), hash: hash!, args };
          })
      : [];
  const until = async <T>(what: string, fn: () => Promise<T | undefined> | T | undefined): Promise<T> => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const proc = async () => (await rig.api<{ process: ProcessStatus }>("GET", "/v1/tunnel/status")).process;
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  beforeAll(async () => {
    bin = join(await makeTempDir("stand-in"), "bin");
    mkdirSync(bin);
    writeFileSync(join(bin, "cloudflared"), STAND_IN);
    chmodSync(join(bin, "cloudflared"), 0o755);
    rig = await startTunnelRig({
      spec: SPEC,
      files: { "hello.js": `export default { fetch: () => new Response("hi") };` },
      daemon: {
        // The daemon's environment: the stand-in first on PATH, and secrets that must not reach it.
        env: { PATH: `${bin}:${process.env.PATH}`, CLOUDFLARE_API_TOKEN: planted, HOME: process.env.HOME },
        cloudflaredRestart: { baseMs: 100, maxMs: 800, stableMs: 60_000 },
      },
    });
  }, 60_000);
  afterAll(async () => {
    await rig?.close();
    rmSync(join(bin, ".."), { recursive: true, force: true });
  });

  it("waits for a tunnel before running cloudflared", async () => {
    expect(await rig.api("GET", "/v1/health")).toEqual({
      ok: true,
      storage: { full: false },
      tunnel: { configured: false, process: "no-tunnel", restarts: 0 },
    });
    expect(starts()).toEqual([]);
  });

  it("runs it with the config and token files once the tunnel exists, and nothing secret in argv or env", async () => {
    await rig.api("POST", "/v1/tunnel", { hostname: "cbo.example.test" });
    const [first] = await until("the first start", () => (starts().length ? starts() : undefined));
    const dir = join(rig.dataDir, "tunnel");
    expect(first!.args).toEqual([
      "tunnel",
      "--no-autoupdate",
      "--config",
      join(dir, "cloudflared.yml"),
      "run",
      "--token-file",
      join(dir, "token"),
    ]);
    expect(first!.hash).toBe(
      createHash("sha256")
        .update(readFileSync(join(dir, "token")))
        .digest("hex"),
    );
    // The stand-in writes its environment's names after its arguments: wait for the whole list.
    const envFile = join(bin, `env-${first!.pid}.txt`);
    const envText = await until("its environment", () =>
      existsSync(envFile) && readFileSync(envFile, "utf8").includes("PATH") ? readFileSync(envFile, "utf8") : undefined,
    );
    const env = envText.split(" ").filter(Boolean);
    expect(env).toContain("PATH");
    expect(env).not.toContain("CLOUDFLARE_API_TOKEN");
    const s = await until("running", async () => ((await proc()).state === "running" ? proc() : undefined));
    expect(s.pid).toBe(first!.pid);
    expect(await rig.api("GET", "/v1/health")).toEqual({
      ok: true,
      storage: { full: false },
      tunnel: { configured: true, process: "running", restarts: 0 },
    });
    // Its output reaches the daemon's log, with the token it echoed redacted.
    const token = readFileSync(join(dir, "token"), "utf8").trim();
    const line = await until("its log line", () => rig.logs.find((l) => l.startsWith("cloudflared: stand-in cloudflared: starting")));
    expect(line).toContain("[redacted]");
    expect(rig.logs.join("\n")).not.toContain(token);
  });

  it("restarts it with growing delays while it crashes, each delay actually waited", async () => {
    writeFileSync(join(bin, "crash"), "");
    await until("four restarts", () => (starts().length >= 5 ? true : undefined));
    const s = await proc();
    expect(["backoff", "starting", "running"]).toContain(s.state);
    expect(s.restarts).toBeGreaterThanOrEqual(4);
    // Newest exit first: the delays of consecutive quick failures, oldest first, with their floors.
    const delays = s.exits
      .filter((e) => e.code === 1)
      .map((e) => e.restartInMs!)
      .reverse();
    expect(delays.length).toBeGreaterThanOrEqual(4);
    const floors = [50, 100, 200, 400, 400, 400];
    delays.slice(0, floors.length).forEach((d, i) => {
      expect(d).toBeGreaterThanOrEqual(floors[i]!);
      expect(d).toBeLessThan(Math.min(800, 100 * 2 ** i));
    });
    // Start i+1 came no sooner than start i's exit plus its delay (the script records its start time).
    const st = starts();
    for (let i = 1; i < Math.min(st.length, delays.length + 1); i++)
      expect(st[i]!.at - st[i - 1]!.at).toBeGreaterThanOrEqual(delays[i - 1]!);
    const health = await rig.api<{ tunnel: { restarts: number } }>("GET", "/v1/health");
    expect(health.tunnel.restarts).toBeGreaterThanOrEqual(4);
  });

  it("comes back up once it stops crashing, and the status says so", async () => {
    rmSync(join(bin, "crash"));
    const s = await until("running again", async () => {
      const p = await proc();
      return p.state === "running" && alive(p.pid!) && starts().at(-1)!.pid === p.pid ? p : undefined;
    });
    expect(s.restarts).toBe(starts().length - 1);
    expect(s.attempt).toBeGreaterThanOrEqual(4);
  });

  it("stops it with the daemon", async () => {
    const pid = (await proc()).pid!;
    expect(alive(pid)).toBe(true);
    await rig.d.close();
    await until("the stand-in to be gone", () => (!alive(pid) ? true : undefined));
    expect(rig.logs.join("\n")).not.toContain(planted);
  });

  it("starts it again when a daemon starts on a data directory that has a tunnel", async () => {
    const before = starts().length;
    rig.d = await startDaemon({
      dataDir: rig.dataDir,
      configFile: join(rig.dir, "orchestrator.yaml"),
      edge: rig.t.edge,
      masterKeyFile: join(rig.dir, "master.key"),
      port: 0,
      monitorIntervalMs: 60_000,
      env: { PATH: `${bin}:${process.env.PATH}` },
      log: (l) => rig.logs.push(l),
    });
    // "running" is reported at spawn; the stand-in writes its start line once it runs (later, under load).
    const s = await until("running after the restart", async () => {
      const p = await proc();
      return p.state === "running" && starts().length > before ? p : undefined;
    });
    expect(starts()).toHaveLength(before + 1);
    expect(s).toMatchObject({ pid: starts().at(-1)!.pid, restarts: 0, attempt: 0 });
  });
});
