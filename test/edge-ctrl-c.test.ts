// Ctrl-C on a terminal running the local edge (`cbo edge`, or `npm start`): the terminal sends
// SIGINT to the whole foreground process group, so every region's workerd stops at the same moment
// as the edge, before the edge can read their last invocation counts. The edge says so in one line
// (which regions, why), not one cryptic "draining invocation counts failed" per region, and exits 0.
// The real binary runs in a process group of its own, signalled as a terminal signals it.
import { spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir } from "./support/edge.ts";
import { CBO_BIN, cboEnv } from "./support/run-cbo.ts";

describe("Ctrl-C on cbo edge", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir("edge-ctrl-c");
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("stops with one line about the counts workerd took with it, and exit 0", async () => {
    const child = spawn(process.execPath, [CBO_BIN, "edge", "--port", "0", "--edge", join(dir, "edge"), "--regions", "eu,us"], {
      cwd: dir,
      env: cboEnv(),
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    try {
      // Up once it printed its JSON line.
      const deadline = Date.now() + 60_000;
      while (!stdout.includes("\n") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(stdout, stderr).toContain('"apiUrl"');
      process.kill(-child.pid!, "SIGINT");
      expect(await exited, stderr).toBe(0);
    } finally {
      if (child.exitCode === null) process.kill(-child.pid!, "SIGKILL");
    }
    expect(stderr).not.toContain("draining invocation counts failed");
    const lost = stderr.split("\n").filter((l) => l.includes("invocation counts"));
    expect(lost.length, stderr).toBeLessThanOrEqual(1);
    if (lost.length === 1)
      expect(lost[0]).toMatch(/^local-edge: on stop, the invocation counts .* could not be read from (eu, us|us, eu|eu|us) \(/);
  }, 90_000);
});
