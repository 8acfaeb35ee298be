// The `cbo` binary against fakeDaemonForCliTests, a test double of the daemon API (real HTTP and
// WebSocket on 127.0.0.1): discovery, error mapping, exit codes, --json, live release progress and
// a resumable event stream. test/cli-e2e.test.ts runs the same binary against the real daemon parts.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, VIEWER_TOKEN, fakeDaemonForCliTests, type FakeDaemon } from "./support/fake-daemon-for-cli-tests.ts";
import { runCbo, startCbo } from "./support/run-cbo.ts";
import { freePort } from "./support/daemon-process.ts";

let daemon: FakeDaemon;
let dataDir: string;
let cwd: string;

beforeAll(async () => {
  daemon = await fakeDaemonForCliTests();
  dataDir = mkdtempSync(join(tmpdir(), "cbo-cli-data-"));
  // The daemon writes these two files when it starts; the CLI finds both through --data.
  writeFileSync(join(dataDir, "daemon.json"), JSON.stringify({ url: daemon.url, pid: process.pid }));
  writeFileSync(join(dataDir, "admin-token"), ADMIN_TOKEN + "\n", { mode: 0o600 });
  // A working directory without a .cbo, so nothing is found by accident.
  cwd = mkdtempSync(join(tmpdir(), "cbo-cli-cwd-"));
});
afterAll(async () => {
  await daemon?.close();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(cwd, { recursive: true, force: true });
});

const cbo = (args: string[], env: Record<string, string> = {}) =>
  runCbo(args, { cwd, env: { CBO_URL: daemon.url, CBO_TOKEN: ADMIN_TOKEN, ...env } });
const NO_STACK = /\n\s+at /;

