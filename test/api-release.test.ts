// The API in front of the real release engine on a real three-region local edge: a release started
// with POST /v1/releases and followed over the WebSocket to its end, with the event stream, the
// release journal, /v1/status (read from the edge) and the versions list telling the same story,
// for a good version and for a bad one that is rolled back.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createApi, startApiServer, type ApiServer } from "../src/api/index.ts";
import { createEngine } from "../src/deploy/index.ts";
import type { Engine } from "../src/deploy/types.ts";
import type { TargetRuntime } from "../src/targets/types.ts";
import { createStore, type StoredEvent, type Store } from "../src/store/index.ts";
import type { Security } from "../src/security/open-security.ts";
import type { Page, Release, ReleaseDetail, Status, VersionEntry } from "../src/contract/index.ts";
import { call, openTestSecurity } from "./support/api-fixtures.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { edgeInfo, fleetYaml, liveOf, localRuntimes, versionSource, writeFleet, type Fleet } from "./support/orchestrator.ts";
import { lineLogger } from "../src/telemetry/index.ts";

const GATE = { interval_ms: 50, bake_ms: 300, min_samples: 4, failure_limit: 2, max_error_rate: 0.05, timeout_ms: 2000 };
const REGIONS = ["eu", "us", "ap"];
const TERMINAL_EVENTS = new Set(["release.succeeded", "release.rolled_back", "release.failed", "release.aborted"]);

