// `cbo up` stops cleanly on SIGTERM: the daemon's cleanup runs (Miniflare's own signal handler
// would exit at once), so the audit log gets its last signed checkpoint, shipped to the checkpoint
// file, and the log then verifies offline. Runs the real binary with its own edge and daemon.
import { existsSync, readFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeTinyFleet } from "./support/tiny-fleet.ts";
import { makeTempDir } from "./support/edge.ts";
import { runCbo, startCbo } from "./support/run-cbo.ts";

describe("cbo up shutdown", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir("up-shutdown");
    mkdirSync(dir, { recursive: true });
    writeTinyFleet(dir);
  });
  afterAll(() => {});

  it("finishes its cleanup on SIGTERM: exit 0, a last checkpoint shipped, the log verifies", { timeout: 90_000 }, async () => {
    const data = join(dir, "data");
    const up = startCbo(
      ["up", "--config", join(dir, "orchestrator.yaml"), "--data", data, "--port", "0", "--edge-port", "0", "--regions", "eu"],
      { cwd: dir },
    );
    const deadline = Date.now() + 60_000;
    while (!up.output.stdout.includes("(Ctrl-C stops)")) {
      if (up.exitCode !== null || Date.now() > deadline)
        throw new Error(`cbo up did not come up:\n${up.output.stdout}\n${up.output.stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(up.output.stdout).toMatch(/tiny\s+succeeded/);
    // The banner's Try: lines run as printed, with this --data (`npx cbo`: cbo is not on PATH here).
    const tryLine = /^Try: (.*)\(Ctrl-C stops\)$/m.exec(up.output.stdout)![1]!;
    const commands = tryLine.split(/ {3}/).filter(Boolean);
    expect(commands).toEqual([`npx cbo status --data ${data}`, `npx cbo events --follow --data ${data}`]);
    const status = await runCbo(commands[0]!.split(" ").slice(2), { cwd: dir });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^tiny\s+eu\s+/m);
    up.kill("SIGTERM");
    const run = await up.done;
    expect({ code: run.code, signal: run.signal }, run.stderr).toEqual({ code: 0, signal: null });
    expect(run.stderr).toContain("SIGTERM: shutting down");

    const shipped = join(data, "audit-checkpoints.jsonl");
    expect(existsSync(shipped)).toBe(true);
    expect(readFileSync(shipped, "utf8").trim().split("\n").length).toBeGreaterThanOrEqual(1);
    const verify = await runCbo(["audit", "verify", "--data", data], { cwd: dir });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/^ok: /);
    expect(verify.stdout).not.toMatch(/no checkpoint covers any entry/);
  });
});
