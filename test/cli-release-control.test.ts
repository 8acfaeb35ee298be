// `cbo release pause|resume|promote|abort` end to end (issue 15): the real `cbo` binary against the
// real daemon (startDaemon, in a child process of its own on a fixed port) over a real two-region
// local edge (waves eu, then us; steps 50%, {pause: approve}, 100%). A release started with
// `cbo release hello` waits at each wave's approval and its follow says so; a deployer's promote
// lets it go on (the follow exits 0), a viewer's is refused (exit 1, ERR_FORBIDDEN) and nothing
// moves; pause holds it until resume; abort rolls it back (the follow exits 3). Then the errors
// (an unknown release: exit 1; a daemon that does not answer: exit 2), and a daemon stopped during
// an approval wait or a pause: its next start goes on with the release, still waiting, still paused,
// an approval given before counted; one whose project changed meanwhile is rolled back, saying why.
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TargetRuntime } from "../src/targets/types.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { eventually } from "./support/http.ts";
import { edgeInfo, liveOf, localRuntimes, versionSource, writeFleet, type Fleet, fleetYaml } from "./support/orchestrator.ts";
import { freePort, startDaemonChild } from "./support/daemon-process.ts";
import { runCbo, startCbo, type CboRun } from "./support/run-cbo.ts";

const REGIONS = ["eu", "us"];
const WORKER = "hello";
const NO_STACK = /\n\s+at /;
const YAML = fleetYaml({
  regions: REGIONS,
  waves: [["eu"], ["us"]],
  steps: [50, { pause: "approve" }, 100],
  gate: { bake_ms: 300, min_samples: 4, interval_ms: 50, timeout_ms: 1000 },
  rollout: { analysis: { enabled: false } },
  workers: [WORKER],
});

type Control = {
  releaseId: string;
  paused: boolean;
  pausedBy: string | null;
  waiting: Array<{ target: string; kind: string; percent: number }>;
};

