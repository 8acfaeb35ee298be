// `cbo up` keeps the daemon's access log off the terminal (its own progress lines stay readable):
// every daemon line goes to <data>/daemon.log, the terminal gets them without the info-level
// access lines, warnings still print, and --verbose prints everything. Runs the real binary with its
// own edge and daemon, twice on one data directory.
import { chmodSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeTinyFleet } from "./support/tiny-fleet.ts";
import { makeTempDir } from "./support/edge.ts";
import { startCbo } from "./support/run-cbo.ts";

async function upUntilBanner(dir: string, data: string, extra: string[]) {
  const up = startCbo(
    ["up", "--config", join(dir, "orchestrator.yaml"), "--data", data, "--port", "0", "--edge-port", "0", "--regions", "eu", ...extra],
    { cwd: dir },
  );
  const deadline = Date.now() + 60_000;
  while (!up.output.stdout.includes("(Ctrl-C stops)")) {
    if (up.exitCode !== null || Date.now() > deadline) throw new Error(`cbo up did not come up:\n${up.output.stdout}\n${up.output.stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const api = /^ {2}API\s+(\S+)/m.exec(up.output.stdout)![1]!;
  return { up, api };
}

describe("cbo up's terminal and the daemon's access log", () => {
  it("prints progress without access lines, keeps them in <data>/daemon.log, and --verbose prints them", { timeout: 150_000 }, async () => {
    const dir = await makeTempDir("up-log");
    writeTinyFleet(dir);
    const data = join(dir, "data");
    // Open to others: the daemon tightens it and says so at warn level, which must still print.
    mkdirSync(data, { mode: 0o755 });
    chmodSync(data, 0o755);

    const first = await upUntilBanner(dir, data, []);
    const token = readFileSync(join(data, "admin-token"), "utf8").trim();
    // A request after the banner, as the dashboard makes: it goes to the file only.
    const res = await fetch(new URL("workers", first.api), { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    first.up.kill("SIGTERM");
    const run = await first.up.done;
    expect(run.code, run.stderr).toBe(0);
    const file = join(data, "daemon.log");
    expect(run.stdout).toContain(`daemon log   ${file}`);
    // The launcher's progress and the daemon's other lines are on the terminal…
    expect(run.stderr).toContain("cbo: releasing 1 worker(s)");
    expect(run.stderr).toMatch(/tiny \S+: release of \S+ to eu/);
    expect(run.stderr).toMatch(/was open to other users; it is 0700 now/);
    // …but not one access line.
    expect(run.stderr).not.toContain("api request");
    const kept = readFileSync(file, "utf8");
    expect(kept).toMatch(/^api request method=POST route=\/v1\/releases status=202 /m);
    expect(kept).toMatch(/^api request method=GET route=\/v1\/workers status=200 /m);
    expect(kept).toMatch(/tiny \S+: release of \S+ to eu/);
    expect(kept).not.toContain(token);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const second = await upUntilBanner(dir, data, ["--verbose"]);
    second.up.kill("SIGTERM");
    const verbose = await second.up.done;
    expect(verbose.code, verbose.stderr).toBe(0);
    expect(verbose.stderr).toMatch(/^api request method=POST route=\/v1\/releases status=20\d /m);
    // Appended across starts: the first run's lines are still there.
    expect(readFileSync(file, "utf8").startsWith(kept)).toBe(true);
  });
});
