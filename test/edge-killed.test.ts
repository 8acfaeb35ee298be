// The local edge killed with SIGKILL (or by the OOM killer) and started again on its directory.
// Miniflare's workerd processes outlive a killed edge: orphaned, they kept the region ports and
// went on serving the old state, so `cbo edge` started again on the same ports failed ("Address
// already in use") and the region stayed down. The real `cbo edge` runs as a child process on
// fixed loopback ports; its workerd processes are found in /proc (children of the edge). The same
// for `cbo up` (its embedded edge), whose port check refused the restart before the edge started.
import { createServer } from "node:net";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeTempDir } from "./support/edge.ts";
import { httpGet } from "./support/http.ts";
import { descendants } from "./support/processes.ts";
import { runCbo, startCbo } from "./support/run-cbo.ts";
import { writeTinyFleet } from "./support/tiny-fleet.ts";

const dirs: string[] = [];
const started: number[] = [];
afterAll(() => {
  // Whatever a failed run left: the edges and workerd processes this file started, by pid.
  for (const pid of started) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Running (a zombie waiting for its parent to reap it has exited and holds no port). */
const isAlive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false;
  }
};

/** A port p with p .. p+n-1 free on 127.0.0.1 (e.g. the edge's API and its one region). */
async function freePorts(n: number): Promise<number> {
  const free = (port: number) =>
    new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once("error", () => resolve(false));
      s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
    });
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 20_000);
    let all = true;
    for (let i = 0; i < n && all; i++) all = await free(base + i);
    if (all) return base;
  }
}

/** Starts `cbo edge` and resolves once it printed its JSON line. */
async function startEdge(dir: string, port: number) {
  const child = startCbo(["edge", "--port", String(port), "--edge", dir, "--regions", "eu"]);
  started.push(child.pid!);
  const line = await new Promise<{ regions: Array<{ publicUrl: string }> }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cbo edge did not start in 60 s: ${child.output.stderr}`)), 60_000);
    child.stdout!.on("data", () => {
      const first = child.output.stdout.split("\n")[0]!;
      if (child.output.stdout.includes("\n")) clearTimeout(timer), resolve(JSON.parse(first));
    });
    void child.done.then((r) => (clearTimeout(timer), reject(new Error(`cbo edge exited ${r.code}: ${r.stderr}`))));
  });
  const workerd = descendants(child.pid!).filter((p) => p.command.includes("workerd"));
  started.push(...workerd.map((p) => p.pid));
  return { child, line, workerd };
}

describe("cbo edge killed with SIGKILL, then started again on the same directory and ports", () => {
  it("stops the workerd processes the killed edge left running and serves again on its ports", { timeout: 120_000 }, async () => {
    const dir = await makeTempDir("edge-killed");
    dirs.push(dir);
    const port = await freePorts(2);
    const first = await startEdge(dir, port);
    const { workerd } = first;
    expect(workerd.length).toBeGreaterThan(0);

    first.child.kill("SIGKILL");
    await first.child.done;
    // The scenario: the edge is gone, its workerd processes are not.
    expect(workerd.map((p) => isAlive(p.pid))).toEqual(workerd.map(() => true));

    const second = await startEdge(dir, port);
    expect(new URL(second.line.regions[0]!.publicUrl).port).toBe(String(port + 1));
    expect(workerd.filter((p) => isAlive(p.pid))).toEqual([]);
    expect(second.child.output.stderr).toMatch(/stopped \d+ workerd process\(es\) .* left running by the edge .* was killed/);
    // The region answers, from the new edge's workerd.
    const res = await httpGet(port + 1, "nothing.localhost");
    expect(res.status).toBe(404);
    expect(res.body).toContain("no Worker named");

    second.child.kill("SIGTERM");
    expect((await second.child.done).code).toBe(0);
    // A clean stop takes its workerd processes with it.
    expect(second.workerd.filter((p) => isAlive(p.pid))).toEqual([]);
  });

  it("`cbo up` killed with SIGKILL starts again on the same data and ports: the daemon recovers, the log verifies", {
    timeout: 150_000,
  }, async () => {
    const dir = await makeTempDir("up-killed");
    dirs.push(dir);
    writeTinyFleet(dir);
    const data = join(dir, "data");
    const base = await freePorts(3);
    const args = [
      "up",
      "--config",
      join(dir, "orchestrator.yaml"),
      "--data",
      data,
      "--port",
      String(base),
      "--edge-port",
      String(base + 1),
      "--regions",
      "eu",
    ];
    const up = async () => {
      const child = startCbo(args, { cwd: dir });
      started.push(child.pid!);
      const deadline = Date.now() + 60_000;
      while (!child.output.stdout.includes("(Ctrl-C stops)")) {
        if (child.exitCode !== null || Date.now() > deadline)
          throw new Error(`cbo up did not come up:\n${child.output.stdout}\n${child.output.stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const workerd = descendants(child.pid!).filter((p) => p.command.includes("workerd"));
      started.push(...workerd.map((p) => p.pid));
      return { child, workerd };
    };
    const first = await up();
    expect(first.child.output.stdout).toMatch(/tiny\s+succeeded/);
    first.child.kill("SIGKILL");
    await first.child.done;
    expect(first.workerd.filter((p) => isAlive(p.pid)).length).toBeGreaterThan(0);

    const second = await up();
    expect(first.workerd.filter((p) => isAlive(p.pid))).toEqual([]);
    expect(second.child.output.stderr).toMatch(/stopped \d+ workerd process\(es\)/);
    expect((await httpGet(base + 2, "tiny.localhost")).body).toBe("tiny");
    second.child.kill("SIGTERM");
    expect((await second.child.done).code).toBe(0);
    const verify = await runCbo(["audit", "verify", "--data", data], { cwd: dir });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });
});
