// One daemon per data directory, as a user meets it: a second `npm start` (`cbo up`, here with
// --port 0 so that no busy port stops it first) or a `cbo daemon` on a data directory that a
// running daemon serves is refused with ERR_CONFLICT naming that daemon (exit 1), before anything
// is written: its daemon.json still points at it and no edge state appears. A daemon.json left
// by a daemon that is gone is no daemon. And `cbo up` with an orchestrator.yaml that does not
// validate stops before the edge writes anything into --data.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Daemon } from "../src/daemon.ts";
import { daemonServing } from "../src/store/in-use.ts";
import { startDaemonIn } from "./support/daemon-rig.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { runCbo } from "./support/run-cbo.ts";

describe("a data directory another daemon serves", () => {
  let t: TestEdge;
  let dir: string;
  let data: string;
  let daemon: Daemon;
  let daemonJson: string;

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu"] });
    dir = await makeTempDir("in-use");
    data = join(dir, "data");
    writeFileSync(join(dir, "orchestrator.yaml"), "version: 1\ntargets:\n  - { name: eu, api: local }\n");
    daemon = await startDaemonIn(dir, t.edge);
    daemonJson = readFileSync(join(data, "daemon.json"), "utf8");
  }, 60_000);
  afterAll(async () => {
    await daemon?.close();
    await t?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const expectRefused = (r: { code: number | null; stderr: string }) => {
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(
      `error ERR_CONFLICT: A daemon already runs on the data directory ${data} (pid ${process.pid}, ${daemon.url}).`,
    );
    expect(r.stderr).toContain(`or stop it first (Ctrl-C where it runs, or kill ${process.pid})`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    // Nothing of the second one: the CLI still finds the first, and no edge state was written.
    expect(readFileSync(join(data, "daemon.json"), "utf8")).toBe(daemonJson);
    expect(existsSync(join(data, "edge"))).toBe(false);
  };

  it("daemon.json names the daemon's URL, pid and the spec it reads (how a CLI that finds it gone says to start it again)", () => {
    expect(JSON.parse(daemonJson)).toEqual({ url: daemon.url, pid: process.pid, config: join(dir, "orchestrator.yaml") });
  });

  it("a second cbo up is refused before its edge starts, naming the running daemon", async () => {
    const args = ["up", "--data", data, "--config", join(dir, "orchestrator.yaml"), "--port", "0", "--edge-port", "0"];
    expectRefused(await runCbo(args, { cwd: dir, timeoutMs: 60_000 }));
  });

  it("cbo init on it is refused before its first step (the master key), writing no orchestrator.yaml", async () => {
    const args = ["init", "--local", "--yes", "--data", data, "--config", "init.yaml", "--port", "0", "--edge-port", "0"];
    expectRefused(await runCbo(args, { cwd: dir, timeoutMs: 60_000 }));
    expect(existsSync(join(dir, "init.yaml"))).toBe(false);
  });

  it("cbo daemon on it is refused too", async () => {
    const args = ["daemon", "--data", data, "--config", join(dir, "orchestrator.yaml"), "--port", "0", "--edge", t.dataDir];
    expectRefused(await runCbo(args, { cwd: dir, timeoutMs: 60_000 }));
  });

  it("a daemon.json left by a daemon that is gone (or whose URL no longer answers) is no daemon", async () => {
    expect(await daemonServing(data)).toEqual({ url: daemon.url, pid: process.pid });
    const stale = join(dir, "stale");
    mkdirSync(stale);
    // A pid that has exited: the child of a finished process.
    const gone = spawnSync(process.execPath, ["-e", "console.log(process.pid)"], { encoding: "utf8" });
    writeFileSync(join(stale, "daemon.json"), JSON.stringify({ url: daemon.url, pid: Number(gone.stdout.trim()) }));
    expect(await daemonServing(stale)).toBeUndefined();
    // A live pid (this process) but a URL where nothing listens.
    writeFileSync(join(stale, "daemon.json"), JSON.stringify({ url: "http://127.0.0.1:1", pid: process.pid }));
    expect(await daemonServing(stale)).toBeUndefined();
  });
});

describe("cbo up with an orchestrator.yaml that does not validate", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir("up-bad-spec");
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("stops with the file, the path and what to fix, and creates no data directory", async () => {
    writeFileSync(
      join(dir, "orchestrator.yaml"),
      "version: 1\ntargets:\n  - { name: eu, api: local }\nrollout:\n  gate: { bake_msx: 600 }\n",
    );
    const data = join(dir, "data");
    const r = await runCbo(["up", "--data", data, "--port", "0", "--edge-port", "0"], { cwd: dir, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('orchestrator.yaml: rollout.gate: unknown key "bake_msx" (did you mean "bake_ms"?)');
    expect(existsSync(data)).toBe(false);
  });
});

describe("an edge directory another local edge serves", () => {
  let dir: string;
  let t: TestEdge;
  let edgeJson: string;
  beforeAll(async () => {
    dir = await makeTempDir("edge-in-use");
    // Where `cbo up --data DIR` keeps its edge: DIR/edge.
    t = await startTestEdge({ regions: ["eu"], dataDir: join(dir, "data", "edge") });
    edgeJson = readFileSync(join(t.dataDir, "edge.json"), "utf8");
  }, 60_000);
  afterAll(async () => {
    await t?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const expectRefused = (r: { code: number | null; stderr: string }) => {
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`error ERR_CONFLICT: A local edge already runs on ${t.dataDir} (pid ${process.pid}, API ${t.edge.apiUrl}).`);
    expect(r.stderr).toContain(`one started alone by \`npx cbo edge\` takes a daemon with \`npx cbo daemon --edge ${t.dataDir}\``);
    expect(readFileSync(join(t.dataDir, "edge.json"), "utf8")).toBe(edgeJson);
  };

  it("a second cbo edge on it (on free ports) is refused, and the first's edge.json stays", async () => {
    expectRefused(await runCbo(["edge", "--port", "0", "--edge", t.dataDir, "--regions", "eu"], { cwd: dir, timeoutMs: 60_000 }));
  });

  it("cbo up whose data directory holds it is refused before its ports are checked", async () => {
    writeFileSync(join(dir, "orchestrator.yaml"), "version: 1\ntargets:\n  - { name: eu, api: local }\n");
    const r = await runCbo(["up", "--data", join(dir, "data"), "--port", "0", "--edge-port", "0"], { cwd: dir, timeoutMs: 60_000 });
    expectRefused(r);
    expect(existsSync(join(dir, "data", "master.key"))).toBe(false);
  });
});