describe("API + real engine + local edge", () => {
  let t: TestEdge;
  let store: Store;
  let fleet: Fleet;
  let runtimes: Map<string, TargetRuntime>;
  let engine: Engine;
  let server: ApiServer;
  let deployer: string;
  let security: Security;
  const logged: string[] = [];

  beforeAll(async () => {
    t = await startTestEdge({ regions: REGIONS });
    const dir = await makeTempDir("api-release");
    fleet = await writeFleet(dir, fleetYaml({ workers: ["hello"], steps: [50, 100], gate: GATE }), { hello: versionSource("v1") });
    runtimes = localRuntimes(edgeInfo(t.edge), fleet.spec);
    store = createStore(`${dir}/orchestrator.sqlite`);
    // As the daemon does at start: the catalog knows each target's resolved account.
    for (const target of fleet.spec.targets) {
      store.catalog.upsertTarget({
        tenant: "default",
        name: target.name,
        api: "local",
        account_id: runtimes.get(target.name)!.accountId,
        region: target.name,
        jurisdiction: null,
        kv_namespace: null,
      });
    }
    engine = createEngine({ store, spec: () => fleet.spec, targets: () => runtimes });
    security = await openTestSecurity(store, { log: lineLogger((l) => logged.push(l)) });
    security.followEngine(store.events);
    const api = createApi({
      store,
      engine,
      security,
      spec: () => fleet.spec,
      targets: () => runtimes,
      observeCacheMs: 500,
      observeTimeoutMs: 1_500,
      checkResponses: true,
      log: lineLogger((l) => logged.push(l)),
    });
    server = await startApiServer({ api });
    deployer = store.tokens.create({ name: "ci", role: "deployer" }).token;
  });
  afterAll(async () => {
    await server?.close();
    await engine?.close();
    await security?.stop();
    store?.close();
    await t?.dispose();
  });

  /** Opens the stream after `after`, and resolves with the release's events once one is terminal. */
  async function follow(after: number, start: () => Promise<string>): Promise<{ id: string; events: StoredEvent[]; all: StoredEvent[] }> {
    const ws = new WebSocket(`${server.url.replace(/^http/, "ws")}/v1/events/stream?after=${after}`, {
      headers: { authorization: `Bearer ${deployer}` },
    });
    const all: StoredEvent[] = [];
    await new Promise((resolve, reject) => (ws.once("open", resolve), ws.once("error", reject)));
    let id = "";
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no terminal event; got ${all.map((e) => e.type).join(", ")}`)), 45_000);
      ws.on("message", (raw) => {
        const e = JSON.parse(raw.toString()) as StoredEvent;
        all.push(e);
        if (id && e.release_id === id && TERMINAL_EVENTS.has(e.type)) clearTimeout(timer), resolve();
      });
    });
    id = await start();
    // The terminal event may have come before `id` was known.
    if (!all.some((e) => e.release_id === id && TERMINAL_EVENTS.has(e.type))) await done;
    ws.close();
    return { id, events: all.filter((e) => e.release_id === id), all };
  }

  const status = async () => {
    const r = await call<Status>(server.url, "GET", "/v1/status", { token: deployer });
    expect(r.status).toBe(200);
    return r.body.workers.find((w) => w.name === "hello")!;
  };

  it("releases a good version through POST /v1/releases and follows it over the WebSocket to release.succeeded", async () => {
    const after = store.events.lastId();
    const { id, events, all } = await follow(after, async () => {
      const r = await call<Release>(server.url, "POST", "/v1/releases", { token: deployer, json: { worker: "hello" } });
      expect(r.status).toBe(202);
      expect(r.body).toMatchObject({ worker: "hello", status: "running", created_by: "ci" });
      return r.body.id;
    });
    // The stream delivered every stored event after `after`, in order, once.
    expect(all.map((e) => e.id)).toEqual(
      store.events
        .list({ after })
        .map((e) => e.id)
        .slice(0, all.length),
    );
    expect(events[0]!.type).toBe("release.created");
    expect(events.at(-1)!.type).toBe("release.succeeded");
    expect(events.filter((e) => e.type === "release.step.passed").map((e) => e.target)).toEqual(expect.arrayContaining(REGIONS));

    const detail = await call<ReleaseDetail>(server.url, "GET", `/v1/releases/${id}`, { token: deployer });
    expect(detail.body.release.status).toBe("succeeded");
    expect(detail.body.journal.length).toBeGreaterThan(3);

    // Status reads the edge: every region serves the released version at 100%.
    const hello = await status();
    expect(hello.lastRelease).toMatchObject({ id, status: "succeeded" });
    for (const region of REGIONS) {
      const live = await liveOf(runtimes.get(region)!, "hello");
      expect(live).toEqual([{ versionId: expect.any(String), percentage: 100 }]);
      expect(hello.targets.find((x) => x.target === region)).toMatchObject({ live, liveError: null });
    }
    const versions = await call<Page<VersionEntry>>(server.url, "GET", "/v1/workers/hello/versions", { token: deployer });
    expect(
      versions.body.items
        .filter((v) => v.live)
        .map((v) => v.target)
        .sort(),
    ).toEqual([...REGIONS].sort());
  });

  it("a bad version is rolled back: stream, journal, status and versions agree that the previous version serves again", async () => {
    const before = new Map<string, string>();
    for (const region of REGIONS) before.set(region, (await liveOf(runtimes.get(region)!, "hello"))[0]!.versionId);
    await fleet.setSource("hello", versionSource("v2-bad", { failRate: 1 }));
    const { id, events } = await follow(store.events.lastId(), async () => {
      const r = await call<Release>(server.url, "POST", "/v1/releases", { token: deployer, json: { worker: "hello" } });
      expect(r.status).toBe(202);
      return r.body.id;
    });
    expect(events.at(-1)!.type).toBe("release.rolled_back");
    expect(events.some((e) => e.type === "release.step.failed" && e.target === "eu")).toBe(true);
    // The audit log has the request (who) and the engine's own account of it, failure included.
    const audited = security.audit.search({ limit: 1000 });
    expect(audited.find((e) => e.action === "release.create" && e.details.releaseId === id)).toMatchObject({
      actor: expect.stringMatching(/^token:ci:/),
      outcome: "ok",
    });
    const engineSide = audited.filter((e) => e.target === `release:${id}` && e.actor === "engine");
    expect(engineSide.map((e) => e.action)).toEqual(events.map((e) => e.type));
    expect(engineSide.find((e) => e.action === "release.step.failed")).toMatchObject({
      outcome: "error",
      details: { edgeTarget: "eu", reason: expect.any(String) },
    });
    expect(engineSide.at(-1)).toMatchObject({ action: "release.rolled_back", outcome: "ok" });
    expect(events.some((e) => e.type === "release.step.started" && e.target !== "eu")).toBe(false);
    const detail = await call<ReleaseDetail>(server.url, "GET", `/v1/releases/${id}`, { token: deployer });
    expect(detail.body.release.status).toBe("rolled_back");
    await new Promise((r) => setTimeout(r, 600)); // let the status cache expire
    const hello = await status();
    expect(hello.lastRelease).toMatchObject({ id, status: "rolled_back" });
    for (const region of REGIONS) {
      expect(hello.targets.find((x) => x.target === region)!.live).toEqual([{ versionId: before.get(region), percentage: 100 }]);
    }
    const versions = (await call<Page<VersionEntry>>(server.url, "GET", "/v1/workers/hello/versions", { token: deployer })).body.items;
    for (const v of versions) expect(v.live).toBe(v.versionId === before.get(v.target));
  });

  it("status reuses one edge read for a short while, and reports a region that does not answer without holding up the rest", async () => {
    const eu = runtimes.get("eu")!.accountId;
    await new Promise((r) => setTimeout(r, 600));
    await status();
    const n = t.edge.apiRequestCount(eu);
    await status();
    await status();
    expect(t.edge.apiRequestCount(eu)).toBe(n);

    await t.edge.setFault("ap", { outage: true });
    try {
      await new Promise((r) => setTimeout(r, 600));
      const started = Date.now();
      const hello = await status();
      expect(Date.now() - started).toBeLessThan(2_500);
      expect(hello.targets.find((x) => x.target === "ap")!.liveError).toBeTruthy();
      expect(hello.targets.find((x) => x.target === "eu")).toMatchObject({ liveError: null, live: [{ percentage: 100 }] });
    } finally {
      await t.edge.setFault("ap", {});
    }
    expect(logged.filter((l) => l.includes("unexpected"))).toEqual([]);
  });
});
