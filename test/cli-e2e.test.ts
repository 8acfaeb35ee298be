// `cbo` end to end: the real binary as a child process against the real API (Hono on 127.0.0.1),
// the real release engine and monitor, a real SQLite store and a real three-region local edge.
// What the CLI says is checked against what the regions serve over HTTP.
import { writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApi, startApiServer, type ApiServer } from "../src/api/index.ts";
import { createEngine } from "../src/deploy/index.ts";
import type { Engine } from "../src/deploy/types.ts";
import type { TargetRuntime } from "../src/targets/types.ts";
import { createMonitor, type Monitor } from "../src/monitor/index.ts";
import { createStore, type Store } from "../src/store/index.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { edgeInfo, fleetYaml, liveOf, localRuntimes, servedTags, versionSource, writeFleet, type Fleet } from "./support/orchestrator.ts";
import { runCbo, type CboRun } from "./support/run-cbo.ts";
import type { Security } from "../src/security/open-security.ts";
import { openTestSecurity } from "./support/api-fixtures.ts";

const REGIONS = ["eu", "us", "ap"];
const GATE = { probe_path: "/", interval_ms: 50, timeout_ms: 1000, failure_limit: 3, max_error_rate: 0.05, bake_ms: 300, min_samples: 4 };

type Status = {
  workers: Array<{
    name: string;
    targets: Array<{ target: string; live: Array<{ versionId: string; percentage: number }>; health: { status: string } | null }>;
    lastRelease: { id: string; status: string } | null;
  }>;
};
type Release = { id: string; status: string; kind: string; reason: string | null };
type Event = { id: number; type: string; release_id: string; target: string | null };

