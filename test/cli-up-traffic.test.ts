// `cbo up --traffic`: once the fleet is up, a light synthetic load reaches every released Worker
// (issue 15 item 5), answered by it, and stops with cbo up. Runs the
// real binary with its own edge and daemon; --traffic-rate without --traffic is a usage error.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeTinyFleet } from "./support/tiny-fleet.ts";
import { makeTempDir } from "./support/edge.ts";
import { runCbo, startCbo } from "./support/run-cbo.ts";

describe("cbo up --traffic", () => {
  it("--traffic-rate alone is refused before anything starts", async () => {
    const r = await runCbo(["up", "--traffic-rate", "5", "--data", "/nonexistent/never-created"], {});
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("ERR_USAGE: --traffic-rate goes with --traffic.");
  });

  it("sends requests/s to every worker until stopped, answered by the Worker", { timeout: 90_000 }, async () => {
    const dir = await makeTempDir("up-traffic");
    mkdirSync(dir, { recursive: true });
    writeTinyFleet(dir);
    const args = ["up", "--config", join(dir, "orchestrator.yaml"), "--data", join(dir, "data"), "--port", "0", "--edge-port", "0"];
    const up = startCbo([...args, "--regions", "eu", "--traffic", "--traffic-rate", "40"], { cwd: dir });
    const deadline = Date.now() + 60_000;
    while (!up.output.stderr.includes("cbo: synthetic traffic: 40 requests/s")) {
      if (up.exitCode !== null || Date.now() > deadline)
        throw new Error(`cbo up did not start traffic:\n${up.output.stdout}\n${up.output.stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 2_000));
    up.kill("SIGTERM");
    const run = await up.done;
    expect(run.code, run.stderr).toBe(0);
    const sent = /synthetic traffic sent (\d+) requests \((\d+) failed\)/.exec(run.stderr);
    expect(sent, run.stderr).not.toBeNull();
    expect(Number(sent![1])).toBeGreaterThanOrEqual(60); // ~40/s for 2 s and more
    expect(Number(sent![2])).toBe(0);
  });
});
