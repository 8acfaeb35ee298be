// Issue 15 acceptance (part A), approvals and control: the real engine behind the real API on a
// real two-region local edge (waves eu, then us). A `{pause: approve}` step holds each wave at 50%
// until a deployer promotes it (a viewer is refused and nothing moves); a manual pause holds the next
// step until resume; a timed pause ends by itself; an abort during a wait rolls back.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApi, startApiServer, type ApiServer } from "../src/api/index.ts";
import { createDaemonClient } from "../src/client/index.ts";
import { releaseControl } from "../src/mcp/tools-write.ts";
import { parseSpec, resolveSpec, type ResolvedSpec } from "../src/config/load.ts";
import { createEngine } from "../src/deploy/index.ts";
import type { Engine } from "../src/deploy/types.ts";
import type { ControlResult, ErrorBody, Release, ReleaseControl } from "../src/contract/index.ts";
import type { Security } from "../src/security/open-security.ts";
import { createStore, type Store } from "../src/store/index.ts";
import type { TargetRuntime } from "../src/targets/types.ts";
import { silentLogger } from "../src/telemetry/index.ts";
import { call, openTestSecurity } from "./support/api-fixtures.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { edgeInfo, liveOf, localRuntimes, versionSource, writeFleet } from "./support/orchestrator.ts";

const yaml = (steps: unknown[], windows?: unknown) => `version: 1
targets:
  - { name: eu, api: local }
  - { name: us, api: local }
rollout:
  waves: [[eu], [us]]
  steps: ${JSON.stringify(steps)}
  gate: { bake_ms: 300, min_samples: 4, interval_ms: 50 }
  analysis: { enabled: false }
workers:
  - { name: hello, main: hello.js, compatibility_date: "2025-01-01" }
${windows ? `windows: ${JSON.stringify(windows)}\n` : ""}`;