describe("cbo against the real daemon parts", () => {
  let t: TestEdge;
  let dir: string;
  let fleet: Fleet;
  let store: Store;
  let runtimes: Map<string, TargetRuntime>;
  let engine: Engine;
  let monitor: Monitor;
  let server: ApiServer;
  let security: Security;
  const port = (region: string) => t.edge.region(region).port;
  // The CLI finds the daemon as users do: through the files the daemon writes into its data directory.
  const cbo = (args: string[]): Promise<CboRun> => runCbo([...args, "--data", join(dir, "data")], { cwd: dir, timeoutMs: 60_000 });
  const liveById = async () =>
    Object.fromEntries(await Promise.all(REGIONS.map(async (r) => [r, await liveOf(runtimes.get(r)!, "hello")] as const)));

  beforeAll(async () => {
    t = await startTestEdge({ regions: REGIONS });
    dir = await makeTempDir("cli-e2e");
    fleet = await writeFleet(dir, fleetYaml({ workers: ["hello"], steps: [50, 100], waves: [["eu"], ["us", "ap"]], gate: GATE }), {
      hello: versionSource("v1"),
    });
    const spec = fleet.spec;
    runtimes = localRuntimes(edgeInfo(t.edge), spec);
    store = createStore(join(dir, "data", "orchestrator.sqlite"));
    for (const target of spec.targets) {
      store.catalog.upsertTarget({
        tenant: spec.tenant,
        name: target.name,
        api: "local",
        account_id: runtimes.get(target.name)!.accountId,
        region: target.name,
        jurisdiction: null,
        kv_namespace: null,
      });
    }
    engine = createEngine({ store, spec: () => spec, targets: () => runtimes });
    monitor = createMonitor({ store, spec: () => spec, targets: () => runtimes, intervalMs: 200, timeoutMs: 1000 });
    security = await openTestSecurity(store);
    const api = createApi({ store, engine, monitor, security, spec: () => spec, targets: () => runtimes, observeCacheMs: 0 });
    server = await startApiServer({ api, port: 0 });
    const { token } = store.tokens.create({ name: "cli e2e admin", role: "admin" });
    writeFileSync(join(dir, "data", "daemon.json"), JSON.stringify({ url: server.url, pid: process.pid }));
    writeFileSync(join(dir, "data", "admin-token"), token + "\n", { mode: 0o600 });
  });
  afterAll(async () => {
    monitor?.stop();
    await engine?.close();
    await server?.close();
    await security?.stop();
    store?.close();
    await t?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  let firstRelease: Release;
  let goodVersions: Record<string, string>;

  it("releases a first and a second version to every region (exit 0)", async () => {
    const first = await cbo(["release", "hello", "--json"]);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    firstRelease = (JSON.parse(first.stdout) as { release: Release }).release;
    expect(firstRelease.status).toBe("succeeded");
    for (const r of REGIONS) expect(await servedTags(port(r), "hello", 5)).toEqual(new Set(["v1"]));

    monitor.start();
    await fleet.setSource("hello", versionSource("v2"));
    const second = await cbo(["release", "hello"]);
    expect(second.stderr).toBe("");
    expect(second.code).toBe(0);
    const lines = second.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^release \S+ of hello started: waves \[eu\] -> \[us, ap\], steps 50% -> 100%$/);
    for (const r of REGIONS) {
      expect(second.stdout).toMatch(new RegExp(`${r}\\s+uploaded version \\S+`));
      expect(second.stdout).toMatch(new RegExp(`${r}\\s+step 50% passed \\(\\d+ samples, 0 errors, 0% error rate\\)`));
      expect(second.stdout).toMatch(new RegExp(`${r}\\s+step 100% passed`));
    }
    expect(lines.at(-1)).toMatch(/^release \S+ succeeded after \d+\.\d s: every step passed on eu, us, ap$/);
    for (const r of REGIONS) expect(await servedTags(port(r), "hello", 5)).toEqual(new Set(["v2"]));
    const live = await liveById();
    goodVersions = Object.fromEntries(REGIONS.map((r) => [r, live[r]![0]!.versionId]));
    expect(REGIONS.map((r) => live[r])).toEqual(REGIONS.map((r) => [{ versionId: goodVersions[r], percentage: 100 }]));
  });

  it("plan shows what the next release will do, changing nothing", async () => {
    const before = await liveById();
    const r = await cbo(["plan", "hello"]);
    expect(r.code).toBe(0);
    for (const region of REGIONS)
      expect(r.stdout).toMatch(new RegExp(`^${region}\\s+[0-9a-f]{32}\\s+${goodVersions[region]} 100%\\s+${goodVersions[region]}$`, "m"));
    expect(r.stdout).toContain("waves:  1) eu   2) us, ap   (canary first)");
    expect(r.stdout).toMatch(/Cloudflare API calls: \d+ when every gate passes/);
    const json = JSON.parse((await cbo(["plan", "hello", "--json"])).stdout) as { apiCalls: number; actions: unknown[] };
    expect(r.stdout).toContain(`Cloudflare API calls: ${json.apiCalls} `);
    expect(r.stdout).toContain(`actions (${json.actions.length}):`);
    expect(await liveById()).toEqual(before);
  });

  it("a bad version fails the canary gate: exit 3 (rolled back), every region serves the previous version, and status, events and the journal agree", async () => {
    await fleet.setSource("hello", versionSource("v3", { failRate: 1 }));
    const r = await cbo(["release", "hello"]);
    // 3: the release rolled back (not 1, a user error; not 2, a system error): CI can tell them apart.
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/eu\s+step 50% FAILED: /);
    expect(r.stdout).toMatch(/rolling back eu: gate failed on eu at 50%/);
    // us and ap were never reached: no upload, no step.
    expect(r.stdout).not.toMatch(/^\s+\S+\s+(us|ap)\s/m);
    const end = r.stdout.trimEnd().split("\n").at(-1)!;
    expect(end).toMatch(/^release (\S+) rolled back after \d+\.\d s: gate failed on eu at 50%: .*eu back on /);
    const releaseId = /^release (\S+) rolled back/.exec(end)![1]!;

    for (const region of REGIONS) expect(await servedTags(port(region), "hello", 10)).toEqual(new Set(["v2"]));
    expect(await liveById()).toEqual(
      Object.fromEntries(REGIONS.map((region) => [region, [{ versionId: goodVersions[region], percentage: 100 }]])),
    );

    const status = JSON.parse((await cbo(["status", "--json"])).stdout) as Status;
    const hello = status.workers.find((w) => w.name === "hello")!;
    expect(hello.lastRelease).toMatchObject({ id: releaseId, status: "rolled_back" });
    expect(hello.targets.map((x) => [x.target, x.live])).toEqual(
      REGIONS.map((region) => [region, [{ versionId: goodVersions[region], percentage: 100 }]]),
    );

    const events = JSON.parse((await cbo(["events", "--json", "--release", releaseId])).stdout) as Event[];
    expect(events.map((e) => e.type)).toEqual([
      "release.created",
      "release.target.uploaded",
      "release.step.started",
      "release.step.failed",
      "release.rolling_back",
      "release.rolled_back",
    ]);
    expect(events.filter((e) => e.target !== null).every((e) => e.target === "eu")).toBe(true);
    const journal = store.releases.entries(releaseId);
    expect(new Set(journal.flatMap((e) => (e.target ? [e.target] : [])))).toEqual(new Set(["eu"]));
    expect(store.releases.get(releaseId)!.status).toBe("rolled_back");

    const human = await cbo(["status"]);
    expect(human.stdout).toMatch(new RegExp(`^hello\\s+eu\\s+${goodVersions.eu} 100%\\s+(healthy|unhealthy|unknown)`, "m"));
    expect(human.stdout).toMatch(new RegExp(`^  hello  release ${releaseId} rolled_back \\d+ s ago: gate failed on eu at 50%`, "m"));
  });

  it("versions marks the live version of each region; rollback --to an earlier release returns every region to it (exit 0)", async () => {
    const versions = JSON.parse((await cbo(["versions", "hello", "--json"])).stdout) as Array<{
      target: string;
      versionId: string;
      live: boolean;
      releaseId: string | null;
    }>;
    for (const region of REGIONS)
      expect(versions.filter((v) => v.target === region && v.live).map((v) => v.versionId)).toEqual([goodVersions[region]]);
    const human = await cbo(["versions", "hello"]);
    expect(human.stdout).toMatch(new RegExp(`^eu\\s+${goodVersions.eu}\\s+live\\s`, "m"));
    const firstIds = Object.fromEntries(versions.filter((v) => v.releaseId === firstRelease.id).map((v) => [v.target, v.versionId]));
    expect(Object.keys(firstIds).sort()).toEqual([...REGIONS].sort());

    const r = await cbo(["rollback", "hello", "--to", firstRelease.id]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^rollback \\S+ of hello to the versions release ${firstRelease.id} shipped started$`, "m"));
    expect(r.stdout.trimEnd().split("\n").at(-1)).toMatch(/^rollback \S+ succeeded after \d+\.\d s: /);
    for (const region of REGIONS) expect(await servedTags(port(region), "hello", 5)).toEqual(new Set(["v1"]));
    const status = JSON.parse((await cbo(["status", "--json"])).stdout) as Status;
    const hello = status.workers.find((w) => w.name === "hello")!;
    expect(hello.targets.map((x) => x.live)).toEqual(REGIONS.map((region) => [{ versionId: firstIds[region], percentage: 100 }]));
    expect(hello.lastRelease?.status).toBe("succeeded");
    // The monitor has been probing all along: every region turns (or stays) healthy on v1.
    let health = hello.targets.map((x) => x.health?.status);
    for (let i = 0; i < 10 && health.some((h) => h !== "healthy"); i++) {
      const again = JSON.parse((await cbo(["status", "--json"])).stdout) as Status;
      health = again.workers.find((w) => w.name === "hello")!.targets.map((x) => x.health?.status);
    }
    expect(health).toEqual(["healthy", "healthy", "healthy"]);
  });

  it("the real API's refusals come out as the right codes and exit 1, without stacks", async () => {
    const unknown = await cbo(["release", "nope"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error ERR_NOT_FOUND: /);
    const badToken = await runCbo(["status"], { cwd: dir, env: { CBO_URL: server.url, CBO_TOKEN: "cbo_not_a_real_token" } });
    expect(badToken.code).toBe(1);
    expect(badToken.stderr).toMatch(/^error ERR_UNAUTHORIZED: /);
    expect(badToken.stderr).not.toContain("cbo_not_a_real_token");
    // The event stream refuses a bad token after the upgrade (close 1008): final, no reconnect loop.
    const t0 = Date.now();
    const badStream = await runCbo(["events", "--follow"], {
      cwd: dir,
      env: { CBO_URL: server.url, CBO_TOKEN: "cbo_not_a_real_token" },
      timeoutMs: 20_000,
    });
    expect(badStream.code).toBe(1);
    expect(badStream.stderr).toMatch(/^error ERR_UNAUTHORIZED: /);
    expect(badStream.stderr).not.toContain("cbo_not_a_real_token");
    expect(Date.now() - t0).toBeLessThan(10_000);
    for (const out of [unknown, badToken, badStream]) expect(out.stderr).not.toMatch(/\n\s+at /);
  });
});
