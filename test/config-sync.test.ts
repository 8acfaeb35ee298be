// Config sync on the orchestrator's side, against a real daemon and a real two-region local edge:
// publish signs one bundle per target (jurisdiction and target overrides merged) into each
// target's KV, where it verifies with the orchestrator's public key; an unchanged config is not
// re-published; rollback sends an earlier version as a signed rollback bundle; heartbeats signed
// with the per-Worker key record what each target applied (config.applied), carry rejections
// (config.rejected, on the audit record), and unsigned or replayed ones are refused. The Worker
// here does not run the agent (test/edge-agent*.test.ts covers that side): its pokes are refused,
// which a publish reports without failing.
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCloudflareClient } from "../src/cloudflare/index.ts";
import { startDaemon, type Daemon } from "../src/daemon.ts";
import { createHeartbeatRequest, type Heartbeat } from "../src/kit/protocol/heartbeat.ts";
import { verifyConfigBundle } from "../src/kit/protocol/config-bundle.ts";
import { importEd25519PublicKey } from "../src/kit/signing/index.ts";
import { startDaemonIn } from "./support/daemon-rig.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { runCbo } from "./support/run-cbo.ts";
import { mcpClient } from "../src/mcp/connect.ts";
import { configDiff } from "../src/mcp/tools-read.ts";

const spec = (bid: number) => `version: 1
targets:
  - { name: eu, api: local, jurisdiction: eu }
  - { name: us, api: local }
rollout: { steps: [100], gate: { bake_ms: 0, min_samples: 1, interval_ms: 20 } }
workers:
  - name: ads
    main: ads.js
    config:
      values: { bid: ${bid}, motd: hello, limits: { rate: ${bid * 10}, burst: 5 }, stripe_api_key: sk-test-${bid} }
      jurisdictions: { eu: { consent: required } }
      targets: { us: { motd: howdy } }
`;