describe("approvals, pauses and aborts through the API", () => {
  let t: TestEdge;
  let dir: string;
  let store: Store;
  let spec: ResolvedSpec;
  let runtimes: Map<string, TargetRuntime>;
  let engine: Engine;
  let security: Security;
  let server: ApiServer;
  let tokens: { deployer: string; viewer: string };
  let n = 0;

  async function configure(steps: unknown[], windows?: unknown): Promise<void> {
    const fleet = await writeFleet(dir, yaml(steps, windows), { hello: versionSource(`v${++n}`) });
    spec = resolveSpec(parseSpec(yaml(steps, windows), fleet.file), fleet.file);
  }
  const post = <T = unknown>(path: string, token: string, json: unknown = {}) => call<T>(server.url, "POST", path, { token, json });
  const control = async (id: string): Promise<ReleaseControl> =>
    (await call<ReleaseControl>(server.url, "GET", `/v1/releases/${id}/control`, { token: tokens.viewer })).body;
  async function until(id: string, ok: (c: ReleaseControl) => boolean, what: string): Promise<ReleaseControl> {
    const end = Date.now() + 20_000;
    for (;;) {
      const c = await control(id);
      if (ok(c)) return c;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(c)} (${store.releases.get(id)?.status})`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const waitingAt = (target: string, kind: string) => (c: ReleaseControl) => c.waiting.some((w) => w.target === target && w.kind === kind);
  const audit = (action: string) =>
    store.db.prepare("SELECT actor, outcome, details FROM audit_entries WHERE action = ? ORDER BY seq").all(action) as Array<{
      actor: string;
      outcome: string;
      details: string;
    }>;

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu", "us"] });
    dir = await makeTempDir("release-control");
    await configure([100]);
    store = createStore(join(dir, "orchestrator.sqlite"));
    runtimes = localRuntimes(edgeInfo(t.edge), spec);
    for (const target of spec.targets)
      store.catalog.upsertTarget({
        tenant: "default",
        name: target.name,
        api: "local",
        account_id: runtimes.get(target.name)!.accountId,
        region: target.name,
        jurisdiction: null,
        kv_namespace: null,
      });
    engine = createEngine({ store, spec: () => spec, targets: () => runtimes });
    security = await openTestSecurity(store, { log: silentLogger });
    const api = createApi({ store, engine, security, spec: () => spec, targets: () => runtimes, log: silentLogger });
    server = await startApiServer({ api });
    tokens = {
      deployer: store.tokens.create({ name: "ci", role: "deployer" }).token,
      viewer: store.tokens.create({ name: "watcher", role: "viewer" }).token,
    };
    const first = await engine.wait((await engine.release("hello")).id);
    expect(first.status).toBe("succeeded");
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await engine?.close();
    await security?.stop();
    store?.close();
    await t?.dispose();
  });

  it("{pause: approve} holds each wave at 50% until a deployer promotes it; a viewer is refused and nothing moves", async () => {
    await configure([50, { pause: "approve" }, 100]);
    const started = await post<Release>("/v1/releases", tokens.deployer, { worker: "hello" });
    expect(started.status).toBe(202);
    const id = started.body.id;
    const c = await until(id, waitingAt("eu", "approval"), "eu's approval");
    expect(c.waiting).toEqual([{ target: "eu", kind: "approval", percent: 50, since: expect.any(String), until: null }]);
    const split = await liveOf(runtimes.get("eu")!, "hello");
    expect(split.map((s) => s.percentage).sort()).toEqual([50, 50]);

    const refused = await post<ErrorBody>(`/v1/releases/${id}/promote`, tokens.viewer);
    expect([refused.status, refused.body.error.code]).toEqual([403, "ERR_FORBIDDEN"]);
    await new Promise((r) => setTimeout(r, 600));
    expect(await liveOf(runtimes.get("eu")!, "hello")).toEqual(split);
    expect((await control(id)).waiting.map((w) => w.kind)).toEqual(["approval"]);

    const promoted = await post(`/v1/releases/${id}/promote`, tokens.deployer, { reason: "canary looks fine" });
    expect(promoted.status).toBe(200);
    // The second wave waits at its own approval.
    await until(id, waitingAt("us", "approval"), "us's approval");
    expect(await liveOf(runtimes.get("eu")!, "hello")).toHaveLength(1);
    expect((await post(`/v1/releases/${id}/promote`, tokens.deployer)).status).toBe(200);
    const end = await engine.wait(id);
    expect(end.status, end.reason ?? "").toBe("succeeded");

    const types = store.events.list({ releaseId: id, limit: 1000 }).map((e) => `${e.type}${e.target ? `@${e.target}` : ""}`);
    expect(types.filter((x) => /waiting|wait\.ended|promoted/.test(x))).toEqual([
      "release.waiting@eu",
      "release.promoted",
      "release.wait.ended@eu",
      "release.waiting@us",
      "release.promoted",
      "release.wait.ended@us",
    ]);
    const denied = store.db.prepare("SELECT actor, target FROM audit_entries WHERE outcome = 'denied'").all() as Array<{
      actor: string;
      target: string;
    }>;
    expect(denied.some((d) => d.actor.startsWith("token:watcher:") && d.target.includes("promote"))).toBe(true);
    const ok = audit("release.promote").filter((a) => a.outcome === "ok");
    expect(ok).toHaveLength(2);
    expect(ok[0]!.details).toContain("canary looks fine");
    expect(ok[0]!.actor).toMatch(/^token:ci:/);
  }, 60_000);

  it("pause holds the next step until resume; promote alone does not lift it", async () => {
    await configure([50, { pause: "approve" }, 100]);
    const id = (await post<Release>("/v1/releases", tokens.deployer, { worker: "hello" })).body.id;
    await until(id, waitingAt("eu", "approval"), "eu's approval");
    expect((await post(`/v1/releases/${id}/pause`, tokens.viewer)).status).toBe(403);
    expect((await post<ControlResult>(`/v1/releases/${id}/pause`, tokens.deployer, { reason: "hold on" })).body.control.paused).toBe(true);
    expect((await post(`/v1/releases/${id}/promote`, tokens.deployer)).status).toBe(200);
    const c = await until(id, waitingAt("eu", "manual"), "the manual pause");
    expect(c).toMatchObject({ paused: true, pausedBy: "ci" });
    expect((await liveOf(runtimes.get("eu")!, "hello")).length).toBe(2); // still at 50%
    expect((await post(`/v1/releases/${id}/resume`, tokens.deployer)).status).toBe(200);
    await until(id, waitingAt("us", "approval"), "us's approval");
    expect((await post(`/v1/releases/${id}/promote`, tokens.deployer)).status).toBe(200);
    expect((await engine.wait(id)).status).toBe("succeeded");
    expect(audit("release.pause").filter((a) => a.outcome === "ok")[0]!.details).toContain("hold on");
    const again = await post<ErrorBody>(`/v1/releases/${id}/resume`, tokens.deployer);
    expect([again.status, again.body.error.code]).toEqual([409, "ERR_CONFLICT"]);
  }, 60_000);

  it("abort while waiting for approval rolls the canary back; its reason is kept (release, audit)", async () => {
    await configure([50, { pause: "approve" }, 100]);
    const before = await liveOf(runtimes.get("eu")!, "hello");
    const id = (await post<Release>("/v1/releases", tokens.deployer, { worker: "hello" })).body.id;
    await until(id, waitingAt("eu", "approval"), "eu's approval");
    const aborted = await post<Release>(`/v1/releases/${id}/abort`, tokens.deployer, { reason: "wrong build" });
    expect([aborted.status, aborted.body.status]).toEqual([200, "aborted"]);
    // `cbo release abort <id> --reason TEXT` (README): the reason was dropped before.
    expect(aborted.body.reason).toContain("aborted by ci: wrong build");
    expect(audit("release.abort").filter((a) => a.outcome === "ok")[0]!.details).toContain("wrong build");
    expect(await liveOf(runtimes.get("eu")!, "hello")).toEqual(before);
    expect((await control(id)).waiting).toEqual([]);
  }, 60_000);

  it("the MCP release_control tool's abort keeps its reason too", async () => {
    await configure([50, { pause: "approve" }, 100]);
    const id = (await post<Release>("/v1/releases", tokens.deployer, { worker: "hello" })).body.id;
    await until(id, waitingAt("eu", "approval"), "eu's approval");
    const api = createDaemonClient({ url: server.url, token: tokens.deployer }).via("mcp:release_control");
    await releaseControl.run({ release_id: id, action: "abort", reason: "the agent saw errors", confirm: true }, { api });
    expect(store.releases.get(id)).toMatchObject({ status: "aborted", reason: expect.stringContaining("the agent saw errors") });
  }, 60_000);

  it("{pause: 2s} waits that long by itself", async () => {
    await configure([50, { pause: "2s" }, 100]);
    const id = (await post<Release>("/v1/releases", tokens.deployer, { worker: "hello" })).body.id;
    const c = await until(id, waitingAt("eu", "timer"), "the timer");
    const w = c.waiting[0]!;
    expect(Date.parse(w.until!) - Date.parse(w.since)).toBeGreaterThanOrEqual(1990);
    const end = await engine.wait(id);
    expect(end.status).toBe("succeeded");
    const ended = store.events.list({ releaseId: id, limit: 1000 }).filter((e) => e.type === "release.wait.ended");
    expect(ended.map((e) => [e.target, (e.data as { kind: string }).kind])).toEqual([
      ["eu", "timer"],
      ["us", "timer"],
    ]);
    expect(ended.every((e) => (e.data as { waitedMs: number }).waitedMs >= 1900)).toBe(true);
  }, 60_000);

  it("a release window refuses a release (409 ERR_RELEASE_WINDOW, nothing recorded); --override-window with a reason releases and is audited", async () => {
    // A weekly deny window around now, in UTC.
    const day = (d: Date) => ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][d.getUTCDay()];
    const hm = (d: Date) => `${String(d.getUTCHours()).padStart(2, "0")}:${String(d.getUTCMinutes()).padStart(2, "0")}`;
    const from = new Date(Date.now() - 3_600_000);
    const to = new Date(Date.now() + 3_600_000);
    await configure([100], { deny: [{ from: `${day(from)} ${hm(from)}`, to: `${day(to)} ${hm(to)}`, tz: "UTC", note: "change freeze" }] });
    const releases = store.releases.list({ limit: 1000 }).length;
    const refused = await post<ErrorBody>("/v1/releases", tokens.deployer, { worker: "hello" });
    expect([refused.status, refused.body.error.code]).toEqual([409, "ERR_RELEASE_WINDOW"]);
    expect(refused.body.error.message).toContain("(change freeze)");
    expect(store.releases.list({ limit: 1000 })).toHaveLength(releases);
    const empty = await post("/v1/releases", tokens.deployer, { worker: "hello", overrideWindow: { reason: " " } });
    expect(empty.status).toBe(400);

    const ok = await post<Release>("/v1/releases", tokens.deployer, { worker: "hello", overrideWindow: { reason: "hotfix INC-7" } });
    expect(ok.status).toBe(202);
    expect((await engine.wait(ok.body.id)).status).toBe("succeeded");
    const created = audit("release.create")
      .filter((a) => a.outcome === "ok")
      .at(-2)!; // requested, then started
    expect(JSON.parse(created.details)).toMatchObject({ stage: "requested", overrideWindow: "hotfix INC-7" });
    const event = store.events.list({ releaseId: ok.body.id, limit: 10 }).find((e) => e.type === "release.created")!;
    expect(event.data).toMatchObject({ windowOverride: { reason: "hotfix INC-7", window: expect.stringMatching(/^windows.deny\[0\]/) } });
  }, 60_000);
});
