// The drift checker's passes over a real store (SQLite in memory) and a scripted edge: verdicts,
// events on transitions only, no verdict while a release is unfinished, the revert policy's rules,
// the budget share and the config hook. The real edge and wrangler: test/drift-edge.test.ts.
import { describe, expect, it } from "vitest";
import { createRequestBudget, type RequestBudget } from "../../cloudflare/index.ts";
import type { ResolvedSpec, ResolvedWorker } from "../../config/load.ts";
import { GateSchema } from "../../config/schema.ts";
import type { TargetRuntime } from "../../targets/types.ts";
import { CboError } from "../../kit/errors.ts";
import { createStore, type Store } from "../../store/index.ts";
import { lineLogger, type LogEntry } from "../../telemetry/index.ts";
import { BEHIND_INTERVALS, BEHIND_MIN_MS, createDriftChecker, type DriftCheckerOptions } from "./checker.ts";

const INTERVAL = 1000;
/** How long a target may wait for its check before "running behind" is said. */
const BEHIND = Math.max(BEHIND_INTERVALS * INTERVAL, BEHIND_MIN_MS);
type Split = Array<{ versionId: string; percentage: number }>;
const full = (versionId: string): Split => [{ versionId, percentage: 100 }];
const notFound = () => new CboError("ERR_CF_REQUEST", "not found", { details: { status: 404, cloudflareErrors: [{ code: 10235 }] } });

/** One target of a scripted edge: what it serves, which versions exist, and every call made. */
function fakeTarget(name: string, budget: RequestBudget = createRequestBudget()) {
  const edge = {
    live: full("v1") as Split,
    versions: new Map<string, { bindings: Array<{ name: string; type: string }> }>([
      ["v1", { bindings: [{ name: "GREETING", type: "plain_text" }] }],
    ]),
    calls: [] as string[],
    deployments: [] as Array<{ split: Split; message: string | undefined }>,
    /** When false, a deployment is accepted but the edge keeps serving what it served. */
    obey: true,
    /** When set, reading the deployment fails with it. */
    down: undefined as Error | undefined,
  };
  const client = {
    budget,
    async listDeployments() {
      edge.calls.push("listDeployments");
      if (edge.down) throw edge.down;
      return [{ id: "d", versions: edge.live.map((v) => ({ version_id: v.versionId, percentage: v.percentage })) }];
    },
    async getVersion(_script: string, id: string) {
      edge.calls.push(`getVersion ${id}`);
      const v = edge.versions.get(id);
      if (!v) throw notFound();
      return { id, resources: { bindings: v.bindings, script_runtime: { compatibility_date: "2025-01-01", compatibility_flags: [] } } };
    },
    async createDeployment(_script: string, split: Split, opts: { message?: string }) {
      edge.calls.push("createDeployment");
      edge.deployments.push({ split, message: opts.message });
      if (edge.obey) edge.live = split;
      return { id: "d2", versions: [] };
    },
  };
  const runtime = { name, accountId: `acct-${name}`, client, endpoint: () => ({ url: "http://127.0.0.1:1/" }) } as unknown as TargetRuntime;
  return { edge, runtime };
}

function worker(drift: "report" | "revert"): ResolvedWorker {
  return {
    tenant: "default",
    name: "w",
    entry: "/w.js",
    root: "/",
    compatibilityDate: "2025-01-01",
    compatibilityFlags: [],
    vars: {},
    kv: {},
    services: {},
    secrets: [],
    agent: false,
    drift,
    targets: ["eu"],
    waves: [["eu"]],
    steps: [100],
    gate: GateSchema.parse({}),
  };
}

/** A succeeded release of v1 to eu, as the engine records it. */
function released(store: Store, id = "r1", versionId = "v1"): void {
  store.releases.insert({
    id,
    tenant: "default",
    worker: "w",
    kind: "release",
    status: "succeeded",
    reason: null,
    plan: {},
    created_by: null,
  });
  store.releases.journal(id, "uploaded", "eu", { versionId, previousVersionId: null, created: true });
  store.releases.journal(id, "step.intent", "eu", { percent: 100, versionId, split: full(versionId) });
  store.releases.journal(id, "step.deployed", "eu", { percent: 100, versionId });
  store.catalog.recordVersion({
    tenant: "default",
    worker: "w",
    target: "eu",
    version_id: versionId,
    release_id: id,
    bundle_hash: "h",
    secrets: null,
  });
}

