// Script settings outside versions (crons, routes, workers.dev, observability, logpush, a queue
// consumer) released by the engine on a real three-region local edge: applied after each target's
// 100% step, planned as a diff of current against desired, counted in the plan's request count,
// put back with the code when a later wave fails (only on targets the release changed), brought
// back by `cbo rollback`, and restored by recovery when the daemon dies after changing them.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEngine } from "../src/deploy/index.ts";
import type { Engine } from "../src/deploy/types.ts";
import { parseSpec, resolveSpec, type ResolvedSpec } from "../src/config/load.ts";
import { createStore, type Release, type Store } from "../src/store/index.ts";
import type { TargetRuntime } from "../src/targets/types.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { edgeInfo, liveOf, localRuntimes, versionSource, writeFleet, type Fleet } from "./support/orchestrator.ts";

const REGIONS = ["eu", "us", "ap"];
const GATE = { interval_ms: 40, bake_ms: 250, min_samples: 3, failure_limit: 2, max_error_rate: 0.05, timeout_ms: 2000 };

type Settings = { cron: string; batch: number; observability: boolean };
const yaml = (s: Settings) =>
  [
    "targets: [{ name: eu, api: local }, { name: us, api: local }, { name: ap, api: local }]",
    "rollout:",
    "  waves: [[eu], [us], [ap]]",
    "  steps: [50, 100]",
    `  gate: ${JSON.stringify(GATE)}`,
    "workers:",
    "  - name: jobs",
    "    main: jobs.js",
    '    compatibility_date: "2025-01-01"',
    "    queues: { producers: { JOBS: jobs }, consumers: [{ queue: jobs, max_batch_size: " + s.batch + " }] }",
    `    crons: ["${s.cron}"]`,
    "    routes: [jobs.example.com/*]",
    "    workers_dev: true",
    `    observability: { enabled: ${s.observability}, head_sampling_rate: 0.5 }`,
    "    logpush: true",
    "    tail_consumers: [{ service: jobs-tail }]",
    "    placement: { mode: smart }",
    "    limits: { cpu_ms: 100 }",
  ].join("\n") + "\n";

const A: Settings = { cron: "*/5 * * * *", batch: 5, observability: true };
const B: Settings = { cron: "0 * * * *", batch: 10, observability: false };
const C: Settings = { cron: "0 0 * * *", batch: 20, observability: true };