describe("cbo against the daemon API (test double)", () => {
  it("finds the daemon and its token through --data and prints status as one JSON document", async () => {
    const r = await runCbo(["status", "--json", "--data", dataDir], { cwd });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    const status = JSON.parse(lines[0]!);
    expect(status.workers.map((w: { name: string }) => w.name)).toEqual(["good", "bad", "broken", "recovered", "slow", "outage"]);
    expect(status.workers[0].targets[0]).toMatchObject({ target: "eu", live: [{ versionId: expect.any(String), percentage: 100 }] });
    expect(daemon.requests.at(-1)).toMatchObject({ method: "GET", path: "/v1/status", authorized: true });
  });

  it("prints status as a plain table when stdout is not a terminal", async () => {
    const r = await cbo(["status"]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/\x1b\[/);
    expect(r.stdout).toMatch(/^WORKER\s+TARGET\s+LIVE\s+HEALTH$/m);
    expect(r.stdout).toMatch(/^good\s+eu\s+good-v\d+ 100%\s+healthy 2 ms$/m);
    expect(r.stdout).toMatch(/^last release:\n {2}good {6}/m);
  });

  it("a bad token exits 1 with ERR_UNAUTHORIZED, without the token or a stack", async () => {
    const r = await cbo(["status"], { CBO_TOKEN: "cbo_wrong_token_value" });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error ERR_UNAUTHORIZED: /);
    expect(r.stderr).toMatch(/hint: .*--token-file FILE, CBO_TOKEN_FILE or CBO_TOKEN/);
    expect(r.stderr + r.stdout).not.toContain("cbo_wrong_token_value");
    expect(r.stderr).not.toMatch(NO_STACK);
    // A missing token is refused the same way.
    const none = await runCbo(["status", "--url", daemon.url, "--data", cwd], { cwd });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^error ERR_UNAUTHORIZED: /);
  });

  it("a daemon that is down exits 2 with ERR_IO and a hint to start it", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const r = await cbo(["status"], { CBO_URL: url });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error ERR_IO: The daemon at ${url} is not answering.`);
    // Hints name the command as it runs after `npm install` (not on PATH): `npx cbo`.
    expect(r.stderr).toContain("hint: start it with `npx cbo up` or `npm start`");
    expect(r.stderr).not.toMatch(NO_STACK);
    const debug = await cbo(["status", "--debug"], { CBO_URL: url });
    expect(debug.code).toBe(2);
    expect(debug.stderr).toMatch(NO_STACK);
    // No daemon.json in the data directory: the same kind of error, naming the file.
    const missing = await runCbo(["status", "--data", cwd], { cwd });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`error ERR_IO: No daemon found: ${join(cwd, "daemon.json")} does not exist.`);
  });

  it("an unknown worker exits 1 with ERR_NOT_FOUND on every worker command", async () => {
    for (const args of [
      ["plan", "nope"],
      ["versions", "nope"],
      ["release", "nope"],
      ["rollback", "nope"],
    ]) {
      const r = await cbo(args);
      expect(r.code, args.join(" ")).toBe(1);
      expect(r.stderr, args.join(" ")).toMatch(/^error ERR_NOT_FOUND: No worker "nope"/);
      expect(r.stderr).not.toMatch(NO_STACK);
    }
  });

  it("usage errors exit 1 with the command's usage as the hint", async () => {
    const r = await cbo(["release"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error ERR_USAGE: Missing <worker>.");
    expect(r.stderr).toContain("hint: usage: cbo release <worker>");
    const flag = await cbo(["versions", "good", "--limit", "0"]);
    expect(flag.code).toBe(1);
    expect(flag.stderr).toMatch(/^error ERR_USAGE: --limit must be a whole number from 1 to 100/);
    const url = await cbo(["status", "--url", "ftp://x"]);
    expect(url.code).toBe(1);
    expect(url.stderr).toMatch(/^error ERR_USAGE: --url must be an http/);
    const help = await cbo(["rollback", "--help"]);
    expect([help.code, help.stdout.trim()]).toEqual([
      0,
      expect.stringMatching(/^usage: cbo rollback <worker> \[--to <release id\|version id>\]/),
    ]);
  });

  it("a viewer token may read but not release (ERR_FORBIDDEN, exit 1)", async () => {
    expect((await cbo(["status"], { CBO_TOKEN: VIEWER_TOKEN })).code).toBe(0);
    const r = await cbo(["release", "good"], { CBO_TOKEN: VIEWER_TOKEN });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error ERR_FORBIDDEN: /);
    expect(r.stderr).toMatch(/hint: .*deployer or admin/);
  });

  it("plan shows targets, live versions, waves, steps, actions and API calls", async () => {
    const r = await cbo(["plan", "good"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^eu\s+acct-eu\s+good-v\d+ 100%/m);
    expect(r.stdout).toContain("waves:  1) eu   2) us, ap   (canary first)");
    expect(r.stdout).toContain("steps:  10% -> 100% per target");
    expect(r.stdout).toContain("actions (15):");
    expect(r.stdout).toContain("    2. deploy eu at 10%");
    expect(r.stdout).toContain("Cloudflare API calls: 9 when every gate passes");
    const json = await cbo(["plan", "good", "--json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ worker: "good", apiCalls: 9, waves: [["eu"], ["us", "ap"]] });
  });

  it("versions lists the newest per target and marks the live one", async () => {
    const r = await cbo(["versions", "bad"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^eu\s+bad-v1\s+live\s+-/m);
    expect(r.stdout).toMatch(/^eu\s+bad-v2\s+rel_x/m);
    const one = await cbo(["versions", "bad", "--limit", "1", "--json"]);
    const rows = JSON.parse(one.stdout) as Array<{ target: string; versionId: string; live: boolean }>;
    expect(rows.map((v) => `${v.target}:${v.versionId}`)).toEqual(["eu:bad-v2", "us:bad-v2", "ap:bad-v2"]);
  });

  it("release follows a good release to the end: live progress, exit 0", async () => {
    const r = await cbo(["release", "good"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^release rel_\d+ of good started: waves \[eu\] -> \[us, ap\], steps 10% -> 100%$/);
    const progress = lines.slice(1, -1).map((l) => l.replace(/^\s+\d\d:\d\d:\d\d\s+/, ""));
    expect(progress).toContain("release created (9 Cloudflare API calls planned)");
    expect(progress.filter((l) => /step \d+% passed \(6 samples, 0 errors\)/.test(l))).toHaveLength(6);
    expect(progress.findIndex((l) => l.startsWith("eu     step 10% passed"))).toBeLessThan(
      progress.findIndex((l) => l.startsWith("us     step 10% passed")),
    );
    expect(lines.at(-1)).toMatch(/^release rel_\d+ succeeded after \d+\.\d s$/);
  });

  it("release of a version that fails its gate prints the failure and exits 3 (rolled back)", async () => {
    const r = await cbo(["release", "bad"]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/eu\s+step 10% FAILED: 3 probes failed in a row \(5 samples, 3 errors\)/);
    expect(r.stdout).toMatch(/rolling back eu: gate failed on eu at 10%/);
    // The automatic rollback's own rollback.completed did not end the follow early.
    expect(r.stdout.trimEnd().split("\n").at(-1)).toMatch(/^release rel_\d+ rolled back after \d+\.\d s: gate failed on eu at 10%$/);
  });

  it("release that fails for a system reason exits 2", async () => {
    const r = await cbo(["release", "broken"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/release rel_\d+ failed after .*: the Cloudflare API of eu is unreachable/);
  });

  it("release rolled back because the edge failed (not the version) exits 3 like any rollback: the outcome decides", async () => {
    const r = await cbo(["release", "outage"]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/eu\s+step FAILED: eu: the 10% step failed: Cloudflare is unreachable/);
    expect(r.stdout.trimEnd().split("\n").at(-1)).toMatch(
      /^release rel_\d+ rolled back after \d+\.\d s: eu: the 10% step failed; eu back on outage-v1$/,
    );
  });

  it("a release that ends without an end event the CLI knows still ends, from its record", async () => {
    const r = await cbo(["release", "recovered"]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/recovered after a restart: rolled back by recovery after a restart/);
    expect(r.stdout.trimEnd().split("\n").at(-1)).toMatch(
      /^release rel_\d+ rolled back after \d+\.\d s: rolled back by recovery after a restart$/,
    );
  });

  it("Ctrl-C stops following a release, not the release: exit 2 with a hint to follow it again", async () => {
    const child = startCbo(["release", "slow"], { cwd, env: { CBO_URL: daemon.url, CBO_TOKEN: ADMIN_TOKEN } });
    for (let i = 0; i < 400 && !/step 10% started/.test(child.output.stdout); i++) await new Promise((r) => setTimeout(r, 25));
    expect(child.output.stdout).toMatch(/eu\s+step 10% started/);
    child.kill("SIGINT");
    const done = await child.done;
    expect(done.code).toBe(2);
    expect(done.stdout.trimEnd().split("\n").at(-1)).toMatch(/^release (rel_\d+) running after \d+\.\d s$/);
    const id = /^release (rel_\d+) running/m.exec(done.stdout)![1]!;
    expect(done.stderr).toBe(`release ${id} goes on in the daemon; follow it with: npx cbo events --follow --release ${id}\n`);
    expect(daemon.releases.get(id)!.status).toBe("running");
  });

  it("release --json prints one document with the final record and its events", async () => {
    const r = await cbo(["release", "bad", "--json"]);
    expect(r.code).toBe(3);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    const doc = JSON.parse(lines[0]!) as {
      release: { id: string; status: string };
      events: Array<{ id: number; type: string; release_id: string }>;
    };
    expect(doc.release.status).toBe("rolled_back");
    expect(doc.events.map((e) => e.type)).toEqual([
      "release.created",
      "release.target.uploaded",
      "release.step.started",
      "release.step.failed",
      "release.rolling_back",
      "rollback.completed",
      "release.rolled_back",
    ]);
    expect(doc.events.every((e) => e.release_id === doc.release.id)).toBe(true);
    expect(doc.events.map((e) => e.id)).toEqual([...doc.events.map((e) => e.id)].sort((a, b) => a - b));
  });

  it("release --no-wait returns right after the POST", async () => {
    const r = await cbo(["release", "good", "--no-wait", "--json"]);
    expect(r.code).toBe(0);
    const { release } = JSON.parse(r.stdout) as { release: { id: string; status: string } };
    expect(release.status).toBe("running");
    expect(daemon.releases.get(release.id)).toBeDefined();
    const human = await cbo(["release", "good", "--no-wait"]);
    expect(human.stdout).toMatch(/follow it with: npx cbo events --follow --release rel_\d+/);
    await new Promise((r) => setTimeout(r, 500));
  });

  it("rollback --to sends the target version and follows to rollback.completed", async () => {
    const r = await cbo(["rollback", "good", "--to", "good-v1"]);
    expect(r.code).toBe(0);
    expect(daemon.requests.find((q) => q.method === "POST" && q.path === "/v1/workers/good/rollback")?.body).toEqual({ to: "good-v1" });
    expect(r.stdout).toMatch(/^rollback rel_\d+ of good to version good-v1 started$/m);
    expect(r.stdout).toMatch(/rollback to version good-v1 started/);
    expect(r.stdout).toMatch(/rollback completed: to version good-v1; eu on good-v1, us on good-v1, ap on good-v1/);
    expect(r.stdout.trimEnd().split("\n").at(-1)).toMatch(/^rollback rel_\d+ succeeded after \d+\.\d s: to version good-v1/);
    const status = JSON.parse((await cbo(["status", "--json"])).stdout);
    expect(status.workers[0].targets.map((t: { live: Array<{ versionId: string }> }) => t.live[0]!.versionId)).toEqual([
      "good-v1",
      "good-v1",
      "good-v1",
    ]);
  });

  it("events lists the log (human and --json), filtered by release", async () => {
    const all = await cbo(["events", "--json"]);
    const events = JSON.parse(all.stdout) as Array<{ id: number; release_id: string | null }>;
    expect(events.length).toBe(daemon.events.length);
    const some = daemon.events[3]!;
    const after = await cbo(["events", "--json", "--after", String(some.id), "--release", some.release_id!]);
    const filtered = JSON.parse(after.stdout) as Array<{ id: number; release_id: string }>;
    expect(filtered.length).toBeGreaterThan(0);
    expect(filtered.every((e) => e.id > some.id && e.release_id === some.release_id)).toBe(true);
    const human = await cbo(["events", "--after", String(some.id - 1), "--limit", "1"]);
    expect(human.stdout.trimEnd().split("\n")).toEqual([expect.stringMatching(new RegExp(`^#${some.id} \\d\\d:\\d\\d:\\d\\d `))]);
  });

  it("events --limit N shows the newest N, oldest first; --after N pages forward from #N", async () => {
    const newest = await cbo(["events", "--json", "--limit", "8"]);
    const ids = (JSON.parse(newest.stdout) as Array<{ id: number }>).map((e) => e.id);
    const all = daemon.events.map((e) => e.id);
    expect(all.length).toBeGreaterThan(8);
    expect(ids).toEqual(all.slice(-8));
    expect(daemon.requests.at(-1)).toMatchObject({ method: "GET", path: "/v1/events?after=0&limit=8&order=desc" });
    const forward = await cbo(["events", "--json", "--limit", "3", "--after", "2"]);
    expect((JSON.parse(forward.stdout) as Array<{ id: number }>).map((e) => e.id)).toEqual([3, 4, 5]);
    const human = await cbo(["events", "--limit", "2"]);
    expect(human.stdout.trimEnd().split("\n")).toHaveLength(2);
    expect(human.stdout).toContain(`#${all.at(-1)}`);
  });

  it("events --follow streams live events as JSON lines, resumes after a dropped connection, and stops on Ctrl-C", async () => {
    const start = daemon.events.length;
    const child = startCbo(["events", "--follow", "--json", "--after", String(start)], {
      cwd,
      env: { CBO_URL: daemon.url, CBO_TOKEN: ADMIN_TOKEN },
    });
    const lines = () =>
      child.output.stdout
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { id: number; type: string });
    const until = async (check: () => boolean) => {
      for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
      expect(check(), child.output.stderr).toBe(true);
    };
    // Wait until the follower is connected (it gets the first live event).
    for (let i = 0; i < 200 && lines().length === 0; i++) {
      daemon.emit({ type: "health.changed", release_id: null, worker: "good", target: "eu", data: { from: "healthy", to: "healthy" } });
      await new Promise((r) => setTimeout(r, 50));
      if (lines().length > 0) break;
    }
    await until(() => lines().length > 0);
    // The daemon drops the stream after the next message; what is emitted meanwhile must still arrive, once.
    daemon.dropStreamsAfter(1);
    for (let i = 0; i < 5; i++)
      daemon.emit({
        type: "health.changed",
        release_id: null,
        worker: "bad",
        target: "us",
        data: { from: "healthy", to: "unhealthy", n: i },
      });
    await until(() => lines().some((e) => e.id === daemon.events.at(-1)!.id));
    const ids = lines().map((e) => e.id);
    const expected = daemon.events.filter((e) => e.id > start && e.id <= ids.at(-1)!).map((e) => e.id);
    expect(ids).toEqual(expected);
    child.kill("SIGINT");
    const done = await child.done;
    expect(done.code).toBe(0);
    expect(done.stderr).toBe("");
  });

  it("events --follow against a daemon that is down fails at once with ERR_IO", async () => {
    const r = await cbo(["events", "--follow"], { CBO_URL: `http://127.0.0.1:${await freePort()}` });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error ERR_IO: The daemon at .* is not answering/);
  });

  it("events --follow with a bad token is refused at the upgrade with ERR_UNAUTHORIZED", async () => {
    const r = await cbo(["events", "--follow"], { CBO_TOKEN: "cbo_wrong" });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error ERR_UNAUTHORIZED: Missing or unknown bearer token/);
  });
});