function setup(opts: { drift?: "report" | "revert"; budget?: RequestBudget } & Partial<DriftCheckerOptions> = {}) {
  const store = createStore(":memory:");
  const t = fakeTarget("eu", opts.budget);
  const spec: ResolvedSpec = {
    tenant: "default",
    file: "/o.yaml",
    targets: [{ name: "eu", api: "local" }],
    workers: [worker(opts.drift ?? "report")],
  };
  let now = 1_000_000;
  const checker = createDriftChecker({
    store,
    spec: () => spec,
    targets: () => new Map([["eu", t.runtime]]),
    intervalMs: INTERVAL,
    now: () => now,
    ...opts,
  });
  const events = () =>
    store.events
      .list()
      .filter((e) => e.type.startsWith("drift."))
      .map((e) => e.type);
  const row = () => store.drift.get({ tenant: "default", worker: "w", target: "eu" });
  return { store, edge: t.edge, checker, events, row, advance: (ms: number) => void (now += ms) };
}

describe("drift checker", () => {
  it("nothing desired before the first release: unknown, and the edge is not read", async () => {
    const s = setup();
    await s.checker.checkNow();
    expect(s.row()).toMatchObject({ status: "unknown", drifted: false, note: "no release or rollback has put a version here yet" });
    expect(s.edge.calls).toEqual([]);
  });

  it("in sync costs one read a pass; a hand-made deployment is detected once, read once per version, resolved once", async () => {
    const s = setup();
    released(s.store);
    await s.checker.checkNow();
    await s.checker.checkNow();
    expect(s.row()).toMatchObject({ status: "in_sync", drifted: false });
    expect(s.edge.calls).toEqual(["listDeployments", "listDeployments"]);

    s.edge.versions.set("x", {
      bindings: [
        { name: "GREETING", type: "plain_text" },
        { name: "HAND", type: "secret_text" },
      ],
    });
    s.edge.live = full("x");
    await s.checker.checkNow();
    await s.checker.checkNow();
    await s.checker.checkNow();
    expect(s.events()).toEqual(["drift.detected"]);
    expect(s.row()).toMatchObject({ status: "drifted", kinds: ["code", "unknown_version", "bindings"] });
    expect(s.edge.calls.filter((c) => c.startsWith("getVersion")).sort()).toEqual(["getVersion v1", "getVersion x"]);

    s.edge.live = full("v1");
    await s.checker.checkNow();
    await s.checker.checkNow();
    expect(s.events()).toEqual(["drift.detected", "drift.resolved"]);
    expect(s.row()).toMatchObject({ status: "in_sync", since: null });
    expect(s.edge.deployments).toEqual([]); // report only
  });

  it("while a release of the worker is unfinished: pending, no verdict, no event, no revert", async () => {
    const s = setup({ drift: "revert" });
    released(s.store);
    await s.checker.checkNow();
    s.store.releases.insert({
      id: "r2",
      tenant: "default",
      worker: "w",
      kind: "release",
      status: "running",
      reason: null,
      plan: {},
      created_by: null,
    });
    s.edge.versions.set("v2", { bindings: [] });
    s.edge.live = [
      { versionId: "v1", percentage: 90 },
      { versionId: "v2", percentage: 10 },
    ];
    s.edge.calls.length = 0;
    await s.checker.checkNow();
    expect(s.row()).toMatchObject({
      status: "pending",
      drifted: false,
      note: "release r2 is running: no verdict while the engine moves the worker",
    });
    expect(s.edge.calls).toEqual([]);
    expect(s.events()).toEqual([]);
  });

  it("revert: the desired split deployed again, annotated, at most once per interval; resolved after it", async () => {
    const s = setup({ drift: "revert" });
    released(s.store);
    s.edge.versions.set("x", { bindings: [] });
    s.edge.live = full("x");
    s.edge.obey = false; // someone keeps it on x for a while
    await s.checker.checkNow();
    await s.checker.checkNow();
    expect(s.edge.deployments).toEqual([{ split: full("v1"), message: "cbo drift revert" }]);
    expect(s.events()).toEqual(["drift.detected", "drift.reverted"]);
    s.advance(INTERVAL);
    await s.checker.checkNow();
    expect(s.edge.deployments).toHaveLength(2);

    // The edge takes the next one: the pass after it finds the desired split.
    s.edge.obey = true;
    s.advance(INTERVAL);
    await s.checker.checkNow();
    await s.checker.checkNow();
    expect(s.edge.deployments).toHaveLength(3);
    expect(s.events()).toEqual(["drift.detected", "drift.reverted", "drift.reverted", "drift.reverted", "drift.resolved"]);
    const resolved = s.store.events.list().find((e) => e.type === "drift.resolved")!;
    expect(resolved.data).toMatchObject({ reverted: true });
  });

  it("revert when the desired version is gone from the edge: reported, not attempted, once per reason", async () => {
    const s = setup({ drift: "revert" });
    released(s.store);
    s.edge.versions.delete("v1");
    s.edge.versions.set("x", { bindings: [] });
    s.edge.live = full("x");
    await s.checker.checkNow();
    s.advance(INTERVAL);
    await s.checker.checkNow();
    expect(s.edge.deployments).toEqual([]);
    expect(s.events()).toEqual(["drift.detected", "drift.revert.failed"]);
    expect(s.row()!.revert).toBe("not reverted: the desired version v1 no longer exists on the edge; release the worker to replace it");
  });

  it("a newer release decides: drift against the old release is resolved by it", async () => {
    const s = setup();
    released(s.store);
    s.edge.versions.set("v2", { bindings: [] });
    s.edge.live = full("v2");
    await s.checker.checkNow();
    expect(s.events()).toEqual(["drift.detected"]);
    released(s.store, "r2", "v2");
    await s.checker.checkNow();
    expect(s.events()).toEqual(["drift.detected", "drift.resolved"]);
  });

  it("reads older records when the newest few did not change the target", async () => {
    const s = setup();
    released(s.store);
    for (let i = 2; i <= 7; i++) {
      // Releases that failed before any deployment: they leave eu as it was.
      s.store.releases.insert({
        id: `r${i}`,
        tenant: "default",
        worker: "w",
        kind: "release",
        status: "failed",
        reason: null,
        plan: {},
        created_by: null,
      });
      s.store.releases.journal(`r${i}`, "upload.intent", "eu", { previousVersionId: "v1" });
    }
    await s.checker.checkNow();
    expect(s.row()).toMatchObject({ status: "in_sync", desired: full("v1") });
  });

  it("yields to anyone waiting for a budget slot, and checks again once there is none", async () => {
    let queued = 1;
    const real = createRequestBudget();
    const budget: RequestBudget = {
      acquire: (sig) => real.acquire(sig),
      predictWait: (p) => real.predictWait(p),
      stats: () => ({ ...real.stats(), queued }),
    };
    const s = setup({ budget });
    released(s.store);
    await s.checker.checkNow();
    expect(s.edge.calls).toEqual([]);
    expect(s.row()).toBeUndefined();
    queued = 0;
    await s.checker.checkNow();
    expect(s.row()).toMatchObject({ status: "in_sync" });
  });

  it("spreading checks over passes is said at debug; a warning only once a target waits many intervals", async () => {
    const lines: LogEntry[] = [];
    const log = lineLogger((_line, entry) => void lines.push(entry));
    // A budget of 4 per window: drift's half share gives a bucket of one read, refilled slowly.
    const s = setup({ budget: createRequestBudget({ limit: 4, windowMs: 1_000_000 }), log });
    released(s.store);
    await s.checker.checkNow();
    s.advance(INTERVAL);
    await s.checker.checkNow();
    expect(lines.filter((l) => l.level !== "debug")).toEqual([]);
    expect(lines.some((l) => l.level === "debug" && l.msg.includes("spread over several passes"))).toBe(true);
    s.advance(BEHIND);
    await s.checker.checkNow();
    const warned = lines.filter((l) => l.level === "warn");
    expect(warned).toHaveLength(1);
    expect(warned[0]!.msg).toMatch(/running behind: a target waited \d+s/);
    s.advance(INTERVAL);
    await s.checker.checkNow();
    expect(lines.filter((l) => l.level === "warn")).toHaveLength(1);
  });

  it("running behind is said once while waits hover near the limit, and cleared once every wait is under half", async () => {
    const lines: LogEntry[] = [];
    const log = lineLogger((_line, entry) => void lines.push(entry));
    // While someone waits for the budget (queued), drift reads nothing: a fleet that gets its reads
    // only now and then, each target waiting about the limit, as the example fleet's do.
    let queued = 0;
    const real = createRequestBudget();
    const budget: RequestBudget = {
      acquire: (sig) => real.acquire(sig),
      predictWait: (p) => real.predictWait(p),
      stats: () => ({ ...real.stats(), queued }),
    };
    const s = setup({ budget, log });
    released(s.store);
    await s.checker.checkNow();
    const said = () => lines.filter((l) => l.level !== "debug").map((l) => l.msg.slice(0, 40));
    for (let round = 0; round < 3; round++) {
      queued = 1;
      s.advance(BEHIND);
      await s.checker.checkNow(); // deferred after a wait of the whole limit
      queued = 0;
      s.advance(INTERVAL);
      await s.checker.checkNow(); // read, after a wait still over half the limit
    }
    expect(said()).toEqual(["drift: checks are running behind: a targ"]);
    s.advance(INTERVAL);
    await s.checker.checkNow(); // read one interval after the last: caught up
    expect(said()).toEqual(["drift: checks are running behind: a targ", "drift: checks keep up with their interva"]);
  });

  it("config: applied behind published counts as drift once it lasts longer than an interval", async () => {
    let applied = 1;
    const s = setup({ configVersions: () => ({ desired: 2, applied }) });
    released(s.store);
    await s.checker.checkNow();
    expect(s.row()).toMatchObject({ status: "in_sync" });
    s.advance(INTERVAL + 1);
    await s.checker.checkNow();
    expect(s.row()).toMatchObject({ status: "drifted", kinds: ["config"], detail: "config v1 applied, v2 published" });
    applied = 2;
    await s.checker.checkNow();
    expect(s.events()).toEqual(["drift.detected", "drift.resolved"]);
  });

  it("config: a version published but never written to the target (a publish cut off there) says so", async () => {
    let written: number | null = 1;
    const s = setup({ configVersions: () => ({ desired: 2, written }) });
    released(s.store);
    await s.checker.checkNow();
    s.advance(INTERVAL + 1);
    await s.checker.checkNow();
    expect(s.row()).toMatchObject({
      status: "drifted",
      detail: "config vnone applied, v2 published but v1 written there (a publish cut off or failed on this target: publish again)",
    });
    written = null;
    await s.checker.checkNow();
    expect(s.row()?.detail).toContain("but vnone written there");
    // Written, not yet applied: the agents' part, no word about publishing.
    written = 2;
    await s.checker.checkNow();
    expect(s.row()?.detail).toBe("config vnone applied, v2 published");
  });

  it("an unreadable edge gives no verdict and keeps the last one (no event either way)", async () => {
    const s = setup();
    released(s.store);
    s.edge.versions.set("x", { bindings: [] });
    s.edge.live = full("x");
    await s.checker.checkNow();
    s.edge.down = new CboError("ERR_CF_UNAVAILABLE", "Cloudflare API unreachable");
    await s.checker.checkNow();
    expect(s.row()).toMatchObject({
      status: "unknown",
      drifted: true,
      kinds: ["code", "unknown_version", "bindings"],
      note: "the edge could not be read: ERR_CF_UNAVAILABLE: Cloudflare API unreachable",
    });
    s.edge.down = undefined;
    await s.checker.checkNow();
    expect(s.row()).toMatchObject({ status: "drifted", note: null });
    expect(s.events()).toEqual(["drift.detected"]);
  });
});