describe("config sync and heartbeats", () => {
  let t: TestEdge;
  let dir: string;
  let d: Daemon;
  let token: string;
  const logs: string[] = [];

  const api = async <T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const res = await fetch(new URL(path, d.url), {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as T };
  };
  const kvBundle = async (region: string) => {
    const info = t.edge.regions.find((r) => r.name === region)!;
    const client = createCloudflareClient({ baseUrl: t.edge.apiUrl, apiToken: t.edge.token, accountId: info.accountId });
    const ns = (await client.listKvNamespaces()).find((n) => n.title === "cbo-config")!;
    return client.getKvText(ns.id, "config/ads");
  };
  const verify = async (raw: string, target: string) =>
    verifyConfigBundle(raw, await importEd25519PublicKey(d.orchestratorKey.publicKey), { worker: "ads", target });
  const heartbeat = (target: string, over: Partial<Heartbeat> = {}): Heartbeat => ({
    worker: "ads",
    target,
    versionId: "v-test",
    configVersion: null,
    isolate: `iso-${target}`,
    sentAt: new Date().toISOString(),
    uptimeMs: 1000,
    totals: { requests: 10, errors: 1 },
    window: { sinceMs: Date.now() - 1000, requests: 10, errors: 1 },
    rejections: [],
    ...over,
  });
  const send = async (hb: Heartbeat, key?: Uint8Array) => {
    const k = key ?? d.security.workerKeys.current({ tenant: "default", worker: "ads", target: hb.target }, "test").key;
    const req = await createHeartbeatRequest(hb, k);
    const res = await fetch(new URL("/v1/agent/heartbeat", d.url), { method: "POST", headers: req.headers, body: req.body });
    return { status: res.status, body: await res.json(), req };
  };
  const events = (type: string) => d.store.events.list({ limit: 1000 }).filter((e) => e.type === type);
  const settle = async () => {
    d.heartbeats.flush();
    await new Promise((r) => setTimeout(r, 10));
  };

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu", "us"] });
    dir = await makeTempDir("config-sync");
    writeFileSync(join(dir, "orchestrator.yaml"), spec(1));
    writeFileSync(join(dir, "ads.js"), "export default { fetch: () => new Response('ads') };\n");
    d = await startDaemonIn(dir, t.edge, {
      log: (l) => logs.push(l),
    });
    token = d.initialAdminToken!;
    const r = await api<{ id: string }>("POST", "/v1/releases", { worker: "ads" });
    expect(r.status).toBe(202);
    expect(await d.engine.wait(r.body.id)).toMatchObject({ status: "succeeded" });
  }, 60_000);
  afterAll(async () => {
    await d?.close();
    await t?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("publish signs one merged bundle per target into its KV", async () => {
    const diff = await api<Array<{ target: string; changed: boolean; desired: unknown }>>("GET", "/v1/workers/ads/config/diff");
    expect(diff.body).toEqual([
      expect.objectContaining({
        target: "eu",
        changed: true,
        desired: { bid: 1, motd: "hello", consent: "required", limits: { rate: 10, burst: 5 }, stripe_api_key: "***" },
      }),
      expect.objectContaining({
        target: "us",
        changed: true,
        desired: { bid: 1, motd: "howdy", limits: { rate: 10, burst: 5 }, stripe_api_key: "***" },
      }),
    ]);
    // A value under a secret-named key is shown masked, here as in `changes`; what is published is the real one.
    expect(JSON.stringify(diff.body)).not.toContain("sk-test");
    const pub = await api<{ version: number; targets: Array<{ target: string; written: boolean; poke: string }> }>(
      "POST",
      "/v1/workers/ads/config/publish",
      {},
    );
    expect(pub.status).toBe(200);
    expect(pub.body.version).toBe(1);
    // Written everywhere; the Worker has no agent, so its poke is refused, which is reported, not fatal.
    expect(pub.body.targets.map((x) => [x.target, x.written])).toEqual([
      ["eu", true],
      ["us", true],
    ]);
    expect(pub.body.targets.every((x) => x.poke !== "ok")).toBe(true);
    const eu = await verify((await kvBundle("eu"))!, "eu");
    expect(eu).toMatchObject({
      ok: true,
      payload: { worker: "ads", target: "eu", version: 1, rollback: false, config: { bid: 1, motd: "hello", consent: "required" } },
    });
    expect(await verify((await kvBundle("us"))!, "us")).toMatchObject({
      ok: true,
      payload: { version: 1, config: { bid: 1, motd: "howdy" } },
    });
    // eu's bundle is no good for us.
    expect(await verify((await kvBundle("eu"))!, "us")).toMatchObject({ ok: false, reason: "wrong_worker" });
    expect(d.security.audit.search({ action: "config.publish", limit: 10 })).toHaveLength(1);
    expect(events("config.published")).toHaveLength(1);
  });

  it("an unchanged config is not published again; a changed one gets the next version; rollback re-sends an old one", async () => {
    const again = await api<{ error: { code: string; hint: string } }>("POST", "/v1/workers/ads/config/publish", {});
    expect([again.status, again.body.error.code]).toEqual([409, "ERR_CONFLICT"]);
    writeFileSync(join(dir, "orchestrator.yaml"), spec(2));
    // The daemon reads its spec once at start; config edits go through a restart (or `cbo config publish` after it).
    const keyFile = join(dir, "master.key");
    await d.close();
    d = await startDaemon({
      dataDir: join(dir, "data"),
      configFile: join(dir, "orchestrator.yaml"),
      edge: t.edge,
      masterKeyFile: keyFile,
      env: {},
      port: 0,
      monitorIntervalMs: 60_000,
      log: (l) => logs.push(l),
    });
    // The diff shows each changed key with its published and desired value; a secret-looking key masked.
    const diff = await api<Array<{ target: string; changes: unknown[] }>>("GET", "/v1/workers/ads/config/diff");
    const bidChanges = [
      { path: "bid", before: 1, after: 2 },
      { path: "limits.rate", before: 10, after: 20 },
      { path: "stripe_api_key", before: "***", after: "***", masked: true },
    ];
    expect(diff.body.map((x) => [x.target, x.changes])).toEqual([
      ["eu", bidChanges],
      ["us", bidChanges],
    ]);
    expect(JSON.stringify(diff.body)).not.toContain("sk-test");
    // The real CLI and the MCP tool say the same.
    const cli = await runCbo(["config", "diff", "ads", "--data", join(dir, "data")], { cwd: dir });
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/^eu\s+bid: 1 -> 2$/m);
    expect(cli.stdout).toMatch(/^\s+limits\.rate: 10 -> 20$/m);
    expect(cli.stdout).toMatch(/^\s+stripe_api_key: "\*\*\*" -> "\*\*\*" \(masked: the key names a secret\)$/m);
    expect(cli.stdout).not.toContain("sk-test");
    const mcp = await configDiff.run({ worker: "ads" }, { api: mcpClient({ url: d.url, token }) });
    expect(mcp).toMatchObject({ kind: "done" });
    expect((mcp as { summary: string }).summary).toContain("eu: limits.rate: 10 -> 20");
    expect((mcp as { summary: string }).summary).not.toContain("sk-test");
    const second = await api<{ version: number }>("POST", "/v1/workers/ads/config/publish", {});
    expect(second.body, JSON.stringify(second.body)).toMatchObject({ version: 2 });
    // The audit entry records the values that changed, old -> new, per target (never the masked one).
    const audited = (action: string) => d.security.audit.search({ action, limit: 10 }).at(-1)!.details as { changes: unknown[] };
    const asText = (c: { path: string; before: unknown; after: unknown; masked?: boolean }) => ({
      path: c.path,
      before: JSON.stringify(c.before),
      after: JSON.stringify(c.after),
      ...(c.masked ? { masked: true } : {}),
    });
    expect(audited("config.publish").changes).toEqual(["eu", "us"].flatMap((target) => bidChanges.map((c) => ({ target, ...asText(c) }))));
    expect(await verify((await kvBundle("us"))!, "us")).toMatchObject({ ok: true, payload: { version: 2, config: { bid: 2 } } });
    const back = await api<{ version: number; rollbackOf: number }>("POST", "/v1/workers/ads/config/rollback", { to: 1 });
    expect(back.body).toMatchObject({ version: 3, rollbackOf: 1 });
    expect(audited("config.rollback").changes).toContainEqual({ target: "us", path: "bid", before: "2", after: "1" });
    expect(JSON.stringify(d.security.audit.search({ limit: 1000 }))).not.toContain("sk-test");
    expect(await verify((await kvBundle("eu"))!, "eu")).toMatchObject({
      ok: true,
      payload: { version: 3, rollback: true, config: { bid: 1 } },
    });
    const history = await api<Array<{ version: number; rollbackOf: number | null; createdBy: string; createdByToken: string }>>(
      "GET",
      "/v1/workers/ads/config/history",
    );
    expect(history.body.map((h) => [h.version, h.rollbackOf])).toEqual([
      [3, 1],
      [2, null],
      [1, null],
    ]);
    // "By" is the token's name, as releases show it; the id apart tells two tokens of one name apart.
    const admin = d.store.tokens.list().find((t) => t.name === "initial admin")!;
    expect(history.body[0]).toMatchObject({ createdBy: "initial admin", createdByToken: admin.id });
    const missing = await api<{ error: { code: string } }>("POST", "/v1/workers/ads/config/rollback", { to: 9 });
    expect([missing.status, missing.body.error.code]).toEqual([404, "ERR_NOT_FOUND"]);
  });

  it("heartbeats record what each target applied and report rejections", async () => {
    const first = await send(heartbeat("eu", { configVersion: 3 }));
    // spans: true tells a newer agent it may send its trace spans (kit/protocol/heartbeat.ts).
    expect([first.status, first.body]).toEqual([202, { configVersion: 3, spans: true }]);
    await settle();
    expect(events("config.applied").map((e) => [e.target, e.data.version])).toEqual([["eu", 3]]);
    const diff = await api<Array<{ target: string; applied: boolean }>>("GET", "/v1/workers/ads/config/diff");
    expect(diff.body.map((x) => [x.target, x.applied])).toEqual([
      ["eu", true],
      ["us", false],
    ]);
    // A second isolate on the same version is not a new transition.
    await send(heartbeat("eu", { configVersion: 3, isolate: "iso-2" }));
    const rejected = await send(
      heartbeat("us", { configVersion: 2, rejections: [{ reason: "bad_signature", version: 7, at: new Date().toISOString() }] }),
    );
    expect(rejected.status).toBe(202);
    await settle();
    expect(events("config.applied")).toHaveLength(1);
    expect(events("config.rejected").map((e) => [e.target, e.data.reason, e.data.version])).toEqual([["us", "bad_signature", 7]]);
    expect(d.security.audit.search({ action: "config.rejected", limit: 10 })).toHaveLength(1);
    expect(d.store.agents.traffic("default", "ads", "v-test", 0)).toEqual({ requests: 30, errors: 3 });
  });

  it("refuses unsigned, wrong-key and replayed heartbeats, storing nothing", async () => {
    const before = d.store.agents.isolates("default", "ads").length;
    const hb = heartbeat("us", { isolate: "iso-evil" });
    expect((await send(hb, new Uint8Array(32).fill(7))).status).toBe(401);
    const ok = await send(heartbeat("us", { isolate: "iso-good" }));
    const replay = await fetch(new URL("/v1/agent/heartbeat", d.url), { method: "POST", headers: ok.req.headers, body: ok.req.body });
    expect([ok.status, replay.status]).toEqual([202, 401]);
    const unsigned = await fetch(new URL("/v1/agent/heartbeat", d.url), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(hb),
    });
    expect(unsigned.status).toBe(401);
    const stranger = await send({ ...hb, worker: "nobody" }, new Uint8Array(32).fill(1));
    expect(stranger.status).toBe(401);
    await settle();
    expect(d.store.agents.isolates("default", "ads").map((i) => i.isolate)).not.toContain("iso-evil");
    expect(d.store.agents.isolates("default", "ads").length).toBe(before + 1);
    expect(d.security.audit.search({ action: "agent.denied", limit: 10 }).length).toBe(4);
  });

  // A publish written to eu but not to us: what a kill -9 between the two writes leaves (here the
  // us region's API is out during the publish). The daemon's next start writes the same version to
  // us by itself, with no new version, and says so (config.resumed, on the audit record too).
  it("a publish left unwritten on a target is finished on the next start, as the same version", async () => {
    t.edge.setFault("us", { outage: true });
    const pub = await api<{ version: number; targets: Array<{ target: string; written: boolean }> }>(
      "POST",
      "/v1/workers/ads/config/publish",
      {},
    );
    t.edge.setFault("us", {});
    expect(pub.body.version).toBe(4);
    expect(pub.body.targets.map((x) => [x.target, x.written])).toEqual([
      ["eu", true],
      ["us", false],
    ]);
    expect(await verify((await kvBundle("us"))!, "us")).toMatchObject({ ok: true, payload: { version: 3 } });
    const restart = async () => {
      await d.close();
      d = await startDaemon({
        dataDir: join(dir, "data"),
        configFile: join(dir, "orchestrator.yaml"),
        edge: t.edge,
        masterKeyFile: join(dir, "master.key"),
        env: {},
        port: 0,
        monitorIntervalMs: 60_000,
        log: (l) => logs.push(l),
      });
    };
    await restart();
    for (let i = 0; i < 200 && events("config.resumed").length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(events("config.resumed").map((e) => [e.worker, e.data])).toEqual([
      ["ads", expect.objectContaining({ version: 4, targets: [expect.objectContaining({ target: "us", written: true, from: 3 })] })],
    ]);
    expect(await verify((await kvBundle("us"))!, "us")).toMatchObject({ ok: true, payload: { version: 4, config: { bid: 2 } } });
    expect(d.store.configs.targets("default", "ads").map((x) => [x.target, x.version])).toEqual([
      ["eu", 4],
      ["us", 4],
    ]);
    expect(d.store.configs.latest("default", "ads")?.version).toBe(4);
    expect(d.security.audit.search({ action: "config.resumed", limit: 10 })).toHaveLength(1);
    expect(JSON.stringify(d.security.audit.search({ limit: 1000 }))).not.toContain("sk-test");
    // Nothing left behind: the next start (closed once its resume is done) writes nothing again.
    await restart();
    await restart();
    expect(events("config.resumed")).toHaveLength(1);
  });
});