describe("script settings released, diffed, rolled back and recovered with the code", () => {
  let t: TestEdge;
  let store: Store;
  let fleet: Fleet;
  let spec: ResolvedSpec;
  let runtimes: Map<string, TargetRuntime>;
  let engine: Engine;
  let requests = 0;

  const setSpec = async (s: Settings, tag: string) => {
    const text = yaml(s);
    const { writeFile } = await import("node:fs/promises");
    await writeFile(fleet.file, text);
    spec = resolveSpec(parseSpec(text, fleet.file), fleet.file);
    await fleet.setSource("jobs", versionSource(tag));
  };
  const release = async (e: Engine = engine): Promise<Release> => e.wait((await e.release("jobs", { by: "test" })).id);
  async function settingsOf(
    region: string,
  ): Promise<Settings & { routes: string[]; workersDev: boolean; logpush: boolean | null | undefined; tail: string[] }> {
    const c = runtimes.get(region)!.client;
    const q = await c.getQueueByName("jobs");
    const consumer = q?.consumers?.find((x) => x.script === "jobs");
    const s = await c.getScriptSettings("jobs");
    return {
      cron: (await c.getSchedules("jobs")).map((x) => x.cron).join(","),
      batch: Number((consumer?.settings as { batch_size?: number } | undefined)?.batch_size),
      observability: (s.observability as { enabled?: boolean } | null)?.enabled === true,
      routes: (await c.getScriptRoutes("jobs")).map((r) => r.pattern),
      workersDev: (await c.getScriptSubdomain("jobs")).enabled,
      logpush: s.logpush,
      tail: (s.tail_consumers ?? []).map((x) => x.service),
    };
  }
  const expectSettings = async (region: string, s: Settings) =>
    expect(await settingsOf(region), region).toEqual({
      ...s,
      routes: ["jobs.example.com/*"],
      workersDev: true,
      logpush: true,
      tail: ["jobs-tail"],
    });

  beforeAll(async () => {
    t = await startTestEdge({ regions: REGIONS });
    const dir = await makeTempDir("settings");
    fleet = await writeFleet(dir, yaml(A), { jobs: versionSource("v1") });
    spec = fleet.spec;
    runtimes = localRuntimes(edgeInfo(t.edge), spec, { onRequest: () => (requests += 1) });
    store = createStore(`${dir}/state.db`);
    engine = createEngine({ store, spec: () => spec, targets: () => runtimes });
  });
  afterAll(async () => {
    await engine?.close();
    store?.close();
    await t?.dispose();
  });

  it("applies every managed setting after the 100% step, in the requests the plan counted", { timeout: 60_000 }, async () => {
    requests = 0;
    const r = await release();
    expect(r.status, r.reason ?? "").toBe("succeeded");
    expect(requests).toBe((r.plan as { apiCalls: number }).apiCalls);
    for (const region of REGIONS) {
      await expectSettings(region, A);
      // The version carries them too (placement and limits only there), as wrangler deploy sends them.
      const v = await runtimes.get(region)!.client.getVersionSettings("jobs");
      expect(v).toMatchObject({
        logpush: true,
        observability: { enabled: true, head_sampling_rate: 0.5 },
        tail_consumers: [{ service: "jobs-tail" }],
        placement: { mode: "smart" },
        limits: { cpu_ms: 100 },
      });
    }
  });

  it("plans the settings as a diff, and a later wave's failure puts the earlier targets' settings back with their code", {
    timeout: 60_000,
  }, async () => {
    await setSpec(B, "v2");
    const plan = await engine.plan("jobs");
    const eu = plan.targets.find((x) => x.name === "eu")!;
    expect(eu.settings?.map((s) => [s.setting, s.change])).toEqual([
      ["crons", true],
      ["routes", false],
      ["workersDev", false],
      ["logpush", false],
      ["observability", true],
      ["tailConsumers", false],
      ["consumers", true],
    ]);
    expect(eu.settings?.find((s) => s.setting === "crons")).toMatchObject({ current: [A.cron], desired: [B.cron] });
    expect(eu.phases?.find((p) => p.phase === "settings")?.summary).toBe("after the 100% step: set crons, observability, consumers");

    const v1 = Object.fromEntries(await Promise.all(REGIONS.map(async (x) => [x, (await liveOf(runtimes.get(x)!, "jobs"))[0]!.versionId])));
    await t.edge.setFault("us", { errorRate: 1 });
    const r = await release().finally(() => t.edge.setFault("us", null));
    expect(r.status, r.reason ?? "").toBe("rolled_back");
    expect(r.reason).toContain(`eu back on ${v1.eu}, settings crons, observability, consumers restored`);
    for (const region of REGIONS) {
      expect(await liveOf(runtimes.get(region)!, "jobs")).toEqual([{ versionId: v1[region], percentage: 100 }]);
      await expectSettings(region, A);
    }
  });

  it("cbo rollback brings back the settings recorded for the release it returns to", { timeout: 60_000 }, async () => {
    const r = await release();
    expect(r.status, r.reason ?? "").toBe("succeeded");
    for (const region of REGIONS) await expectSettings(region, B);
    const back = await engine.wait((await engine.rollback("jobs", { by: "test" })).id);
    expect(back.status, back.reason ?? "").toBe("succeeded");
    expect(back.reason).toContain("(settings crons, observability, consumers back)");
    for (const region of REGIONS) await expectSettings(region, A);
    // And forward again to the release itself: its settings with it.
    const again = await engine.wait((await engine.rollback("jobs", { to: r.id, by: "test" })).id);
    expect(again.status, again.reason ?? "").toBe("succeeded");
    for (const region of REGIONS) await expectSettings(region, B);
  });

  it("a daemon killed after changing a target's settings: recovery rolls the code back and puts the settings back", {
    timeout: 60_000,
  }, async () => {
    await setSpec(C, "v3");
    const before = (await liveOf(runtimes.get("eu")!, "jobs"))[0]!.versionId;
    const daemon = createEngine({ store, spec: () => spec, targets: () => runtimes });
    let stopped: Promise<void> | undefined;
    const off = store.events.subscribe((e) => {
      if (e.worker === "jobs" && e.type === "release.phase.done" && e.data.phase === "settings" && e.target === "eu")
        stopped ??= daemon.close();
    });
    const halted = await release(daemon);
    off();
    await stopped;
    expect(store.releases.get(halted.id)!.status, "halted, not finished").toBe("running");
    await expectSettings("eu", C);
    await engine.recover();
    const r = store.releases.get(halted.id)!;
    expect(r.status, r.reason ?? "").toBe("rolled_back");
    expect(r.reason).toContain(`eu rolled back to ${before} (script settings restored)`);
    for (const region of REGIONS) await expectSettings(region, B);
  });
  it("an abort as the last target writes its settings still rolls every target back, settings too (not ignored as the release finishes)", {
    timeout: 60_000,
  }, async () => {
    await setSpec(A, "v4");
    const before = Object.fromEntries(
      await Promise.all(REGIONS.map(async (x) => [x, (await liveOf(runtimes.get(x)!, "jobs"))[0]!.versionId])),
    );
    let aborting: Promise<Release> | undefined;
    const off = store.events.subscribe((e) => {
      if (e.worker === "jobs" && e.type === "release.phase.done" && e.data.phase === "settings" && e.target === "ap" && e.release_id)
        aborting ??= engine.abort(e.release_id, { by: "ops", reason: "stop" });
    });
    const r = await release().finally(off);
    expect(aborting).toBeDefined();
    expect((await aborting)!.id).toBe(r.id);
    expect(r.status, r.reason ?? "").toBe("aborted");
    expect(r.reason).toMatch(/^aborted by ops: stop; /);
    for (const region of REGIONS) {
      expect(await liveOf(runtimes.get(region)!, "jobs")).toEqual([{ versionId: before[region], percentage: 100 }]);
      // What they had before it: the settings the recovery above put back.
      await expectSettings(region, B);
    }
  });
});
