// The exit code of `cbo release` when the daemon that ran the release dies mid-way and a restarted
// daemon's recovery finishes it (issue 11, item 12). The real `cbo` binary follows a release run by
// the real daemon in a child process on a fixed port, over a real three-region local edge; the
// daemon is killed with SIGKILL while eu's 50% step runs and started again on the same data
// directory only after longer than a follow used to wait (30 s). The CLI must wait for it and exit
// with the outcome's code (rolled back: 1), whoever finished the release.
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exitForOutcome } from "../src/cli/exit-codes.ts";
import type { TargetRuntime } from "../src/targets/types.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { eventually } from "./support/http.ts";
import { edgeInfo, fleetYaml, liveOf, localRuntimes, versionSource, writeFleet, type Fleet } from "./support/orchestrator.ts";
import { freePort, startDaemonChild } from "./support/daemon-process.ts";
import { runCbo, startCbo } from "./support/run-cbo.ts";

const REGIONS = ["eu", "us", "ap"];
const GATE = { interval_ms: 50, bake_ms: 3000, min_samples: 5, failure_limit: 3, max_error_rate: 0.05, timeout_ms: 1000 };
const WORKER = "kept";
/** Longer than the 30 s the CLI's follow used to wait for a daemon that went away. */
const AWAY_MS = 33_000;

describe("cbo release after the daemon died and recovered the release", () => {
  let t: TestEdge;
  let dir: string;
  let fleet: Fleet;
  let runtimes: Map<string, TargetRuntime>;
  let port: number;
  let daemon: ChildProcess | undefined;
  const masterKey = randomBytes(32).toString("base64");
  const data = () => join(dir, "data");

  async function startChild(): Promise<{ url: string }> {
    const started = await startDaemonChild({ dataDir: data(), configFile: fleet.file, edge: edgeInfo(t.edge), port }, masterKey);
    daemon = started.child;
    return started;
  }

  beforeAll(async () => {
    t = await startTestEdge({ regions: REGIONS });
    dir = await makeTempDir("cli-recovery");
    fleet = await writeFleet(dir, fleetYaml({ workers: [WORKER], steps: [50, 100], waves: [["eu"], ["us", "ap"]], gate: GATE }), {
      [WORKER]: versionSource("v1"),
    });
    runtimes = localRuntimes(edgeInfo(t.edge), fleet.spec);
    port = await freePort();
    await startChild();
    const seed = await runCbo(["release", WORKER, "--data", data()], { timeoutMs: 60_000 });
    expect(seed.code, seed.stderr).toBe(0);
  }, 120_000);
  afterAll(async () => {
    daemon?.kill("SIGKILL");
    await t?.dispose();
  });

  it("exits 3 (rolled back) once the restarted daemon has rolled it back, after a longer absence than 30 s", {
    timeout: 180_000,
  }, async () => {
    const v1 = Object.fromEntries(
      await Promise.all(REGIONS.map(async (r) => [r, (await liveOf(runtimes.get(r)!, WORKER))[0]!.versionId] as const)),
    );
    await fleet.setSource(WORKER, versionSource("v2"));
    const cli = startCbo(["release", WORKER, "--data", data()]);
    try {
      // eu's 50% step is live, its gate still running: the daemon dies there.
      await eventually(
        async () =>
          /eu\s+step 50% started/.test(cli.output.stdout)
            ? true
            : Promise.reject(new Error(`not at eu 50% yet: ${cli.output.stdout}${cli.output.stderr}`)),
        60_000,
      );
      const id = /release ([0-9a-f-]{36}) of/.exec(cli.output.stdout)![1]!;
      daemon!.kill("SIGKILL");
      await new Promise((r) => daemon!.once("exit", r));
      await new Promise((r) => setTimeout(r, AWAY_MS));
      expect(cli.exitCode, `the CLI gave up while the daemon was away: ${cli.output.stderr}`).toBeNull();
      expect(cli.output.stderr).toMatch(/the daemon is not answering .* when it starts again it finishes release/);

      const { url } = await startChild();
      const done = await cli.done;
      const token = (await import("node:fs")).readFileSync(join(data(), "admin-token"), "utf8").trim();
      const record = (await (await fetch(`${url}/v1/releases/${id}`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
        release: { status: string; reason: string };
      };
      expect(record.release.status, record.release.reason).toBe("rolled_back");
      expect(record.release.reason).toMatch(/daemon restarted during the release/);
      expect(done.code, `${done.stdout}\n${done.stderr}`).toBe(exitForOutcome("rolled_back"));
      expect(done.code).toBe(3);
      expect(done.stdout).toMatch(new RegExp(`release ${id} rolled back after`));
      expect(done.stderr).toContain("the daemon answers again");
      for (const region of REGIONS)
        expect(await liveOf(runtimes.get(region)!, WORKER)).toEqual([{ versionId: v1[region], percentage: 100 }]);
    } finally {
      if (cli.exitCode === null) cli.kill("SIGKILL");
    }
  });
});