describe("cbo release pause|resume|promote|abort against the real daemon", () => {
  let t: TestEdge;
  let dir: string;
  let fleet: Fleet;
  let runtimes: Map<string, TargetRuntime>;
  let port: number;
  let url: string;
  let daemon: ChildProcess | undefined;
  let tokens: { admin: string; deployer: string; viewer: string };
  let n = 1;
  const masterKey = randomBytes(32).toString("base64");
  const data = () => join(dir, "data");

  async function startChild(): Promise<void> {
    const started = await startDaemonChild({ dataDir: data(), configFile: fleet.file, edge: edgeInfo(t.edge), port }, masterKey);
    daemon = started.child;
    url = started.url;
  }
  /** `cbo` as the holder of `token` (a deployer's by default), finding the daemon by its URL. */
  const cbo = (args: string[], token: string = tokens.deployer): Promise<CboRun> =>
    runCbo([...args, "--url", url], { env: { CBO_TOKEN: token }, timeoutMs: 60_000 });
  const follow = (token: string = tokens.deployer) => startCbo(["release", WORKER, "--url", url], { env: { CBO_TOKEN: token } });
  const control = async (id: string): Promise<Control> =>
    (await (await fetch(`${url}/v1/releases/${id}/control`, { headers: { authorization: `Bearer ${tokens.viewer}` } })).json()) as Control;
  const record = async (id: string) =>
    (
      (await (await fetch(`${url}/v1/releases/${id}`, { headers: { authorization: `Bearer ${tokens.viewer}` } })).json()) as {
        release: { status: string; reason: string | null };
      }
    ).release;
  /** The audit entries of `action` on release `id` (the API's search, as a deployer may run it). */
  const audited = async (action: string, id: string) =>
    (
      (await (await fetch(`${url}/v1/audit?action=${action}`, { headers: { authorization: `Bearer ${tokens.deployer}` } })).json()) as {
        items: Array<{ actor: string; target: string; outcome: string; details: Record<string, unknown> }>;
      }
    ).items.filter((e) => e.target === `release:${id}`);
  const live = async () =>
    Object.fromEntries(await Promise.all(REGIONS.map(async (r) => [r, await liveOf(runtimes.get(r)!, WORKER)] as const)));
  /** Waits until the follow's output shows `target` waiting for approval; returns the release id. */
  async function waitingFor(cli: ReturnType<typeof follow>, target: string): Promise<string> {
    await eventually(
      async () =>
        new RegExp(`${target}\\s+waiting at step 50%: approval: npx cbo release promote `).test(cli.output.stdout)
          ? true
          : Promise.reject(new Error(`${target} is not waiting for approval yet: ${cli.output.stdout}${cli.output.stderr}`)),
      60_000,
    );
    return /release ([0-9a-f-]{36}) of/.exec(cli.output.stdout)![1]!;
  }
  /** After a test: a release it left running is aborted, so that the next one may start. */
  async function settle(cli: ReturnType<typeof follow>): Promise<void> {
    if (cli.exitCode !== null) return;
    const id = /release ([0-9a-f-]{36}) of/.exec(cli.output.stdout)?.[1];
    if (id) await fetch(`${url}/v1/releases/${id}/abort`, { method: "POST", headers: { authorization: `Bearer ${tokens.deployer}` } });
    cli.kill("SIGKILL");
  }
  async function newVersion(): Promise<void> {
    await fleet.setSource(WORKER, versionSource(`v${++n}`));
  }

  beforeAll(async () => {
    t = await startTestEdge({ regions: REGIONS });
    dir = await makeTempDir("cli-release-control");
    fleet = await writeFleet(dir, YAML, { [WORKER]: versionSource("v1") });
    runtimes = localRuntimes(edgeInfo(t.edge), fleet.spec);
    port = await freePort();
    await startChild();
    const admin = readFileSync(join(data(), "admin-token"), "utf8").trim();
    const create = async (role: string) => {
      const r = await runCbo(["tokens", "create", "--name", role, "--role", role, "--url", url], { env: { CBO_TOKEN: admin } });
      expect(r.code, r.stderr).toBe(0);
      return r.stdout.trim();
    };
    tokens = { admin, deployer: await create("deployer"), viewer: await create("viewer") };
    // A first deploy has no approval to wait for: nothing serves yet, so it goes to 100% at once.
    const seed = await cbo(["release", WORKER]);
    expect(seed.code, seed.stdout + seed.stderr).toBe(0);
  }, 120_000);
  afterAll(async () => {
    daemon?.kill("SIGKILL");
    await t?.dispose();
  });

  it("a deployer's promote continues each wave (the follow exits 0); a viewer's is refused (exit 1, ERR_FORBIDDEN) and nothing moves", {
    timeout: 120_000,
  }, async () => {
    await newVersion();
    const cli = follow();
    try {
      const id = await waitingFor(cli, "eu");
      const split = await live();
      expect(split.eu!.map((s) => s.percentage)).toEqual([50, 50]);

      const refused = await cbo(["release", "promote", id], tokens.viewer);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^error ERR_FORBIDDEN: /);
      expect(refused.stderr).not.toMatch(NO_STACK);
      expect(refused.stderr + refused.stdout).not.toContain(tokens.viewer);
      const refusedJson = await cbo(["release", "promote", id, "--json"], tokens.viewer);
      expect(refusedJson.code).toBe(1);
      expect(JSON.parse(refusedJson.stdout)).toMatchObject({ error: { code: "ERR_FORBIDDEN" } });
      await new Promise((r) => setTimeout(r, 500));
      expect(await live()).toEqual(split);
      expect((await control(id)).waiting.map((w) => `${w.target}:${w.kind}`)).toEqual(["eu:approval"]);

      const promoted = await cbo(["release", "promote", id, "--reason", "canary looks fine"]);
      expect(promoted.stderr).toBe("");
      expect(promoted.code).toBe(0);
      expect(promoted.stdout).toBe(`release ${id}: promoted (eu)\n`);
      await waitingFor(cli, "us");
      expect(cli.output.stdout).toMatch(/promoted by deployer \(eu\): canary looks fine/);
      expect(cli.output.stdout).toMatch(/eu\s+approval at step 50% ended by deployer after \d+\.\d s/);

      const promotes = await audited("release.promote", id);
      expect(promotes.map((e) => [e.outcome, e.details.reason])).toEqual([["ok", "canary looks fine"]]);
      const json = await cbo(["release", "promote", id, "--json"]);
      expect(json.code, json.stderr).toBe(0);
      const body = JSON.parse(json.stdout) as { control: Control; promoted: string[] };
      expect(body.promoted).toEqual(["us"]);
      expect(body.control.releaseId).toBe(id);

      const done = await cli.done;
      expect(done.code, done.stdout + done.stderr).toBe(0);
      expect(done.stdout.trimEnd().split("\n").at(-1)).toMatch(new RegExp(`^release ${id} succeeded after \\d+\\.\\d s`));
      expect(Object.values(await live()).map((l) => l.length)).toEqual([1, 1]);
      // Nothing left to promote: the release has ended.
      const late = await cbo(["release", "promote", id]);
      expect(late.code).toBe(1);
      expect(late.stderr).toMatch(/^error ERR_CONFLICT: /);
    } finally {
      await settle(cli);
    }
  });

  it("pause holds the release before its next step until resume (text and --json)", { timeout: 120_000 }, async () => {
    await newVersion();
    const cli = follow();
    try {
      const id = await waitingFor(cli, "eu");
      const paused = await cbo(["release", "pause", id, "--reason", "hold on"]);
      expect(paused.code, paused.stderr).toBe(0);
      expect(paused.stdout).toMatch(
        new RegExp(`^release ${id}: paused; waiting: eu approval at 50%; go on with: (npx )?cbo release resume ${id}\n$`),
      );
      const again = await cbo(["release", "pause", id, "--json"]);
      expect(again.code).toBe(1);
      expect(JSON.parse(again.stdout)).toMatchObject({
        error: { code: "ERR_CONFLICT", message: expect.stringContaining("already paused") },
      });
      const viewer = await cbo(["release", "resume", id], tokens.viewer);
      expect([viewer.code, /^error ERR_FORBIDDEN: /.test(viewer.stderr)]).toEqual([1, true]);

      // The approval is granted, but the pause holds eu at 50% until resume.
      const promoted = await cbo(["release", "promote", id]);
      expect(promoted.code, promoted.stderr).toBe(0);
      expect(promoted.stdout).toMatch(/; still paused: (npx )?cbo release resume /);
      await eventually(
        async () => ((await control(id)).waiting.some((w) => w.kind === "manual") ? true : Promise.reject(new Error("no manual wait yet"))),
        30_000,
      );
      expect((await live()).eu).toHaveLength(2);

      const resumed = await cbo(["release", "resume", id, "--json"]);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(JSON.parse(resumed.stdout)).toMatchObject({ control: { releaseId: id, paused: false, pausedBy: null } });
      await waitingFor(cli, "us");
      expect(cli.output.stdout).toMatch(/paused by deployer: hold on/);
      expect(cli.output.stdout).toMatch(/resumed by deployer/);
      expect((await cbo(["release", "promote", id])).code).toBe(0);
      const done = await cli.done;
      expect(done.code, done.stdout + done.stderr).toBe(0);
    } finally {
      await settle(cli);
    }
  });

  it("abort while waiting for approval rolls back, and the follow exits 3", { timeout: 120_000 }, async () => {
    const before = await live();
    await newVersion();
    const cli = follow();
    try {
      const id = await waitingFor(cli, "eu");
      const aborted = await cbo(["release", "abort", id, "--json", "--reason", "wrong build"]);
      expect(aborted.code, aborted.stderr).toBe(0);
      expect(JSON.parse(aborted.stdout)).toMatchObject({
        release: { id, status: "aborted", reason: expect.stringMatching(/^aborted by deployer: wrong build; eu back on /) },
      });
      const done = await cli.done;
      expect(done.code, done.stdout + done.stderr).toBe(3);
      expect(done.stdout).toMatch(new RegExp(`release ${id} aborted after`));
      expect(await live()).toEqual(before);
      const entries = await audited("release.abort", id);
      expect(entries.map((e) => [e.outcome, e.details.reason])).toContainEqual(["ok", "wrong build"]);
      expect(entries[0]!.actor).toMatch(/^token:deployer:/);
      const again = await cbo(["release", "abort", id]);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/^error ERR_CONFLICT: Release \S+ has already ended \(aborted\)/);
    } finally {
      await settle(cli);
    }
  });

  it("an unknown release exits 1 (ERR_NOT_FOUND), and a daemon that does not answer exits 2 (ERR_IO)", { timeout: 60_000 }, async () => {
    const unknown = "00000000-0000-4000-8000-000000000000";
    for (const verb of ["pause", "resume", "promote", "abort"]) {
      const r = await cbo(["release", verb, unknown]);
      expect(r.code, `${verb}: ${r.stderr}`).toBe(1);
      expect(r.stderr, verb).toMatch(/^error ERR_NOT_FOUND: /);
      expect(r.stderr, verb).not.toMatch(NO_STACK);
      const json = await cbo(["release", verb, unknown, "--json"]);
      expect(json.code, verb).toBe(1);
      expect(JSON.parse(json.stdout), verb).toMatchObject({ error: { code: "ERR_NOT_FOUND" } });
    }
    // The verb without its id (no worker has that name): said as a missing id, not "no worker named pause".
    const bare = await cbo(["release", "pause"]);
    expect([bare.code, bare.stderr.split("\n")[0]]).toEqual([
      1,
      "error ERR_USAGE: Missing <release id>: cbo release pause takes the id of the release to pause.",
    ]);
    const nobody = `http://127.0.0.1:${await freePort()}`;
    for (const verb of ["pause", "promote", "abort"]) {
      const r = await runCbo(["release", verb, unknown, "--url", nobody], { env: { CBO_TOKEN: tokens.deployer } });
      expect(r.code, `${verb}: ${r.stderr}`).toBe(2);
      expect(r.stderr, verb).toMatch(/^error ERR_IO: /);
      expect(r.stderr, verb).not.toMatch(NO_STACK);
    }
  });

  /** Stops the daemon with `signal`, waits for the follow to notice, and starts it again on the same data. */
  async function restart(cli: ReturnType<typeof follow>, signal: NodeJS.Signals): Promise<void> {
    daemon!.kill(signal);
    await new Promise((r) => daemon!.once("exit", r));
    await eventually(
      async () =>
        /the daemon is not answering/.test(cli.output.stderr)
          ? true
          : Promise.reject(new Error(`the follow has not noticed: ${cli.output.stderr}`)),
      30_000,
    );
    await startChild();
  }
  const waits = async (id: string) => (await control(id)).waiting.map((w) => `${w.target}:${w.kind}:${w.percent}`);
  async function untilWaits(id: string, want: string[]): Promise<void> {
    await eventually(async () => {
      const now = await waits(id);
      return JSON.stringify(now) === JSON.stringify(want) ? true : Promise.reject(new Error(`waiting: ${now.join(", ")}`));
    }, 60_000);
  }

  // SIGKILL: a crash; SIGTERM: a clean stop (an upgrade, systemctl restart). Either way the release
  // that waited goes on at the next start, as a paused Argo rollout stays paused across a controller restart.
  for (const signal of ["SIGKILL", "SIGTERM"] as const)
    it(`a daemon stopped (${signal}) while the release waits for approval: the restarted daemon waits at the same approval, traffic untouched; promote goes on and the follow exits 0`, {
      timeout: 180_000,
    }, async () => {
      const before = await live();
      await newVersion();
      const cli = follow();
      try {
        const id = await waitingFor(cli, "eu");
        const split = await live();
        expect(split.eu!.map((s) => s.percentage)).toEqual([50, 50]);
        await restart(cli, signal);
        await untilWaits(id, ["eu:approval:50"]);
        expect((await record(id)).status).toBe("running");
        expect(await live()).toEqual(split);
        // `cbo status` says why eu serves a split, and what lets it go on.
        const status = await cbo(["status"]);
        expect(status.code, status.stderr).toBe(0);
        expect(status.stdout).toMatch(/^hello\s+eu\s+\S+ 50% \+ \S+ 50% \(waits: approval\)/m);
        expect(status.stdout).toContain(`  hello/eu  release ${id} at step 50%: waits for approval (cbo release promote ${id})`);

        const promoted = await cbo(["release", "promote", id]);
        expect(promoted.code, promoted.stderr).toBe(0);
        expect(promoted.stdout).toBe(`release ${id}: promoted (eu)\n`);
        await untilWaits(id, ["us:approval:50"]);
        expect((await cbo(["release", "promote", id])).code).toBe(0);
        const done = await cli.done;
        expect(done.code, done.stdout + done.stderr).toBe(0);
        expect(done.stdout).toMatch(
          /goes on after a restart: daemon restarted while the release waited; it goes on where it was: eu after its 50% step/,
        );
        const r = await record(id);
        expect(r.status, r.reason ?? "").toBe("succeeded");
        // eu serves the version it had at 50% (the one uploaded before the restart), us the same code.
        const fresh = split.eu!.find((x) => x.versionId !== before.eu![0]!.versionId)!.versionId;
        const now = await live();
        expect(now.eu).toEqual([{ versionId: fresh, percentage: 100 }]);
        expect(now.us).toHaveLength(1);
        expect(now.us![0]!.versionId).not.toBe(before.us![0]!.versionId);
      } finally {
        await settle(cli);
      }
    });

  it("a release resumed after a restart can still be aborted while it waits: every touched target goes back, the follow exits 3", {
    timeout: 180_000,
  }, async () => {
    const before = await live();
    await newVersion();
    const cli = follow();
    try {
      const id = await waitingFor(cli, "eu");
      await restart(cli, "SIGKILL");
      await untilWaits(id, ["eu:approval:50"]);
      const aborted = await cbo(["release", "abort", id, "--json", "--reason", "not after all"]);
      expect(aborted.code, aborted.stderr).toBe(0);
      expect(JSON.parse(aborted.stdout)).toMatchObject({
        release: { id, status: "aborted", reason: expect.stringMatching(/^aborted by deployer: not after all; eu back on /) },
      });
      const done = await cli.done;
      expect(done.code, done.stdout + done.stderr).toBe(3);
      expect(await live()).toEqual(before);
    } finally {
      await settle(cli);
    }
  });

  it("a pause, and an approval given during it, survive kill -9: the restarted daemon holds the release paused, and resume goes on without asking that approval again", {
    timeout: 180_000,
  }, async () => {
    await newVersion();
    const cli = follow();
    try {
      const id = await waitingFor(cli, "eu");
      expect((await cbo(["release", "pause", id, "--reason", "freeze"])).code).toBe(0);
      expect((await cbo(["release", "promote", id, "--reason", "canary fine"])).code).toBe(0);
      // Approved, but held by the pause before its 100% step.
      await untilWaits(id, ["eu:manual:50"]);
      const split = await live();
      await restart(cli, "SIGKILL");
      // Still paused, by whom it was; eu waits for the resume, not for the approval it was given.
      await untilWaits(id, ["eu:manual:50"]);
      expect(await control(id)).toMatchObject({ paused: true, pausedBy: "deployer" });
      expect((await cbo(["status"])).stdout).toContain(`  hello  release ${id} paused by deployer (cbo release resume ${id})`);
      expect(await live()).toEqual(split);
      const promoteAgain = await cbo(["release", "promote", id]);
      expect(promoteAgain.code).toBe(1);
      expect(promoteAgain.stderr).toMatch(/^error ERR_CONFLICT: Release \S+ is not waiting for an approval/);

      const resumed = await cbo(["release", "resume", id]);
      expect(resumed.code, resumed.stderr).toBe(0);
      await untilWaits(id, ["us:approval:50"]);
      expect((await live()).eu).toHaveLength(1);
      expect((await cbo(["release", "promote", id])).code).toBe(0);
      const done = await cli.done;
      expect(done.code, done.stdout + done.stderr).toBe(0);
      // The audit trail holds what people did, once each: the restart promoted nothing.
      const promotes = await audited("release.promote", id);
      expect(promotes.filter((e) => e.outcome === "ok").map((e) => e.details.reason ?? null)).toEqual([null, "canary fine"]);
      expect((await audited("release.pause", id)).map((e) => e.details.reason)).toEqual(["freeze"]);
    } finally {
      await settle(cli);
    }
  });

  it("a release that waited but whose project changed before the restart is rolled back, and says why it could not go on; the follow exits 3", {
    timeout: 180_000,
  }, async () => {
    const before = await live();
    await newVersion();
    const cli = follow();
    try {
      const id = await waitingFor(cli, "eu");
      daemon!.kill("SIGKILL");
      await new Promise((r) => daemon!.once("exit", r));
      await newVersion();
      await startChild();
      const done = await cli.done;
      expect(done.code, done.stdout + done.stderr).toBe(3);
      const r = await record(id);
      expect(r.status, r.reason ?? "").toBe("rolled_back");
      expect(r.reason).toMatch(
        /^daemon restarted while eu waited for approval at step 50% \(it could not go on: the project changed since the release planned it \(the bundle of eu, us is not the one planned\); release again\); rolled back: eu rolled back to /,
      );
      expect(await live()).toEqual(before);
      expect((await control(id)).waiting).toEqual([]);
    } finally {
      await settle(cli);
    }
  });
});
