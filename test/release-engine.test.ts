// The release engine against a real three-region local edge (eu, us, ap): waves, steps and gates
// on real probes, automatic rollback of touched regions only, a region outage mid-release, and
// `rollback --to`. What a region serves is checked over HTTP and through the API, never from our
// own records alone.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEngine } from "../src/deploy/index.ts";
import type { Engine } from "../src/deploy/types.ts";
import type { TargetRuntime } from "../src/targets/types.ts";
import { isCboError } from "../src/kit/errors.ts";
import { createStore, type Release, type Store, type StoredEvent } from "../src/store/index.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { getWorker } from "./support/http.ts";
import { workerSource } from "./support/worker-source.ts";
import {
  edgeInfo,
  fleetYaml,
  liveOf,
  localRuntimes,
  SHORT_RETRY,
  servedTags,
  versionIdsOf,
  versionSource,
  writeFleet,
  type Fleet,
} from "./support/orchestrator.ts";

const GATE = { interval_ms: 50, bake_ms: 500, min_samples: 5, failure_limit: 3, max_error_rate: 0.05, timeout_ms: 2000 };
const REGIONS = ["eu", "us", "ap"];

describe("release engine on a 3-region local edge", () => {
  let t: TestEdge;
  let dir: string;
  let store: Store;
  let runtimes: Map<string, TargetRuntime>;
  let fleet: Fleet;
  let engine: Engine;
  const port = (region: string) => t.edge.region(region).port;

  beforeAll(async () => {
    t = await startTestEdge({ regions: REGIONS });
    dir = await makeTempDir("release");
    const workers = ["good", "bad", "flaky", "outage", "back", "misc", "bound", "fresh", "firstbad"];
    const perWorker = {
      // 30% failures need enough probes to be seen for sure: 0.7^40 ≈ 6e-7 that 40 probes all pass.
      flaky: { rollout: { gate: { ...GATE, interval_ms: 25, bake_ms: 1000 } } },
      // One region per wave, so that "the region not yet reached" is well defined.
      outage: { rollout: { waves: [["eu"], ["us"], ["ap"]] } },
      bound: { vars: { GREETING: "hello" }, kv: { MY_KV: "bound-config" }, version_metadata: "VM" },
    };
    const sources = Object.fromEntries(workers.map((w) => [w, versionSource("v1")]));
    fleet = await writeFleet(dir, fleetYaml({ workers, steps: [10, 50, 100], gate: GATE, perWorker }), sources);
    const spec = fleet.spec;
    // us held out (the outage case): each failing call retries on a short backoff.
    runtimes = localRuntimes(edgeInfo(t.edge), spec, { retry: SHORT_RETRY });
    store = createStore(`${dir}/state.db`);
    engine = createEngine({ store, spec: () => spec, targets: () => runtimes });
  });
  afterAll(async () => {
    await engine?.close();
    store?.close();
    await t?.dispose();
  });

  const releaseAndWait = async (worker: string): Promise<Release> => engine.wait((await engine.release(worker, { by: "test" })).id);
  const eventsOf = (id: string): StoredEvent[] => store.events.list({ releaseId: id });
  const journalOf = (id: string) => store.releases.entries(id);

  /** Releases `tag` and asserts it succeeded; returns the version id per region. */
  async function shipGood(worker: string, tag: string): Promise<Record<string, string>> {
    await fleet.setSource(worker, versionSource(tag));
    const r = await releaseAndWait(worker);
    expect(r.status, r.reason ?? "").toBe("succeeded");
    const out: Record<string, string> = {};
    for (const region of REGIONS) {
      const live = await liveOf(runtimes.get(region)!, worker);
      expect(live).toHaveLength(1);
      out[region] = live[0]!.versionId;
    }
    return out;
  }

  async function expectServes(worker: string, versions: Record<string, string>, tag: string) {
    for (const region of REGIONS) {
      expect(await liveOf(runtimes.get(region)!, worker), `${region} deployment`).toEqual([
        { versionId: versions[region], percentage: 100 },
      ]);
      expect(await servedTags(port(region), worker), `${region} over HTTP`).toEqual(new Set([tag]));
    }
  }

  it("a good version passes every step in every region, canary first, and serves at 100% everywhere", { timeout: 60_000 }, async () => {
    // First release ever: each region gets the script created, one 100% step, gated.
    const first = await releaseAndWait("good");
    expect(first.status, first.reason ?? "").toBe("succeeded");
    const firstSteps = eventsOf(first.id)
      .filter((e) => e.type === "release.step.passed")
      .map((e) => `${e.target}:${e.data.percent}`);
    expect(firstSteps.sort()).toEqual(["ap:100", "eu:100", "us:100"]);

    const previous = Object.fromEntries(
      await Promise.all(REGIONS.map(async (r) => [r, (await liveOf(runtimes.get(r)!, "good"))[0]!.versionId] as const)),
    );
    await fleet.setSource("good", versionSource("v2"));
    const plan = await engine.plan("good");
    expect(plan.waves).toEqual([["eu"], ["us", "ap"]]);
    expect(plan.targets.map((x) => x.previousVersionId)).toEqual(REGIONS.map((r) => previous[r]));
    // Per region: the deployment and the live version (what the diff compares with), the upload, 3 steps.
    expect(plan.apiCalls).toBe(3 * (2 + 1 + 3));

    const started = await engine.release("good", { by: "test" });
    expect(started.status).toBe("running");
    const r = await engine.wait(started.id);
    expect(r.status, r.reason ?? "").toBe("succeeded");

    const events = eventsOf(r.id);
    const steps = events.filter((e) => e.type.startsWith("release.step.")).map((e) => `${e.type.slice(13)} ${e.target} ${e.data.percent}`);
    for (const region of REGIONS) {
      expect(steps.filter((s) => s.includes(` ${region} `))).toEqual(
        [10, 50, 100].flatMap((p) => [`started ${region} ${p}`, `passed ${region} ${p}`]),
      );
    }
    // The canary finished its last step before any other region started.
    const lastEu = steps.lastIndexOf("passed eu 100");
    expect(steps.findIndex((s) => !s.includes(" eu "))).toBeGreaterThan(lastEu);
    expect(events[0]!.type).toBe("release.created");
    expect(events.at(-1)!.type).toBe("release.succeeded");
    expect(events.some((e) => e.type === "release.step.failed" || e.type === "release.rolling_back")).toBe(false);
    const passed = events.filter((e) => e.type === "release.step.passed");
    expect(passed.every((e) => (e.data.samples as number) >= GATE.min_samples && e.data.errors === 0)).toBe(true);

    // Journal: per region, intent before every edge call and the outcome after.
    const journal = journalOf(r.id);
    const shipped: Record<string, string> = {};
    for (const region of REGIONS) {
      const kinds = journal
        .filter((e) => e.target === region)
        .map((e) => (e.kind.startsWith("step") || e.kind.startsWith("gate") ? `${e.kind}@${e.data.percent}` : e.kind));
      expect(kinds).toEqual([
        "upload.intent",
        "uploaded",
        ...[10, 50, 100].flatMap((p) => [`step.intent@${p}`, `step.deployed@${p}`, `gate.passed@${p}`]),
      ]);
      const up = journal.find((e) => e.target === region && e.kind === "uploaded")!;
      expect(up.data.previousVersionId).toBe(previous[region]);
      shipped[region] = up.data.versionId as string;
    }
    expect(journal.at(-1)).toMatchObject({ kind: "finished", data: { status: "succeeded" } });
    await expectServes("good", shipped, "v2");
    expect(store.catalog.versions("default", "good", "eu").map((v) => v.version_id)).toContain(shipped.eu);
  });

  it("a version whose probe fails is stopped at the canary's first step; only the canary was touched", { timeout: 60_000 }, async () => {
    const v1 = await shipGood("bad", "v1");
    const before = Object.fromEntries(
      await Promise.all(REGIONS.map(async (r) => [r, await versionIdsOf(runtimes.get(r)!, "bad")] as const)),
    );
    await fleet.setSource("bad", versionSource("broken", { failRate: 1 }));

    const r = await releaseAndWait("bad");
    expect(r.status).toBe("rolled_back");
    expect(r.reason).toMatch(/gate failed on eu at 10%: 3 consecutive probes failed \(last: HTTP 500\)/);
    expect(r.reason).toContain(`eu back on ${v1.eu}`);
    expect(r.reason).toContain("untouched: us, ap");

    await expectServes("bad", v1, "v1");
    // The untouched regions never received an upload.
    for (const region of ["us", "ap"]) expect(await versionIdsOf(runtimes.get(region)!, "bad")).toEqual(before[region]);
    expect((await versionIdsOf(runtimes.get("eu")!, "bad")).length).toBe(before.eu!.length + 1);

    // Events, journal and the record tell the same story.
    const types = eventsOf(r.id).map(
      (e) => `${e.type}${e.target ? ` ${e.target}` : ""}${e.data.percent !== undefined ? ` ${e.data.percent}` : ""}`,
    );
    expect(types).toEqual([
      "release.created",
      "release.target.uploaded eu",
      "release.step.started eu 10",
      "release.step.failed eu 10",
      "release.rolling_back",
      "release.rolled_back",
    ]);
    const journal = journalOf(r.id);
    expect(journal.map((e) => `${e.kind}${e.target ? ` ${e.target}` : ""}`)).toEqual([
      "upload.intent eu",
      "uploaded eu",
      "step.intent eu",
      "step.deployed eu",
      "gate.failed eu",
      "rollback.intent eu",
      "rollback.done eu",
      "finished",
    ]);
    expect(journal.find((e) => e.kind === "rollback.done")!.data.versionId).toBe(v1.eu);
    expect(journal.at(-1)!.data).toMatchObject({ status: "rolled_back", reason: r.reason });
    expect(store.releases.get(r.id)!.status).toBe("rolled_back");
  });

  it("a version failing ~30% of its requests is stopped at the canary's first step", { timeout: 60_000 }, async () => {
    const v1 = await shipGood("flaky", "v1");
    await fleet.setSource("flaky", versionSource("flaky", { failRate: 0.3 }));
    const r = await releaseAndWait("flaky");
    expect(r.status).toBe("rolled_back");
    expect(r.reason).toMatch(/gate failed on eu at 10%: (error rate [\d.]+% above 5\.0%|\d+ consecutive probes failed)/);
    const failed = eventsOf(r.id).filter((e) => e.type === "release.step.failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ target: "eu", data: { percent: 10 } });
    expect(failed[0]!.data.errors as number).toBeGreaterThan(0);
    expect(eventsOf(r.id).some((e) => e.target === "us" || e.target === "ap")).toBe(false);
    await expectServes("flaky", v1, "v1");
  });

  it("a region outage mid-release stops it, rolls back the touched regions, and the next region never gets the version", {
    timeout: 90_000,
  }, async () => {
    const v1 = await shipGood("outage", "v1");
    const apBefore = await versionIdsOf(runtimes.get("ap")!, "outage");
    await fleet.setSource("outage", versionSource("v2"));
    let faulted: Promise<void> | undefined;
    let releaseId = "";
    // The moment the canary wave has passed: the API of region us goes down before its wave starts.
    const unsubscribe = store.events.subscribe((e) => {
      if (e.release_id === releaseId && e.type === "release.step.passed" && e.target === "eu" && e.data.percent === 100) {
        faulted = t.edge.setFault("us", { outage: true });
      }
    });
    try {
      const started = await engine.release("outage");
      releaseId = started.id;
      const r = await engine.wait(started.id);
      expect(faulted, "the canary wave passed").toBeDefined();
      expect(r.status).toBe("rolled_back");
      expect(r.reason).toMatch(/^us: upload failed: ERR_CF_UNAVAILABLE/);
      expect(r.reason).toContain(`eu back on ${v1.eu}`);
      expect(r.reason).toContain("untouched: us, ap");
      const journal = journalOf(r.id);
      expect(journal.filter((e) => e.target === "ap")).toEqual([]);
      expect(journal.filter((e) => e.target === "us").map((e) => e.kind)).toEqual(["upload.intent", "target.failed"]);
      expect(journal.filter((e) => e.target === "eu" && e.kind.startsWith("rollback")).map((e) => e.kind)).toEqual([
        "rollback.intent",
        "rollback.done",
      ]);
    } finally {
      unsubscribe();
      await faulted;
      await t.edge.setFault("us", null);
    }
    await expectServes("outage", v1, "v1");
    expect(await versionIdsOf(runtimes.get("ap")!, "outage")).toEqual(apBefore);
  });

  it("rollback fast-tracks every region to a chosen version or release, without gates", { timeout: 90_000 }, async () => {
    const a = await shipGood("back", "A");
    const b = await shipGood("back", "B");
    const c = await shipGood("back", "C");

    // To a version id (eu's A): every region goes to its version of the same bundle.
    const t0 = performance.now();
    const toA = await engine.wait((await engine.rollback("back", { to: a.eu, by: "test" })).id);
    const took = performance.now() - t0;
    expect(toA.status, toA.reason ?? "").toBe("succeeded");
    expect(toA.kind).toBe("rollback");
    expect(took, "a rollback takes one deployment per region, in parallel").toBeLessThan(3_000);
    await expectServes("back", a, "A");
    const types = eventsOf(toA.id).map((e) => e.type);
    expect(types).toEqual(["rollback.started", "rollback.completed"]);
    expect(journalOf(toA.id).some((e) => e.kind.startsWith("gate") || e.kind.startsWith("step"))).toBe(false);

    // Default: the last release that succeeded before the one being undone. A serves now (the
    // rollback went to release A), and nothing succeeded before A: refused, nothing changes.
    const releases = store.releases.list({ worker: "back" }).filter((x) => x.kind === "release");
    const [relC, relB, relA] = releases;
    const none = await engine.rollback("back").catch((e: unknown) => e);
    expect(isCboError(none) && none.code).toBe("ERR_NOT_FOUND");
    expect((none as Error).message).toContain(`before ${relA!.id}, the one being undone`);
    // The way on names the worker: a `cbo versions` without one is a usage error.
    expect(isCboError(none) && none.hint).toBe("Name a version with --to (see `cbo versions back`).");
    await expectServes("back", a, "A");

    // To a release id: the versions that release shipped.
    const toC = await engine.wait((await engine.rollback("back", { to: relC!.id })).id);
    expect(toC.status, toC.reason ?? "").toBe("succeeded");
    await expectServes("back", c, "C");

    // Default again: C serves (through a rollback to it), so B, the release before C.
    const back = await engine.wait((await engine.rollback("back")).id);
    expect(back.status, back.reason ?? "").toBe("succeeded");
    expect(back.reason).toContain(`release ${relB!.id} shipped (the last that succeeded before ${relC!.id})`);
    await expectServes("back", b, "B");

    // A version no region has fails before anything changes.
    const err = await engine.rollback("back", { to: "00000000-0000-0000-0000-000000000000" }).catch((e: unknown) => e);
    expect(isCboError(err) && err.code).toBe("ERR_NOT_FOUND");
    await expectServes("back", b, "B");
  });

  it("refuses a second release of the same worker, unknown workers and sources that do not bundle; abort rolls back", {
    timeout: 60_000,
  }, async () => {
    const v1 = await shipGood("misc", "v1");
    await fleet.setSource("misc", versionSource("v2"));
    const running = await engine.release("misc");
    const again = await engine.release("misc").catch((e: unknown) => e);
    expect(isCboError(again) && again.code).toBe("ERR_CONFLICT");
    const rb = await engine.rollback("misc").catch((e: unknown) => e);
    expect(isCboError(rb) && rb.code).toBe("ERR_CONFLICT");

    // Abort once the canary's first step is live.
    await new Promise<void>((resolve) => {
      const check = () =>
        store.events.list({ releaseId: running.id }).some((e) => e.type === "release.step.started") ? resolve() : setTimeout(check, 20);
      check();
    });
    const aborted = await engine.abort(running.id, { by: "tester" });
    expect(aborted.status).toBe("aborted");
    expect(aborted.reason).toMatch(/^aborted by tester; eu back on /);
    expect(eventsOf(running.id).at(-1)!.type).toBe("release.aborted");
    await expectServes("misc", v1, "v1");

    const unknown = await engine.release("nope").catch((e: unknown) => e);
    expect(isCboError(unknown) && unknown.code).toBe("ERR_NOT_FOUND");

    const count = store.releases.list({ worker: "misc" }).length;
    await fleet.setSource("misc", "export default {\n  fetch() { return new Response(\n};\n");
    const broken = await engine.release("misc").catch((e: unknown) => e);
    expect(isCboError(broken) && broken.code).toBe("ERR_VALIDATION");
    expect((broken as Error).message).toMatch(/misc\.js:3:/);
    expect(store.releases.list({ worker: "misc" }).length, "nothing recorded").toBe(count);
    await expectServes("misc", v1, "v1");
  });
  it("binds vars, KV and version metadata per region, creating each namespace once in every region's account", {
    timeout: 60_000,
  }, async () => {
    await fleet.setSource("bound", workerSource("b1"));
    const first = await releaseAndWait("bound");
    expect(first.status, first.reason ?? "").toBe("succeeded");
    for (const region of REGIONS) {
      const client = runtimes.get(region)!.client;
      const namespaces = (await client.listKvNamespaces()).filter((n) => n.title === "bound-config");
      expect(namespaces, region).toHaveLength(1);
      await client.putKvValue(namespaces[0]!.id, "k", `kv-${region}`);
    }
    await fleet.setSource("bound", workerSource("b2"));
    const plan = await engine.plan("bound");
    // Namespaces exist now: per region read (deployment, live version) + list + upload + 3 steps, no create.
    expect(plan.apiCalls).toBe(3 * (2 + 1 + 1 + 3));
    const second = await releaseAndWait("bound");
    expect(second.status, second.reason ?? "").toBe("succeeded");
    for (const region of REGIONS) {
      expect(
        (await runtimes.get(region)!.client.listKvNamespaces()).filter((n) => n.title === "bound-config"),
        region,
      ).toHaveLength(1);
      const reply = await getWorker(port(region), "bound");
      expect(reply).toMatchObject({ v: "b2", greeting: "hello", kv: `kv-${region}` });
      const live = await liveOf(runtimes.get(region)!, "bound");
      const version = await runtimes.get(region)!.client.getVersion("bound", live[0]!.versionId);
      expect(version.resources?.bindings, region).toContainEqual({ type: "version_metadata", name: "VM" });
    }
  });
  it("recover() rolls back a release halted mid-step, completes one whose every gate passed, and keeps a first deploy", {
    timeout: 60_000,
  }, async () => {
    // A second engine on the same store stands in for a daemon that stops at a chosen moment:
    // close() halts a release at its next await point without rolling back, as a kill would.
    const v1 = await shipGood("misc", "r1");
    await fleet.setSource("misc", versionSource("r2"));
    const daemon = createEngine({ store, spec: () => fleet.spec, targets: () => runtimes });
    let stopped: Promise<void> | undefined;
    const off = store.events.subscribe((e) => {
      if (e.worker === "misc" && e.type === "release.step.started" && e.target === "eu") stopped ??= daemon.close();
    });
    const halted = await daemon.release("misc");
    await daemon.wait(halted.id);
    off();
    await stopped;
    expect(store.releases.get(halted.id)!.status, "halted, not finished").toBe("running");
    const newOnEu = (await liveOf(runtimes.get("eu")!, "misc")).find((v) => v.versionId !== v1.eu);
    expect(newOnEu, "the canary was mid-step").toBeDefined();

    const conflict = await engine.release("misc").catch((e: unknown) => e);
    expect(isCboError(conflict) && conflict.code, "an unfinished release blocks the worker until recovered").toBe("ERR_CONFLICT");

    await engine.recover();
    const r = store.releases.get(halted.id)!;
    expect(r.status).toBe("rolled_back");
    expect(r.reason).toBe(
      `daemon restarted during the release; rolled back: eu rolled back to ${v1.eu}, us untouched, serves ${v1.us}, ap untouched, serves ${v1.ap}`,
    );
    expect(
      eventsOf(r.id)
        .map((e) => e.type)
        .slice(-2),
    ).toEqual(["release.recovered", "release.rolled_back"]);
    await expectServes("misc", v1, "r1");

    // Every gate passed but the record was never closed: recovery completes it.
    const done = await releaseAndWait("misc");
    expect(done.status).toBe("succeeded");
    store.releases.setStatus(done.id, "running");
    await engine.recover();
    expect(store.releases.get(done.id)!.status).toBe("succeeded");
    expect(store.releases.get(done.id)!.reason).toMatch(/^daemon restarted after every step had passed; eu serves /);

    // A first deploy halted right after its upload: the one version there is kept, and said so.
    const fresh = createEngine({ store, spec: () => fleet.spec, targets: () => runtimes });
    await fleet.setSource("fresh", versionSource("f1"));
    let stopFresh: Promise<void> | undefined;
    const off2 = store.events.subscribe((e) => {
      if (e.worker === "fresh" && e.type === "release.target.uploaded") stopFresh ??= fresh.close();
    });
    const first = await fresh.release("fresh");
    await fresh.wait(first.id);
    off2();
    await stopFresh;
    await engine.recover();
    const f = store.releases.get(first.id)!;
    const euLive = await liveOf(runtimes.get("eu")!, "fresh");
    expect(euLive).toHaveLength(1);
    // As the release's own rollback of a first deploy: `failed`, since eu still serves the new code.
    expect(f.status).toBe("failed");
    expect(f.reason).toContain("not rolled back where the new code stays (eu)");
    expect(f.reason).toContain(`eu keeps ${euLive[0]!.versionId} (first release there: nothing earlier to serve)`);
    expect(f.reason).toContain("us serves nothing");
    expect(await liveOf(runtimes.get("us")!, "fresh").catch(() => [])).toEqual([]);
    expect(await servedTags(port("eu"), "fresh")).toEqual(new Set(["f1"]));
  });

  it("a first-ever deploy that fails its gate is `failed`, not `rolled_back`: there is nothing earlier to serve", {
    timeout: 60_000,
  }, async () => {
    await fleet.setSource("firstbad", versionSource("fb1", { failRate: 1 }));
    const r = await releaseAndWait("firstbad");
    expect(r.status, r.reason ?? "").toBe("failed");
    expect(r.reason).toContain("no previous version");
    expect(eventsOf(r.id).map((e) => e.type)).toContain("release.failed");
    // The canary region keeps the only version it has; the later waves were never touched.
    expect(await liveOf(runtimes.get("eu")!, "firstbad")).toHaveLength(1);
    for (const region of ["us", "ap"]) {
      await expect(versionIdsOf(runtimes.get(region)!, "firstbad"), region).rejects.toMatchObject({
        details: { cloudflareErrors: [{ code: 10007 }] },
      });
    }
  });
});
