// Issue 5's acceptance on the local edge, with the example fleet's own code (examples/ads-api: a
// wrangler project, Hono with the edge agent mounted, its D1 sites and per-site rate limiter) in
// three regions and a real daemon:
// - config v2 published: every Worker in every region reports v2 applied (heartbeats) and the
//   app's behaviour changes accordingly;
// - the orchestrator stopped: the Workers answer 100% of requests from their last known good
//   config for the whole time; restarted, it catches up (heartbeats again, the next publish applied);
// - bundles tampered with straight in KV (bad signature, an older signed version, garbage JSON):
//   every Worker keeps the last good config, reports the rejection, and the daemon raises
//   config.rejected.
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCloudflareClient } from "../src/cloudflare/index.ts";
import { startDaemon, type Daemon } from "../src/daemon.ts";
import { sendPoke } from "../src/sync/send-poke.ts";
import { generateKeyFile } from "../src/vault/index.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { writeExampleProject } from "./support/example-project.ts";
import { createKeepAliveAgent, httpGet } from "./support/http.ts";

const REGIONS = ["eu", "us", "ap"];

const spec = (motd: string, usTracking: boolean) => `version: 1
targets:
  - { name: eu, api: local, jurisdiction: eu }
  - { name: us, api: local, jurisdiction: us }
  - { name: ap, api: local, jurisdiction: ap }
rollout:
  steps: [100]
  gate: { probe_path: /health, bake_ms: 200, min_samples: 3, interval_ms: 30 }
workers:
  - wrangler: ads-attribution/wrangler.jsonc
  - wrangler: ads-api/wrangler.jsonc
    secrets: [SHOPIFY_WEBHOOK_SECRET]
    config:
      values: { currency: USD, tracking: { enabled: true, campaigns: [spring-sale] }, motd: ${JSON.stringify(motd)} }
      jurisdictions: { eu: { currency: EUR } }
      targets: { us: { tracking: { enabled: ${usTracking}, campaigns: [spring-sale] } } }
`;

type Root = { configVersion: number | null; currency: string; tracking: boolean; motd: string };

describe("the edge loop: config sync, last known good, tampering", () => {
  let t: TestEdge;
  let dir: string;
  let keyFile: string;
  let d: Daemon;
  let token: string;
  const agent = createKeepAliveAgent(8);
  const port = (region: string) => t.edge.regions.find((r) => r.name === region)!.port;
  const root = async (region: string) => {
    const r = await httpGet(port(region), "ads-api.localhost", { path: "/", agent });
    return { status: r.status, body: JSON.parse(r.body) as Root };
  };
  // The Workers hold the orchestrator's URL in their bindings: a restart keeps its port, as a
  // production daemon behind a fixed port or tunnel hostname does.
  let daemonPort = 0;
  const start = async () => {
    d = await startDaemon({
      dataDir: join(dir, "data"),
      configFile: join(dir, "orchestrator.yaml"),
      edge: t.edge,
      masterKeyFile: keyFile,
      env: {},
      port: daemonPort,
      monitorIntervalMs: 500,
      log: () => {},
    });
    daemonPort = Number(new URL(d.url).port);
  };
  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(new URL(path, d.url), {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await res.json()) as T;
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  /** Until every region's agents reported running `version` (their heartbeats), or fail after 10 s. */
  const appliedEverywhere = async (version: number) => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      d.heartbeats.flush();
      const diff = await api<Array<{ target: string; written: number | null; applied: boolean }>>("GET", "/v1/workers/ads-api/config/diff");
      if (diff.every((x) => x.written === version && x.applied)) return diff;
      if (Date.now() > deadline) throw new Error(`config v${version} not applied everywhere: ${JSON.stringify(diff)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const publish = async (force = false) =>
    (await api<{ version: number }>("POST", "/v1/workers/ads-api/config/publish", { force })).version;
  const kvOf = async (region: string) => {
    const info = t.edge.regions.find((r) => r.name === region)!;
    const client = createCloudflareClient({ baseUrl: t.edge.apiUrl, apiToken: t.edge.token, accountId: info.accountId });
    const ns = (await client.listKvNamespaces()).find((n) => n.title === "cbo-config")!.id;
    return { get: () => client.getKvText(ns, "config/ads-api"), put: (v: string) => client.putKvValue(ns, "config/ads-api", v) };
  };
  const setSpec = async (motd: string, usTracking: boolean) => {
    writeFileSync(join(dir, "orchestrator.yaml"), spec(motd, usTracking));
    await new Promise((r) => setTimeout(r, 300)); // the daemon looks at the file at most every 250 ms
  };

  beforeAll(async () => {
    t = await startTestEdge({ regions: REGIONS });
    dir = await makeTempDir("edge-loop");
    writeExampleProject(dir);
    writeFileSync(join(dir, "orchestrator.yaml"), spec("first", true));
    keyFile = join(dir, "master.key");
    generateKeyFile(keyFile);
    await start();
    token = d.initialAdminToken!;
    await api("PUT", "/v1/secrets/SHOPIFY_WEBHOOK_SECRET", { value: "edge-loop-webhook-secret", mode: "relay" });
    for (const w of ["ads-attribution", "ads-api"]) {
      const r = await api<{ id: string }>("POST", "/v1/releases", { worker: w });
      expect((await d.engine.wait(r.id)).status).toBe("succeeded");
    }
    expect(await publish()).toBe(1);
    await appliedEverywhere(1);
  }, 120_000);
  afterAll(async () => {
    agent.destroy();
    await d?.close();
    await t?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Each region's v1 bundle, validly signed: replayed later as an older version. */
  const v1Bundles: Record<string, string> = {};

  it("config v2: every Worker in every region reports it applied, and behaves accordingly", async () => {
    for (const r of REGIONS) v1Bundles[r] = (await (await kvOf(r)).get())!;
    for (const r of REGIONS) expect((await root(r)).body).toMatchObject({ configVersion: 1, motd: "first", tracking: true });
    await setSpec("second", false);
    expect(await publish()).toBe(2);
    await appliedEverywhere(2);
    expect((await root("eu")).body).toMatchObject({ configVersion: 2, motd: "second", currency: "EUR", tracking: true });
    expect((await root("ap")).body).toMatchObject({ configVersion: 2, motd: "second", currency: "USD", tracking: true });
    // us turned tracking off: the tracking endpoint now refuses to record.
    expect((await root("us")).body).toMatchObject({ configVersion: 2, tracking: false });
    const click = await httpGet(port("us"), "ads-api.localhost", { path: "/t?s=demo-shop&c=spring-sale", agent });
    expect([click.status, JSON.parse(click.body).tracked]).toEqual([202, false]);
    const tracked = await httpGet(port("ap"), "ads-api.localhost", { path: "/t?s=demo-shop&c=spring-sale", agent });
    expect([tracked.status, JSON.parse(tracked.body).tracked]).toEqual([200, true]);
  }, 60_000);

  it("with the orchestrator stopped, every request is answered from the last good config; restarted, it catches up", async () => {
    await d.close();
    const stoppedAt = Date.now();
    let answered = 0;
    const wrong: string[] = [];
    while (Date.now() - stoppedAt < 3_000) {
      for (const r of REGIONS) {
        const { status, body } = await root(r);
        if (status === 200 && body.configVersion === 2 && body.motd === "second") answered++;
        else wrong.push(`${r}: ${status} ${JSON.stringify(body)}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(answered).toBeGreaterThan(30);

    await start();
    const restartedAt = new Date().toISOString();
    await setSpec("third", false);
    expect(await publish()).toBe(3);
    await appliedEverywhere(3);
    for (const r of REGIONS) expect((await root(r)).body).toMatchObject({ configVersion: 3, motd: "third" });
    // The agents report to the restarted daemon.
    d.heartbeats.flush();
    expect(new Set(d.store.agents.isolates("default", "ads-api", undefined, restartedAt).map((i) => i.target))).toEqual(new Set(REGIONS));
  }, 60_000);

  it("tampered bundles in KV are refused everywhere: the last good config stays, the rejection is reported and raised", async () => {
    const flip = (raw: string) => {
      const b = JSON.parse(raw) as { payload: string; signature: string; keyId: string };
      return JSON.stringify({ ...b, payload: b.payload.slice(0, 10) + (b.payload[10] === "A" ? "B" : "A") + b.payload.slice(11) });
    };
    const currentBundles = Object.fromEntries(await Promise.all(REGIONS.map(async (r) => [r, (await (await kvOf(r)).get())!] as const)));
    const cases: Array<[string, (region: string) => Promise<string>]> = [
      ["bad_signature", async (r) => flip(currentBundles[r]!)],
      ["older_version", async (r) => v1Bundles[r]!],
      ["malformed", async () => "{ this is not a bundle"],
    ];
    for (const [reason, make] of cases) {
      const since = d.store.events.lastId();
      for (const r of REGIONS) await (await kvOf(r)).put(await make(r));
      for (const r of REGIONS) {
        const key = d.security.workerKeys.current({ tenant: "default", worker: "ads-api", target: r }, "test").key;
        expect(
          await sendPoke(
            { url: `http://127.0.0.1:${port(r)}/`, host: "ads-api.localhost" },
            { worker: "ads-api", target: r, configVersion: 4 },
            [key],
          ),
        ).toBe("ok");
      }
      const deadline = Date.now() + 10_000;
      let raised: Array<{ target: string | null; reason: unknown }> = [];
      while (Date.now() < deadline) {
        d.heartbeats.flush();
        raised = d.store.events
          .list({ after: since, limit: 1000 })
          .filter((e) => e.type === "config.rejected")
          .map((e) => ({ target: e.target, reason: e.data.reason }));
        if (new Set(raised.map((x) => x.target)).size === 3) break;
        await new Promise((res) => setTimeout(res, 100));
      }
      const expected = (_r: string) => reason;
      for (const r of REGIONS) {
        expect(
          raised.filter((x) => x.target === r).map((x) => x.reason),
          `${reason} in ${r}`,
        ).toContain(expected(r));
        // Still serving the last good config.
        expect((await root(r)).body).toMatchObject({ configVersion: 3, motd: "third" });
        const health = JSON.parse((await httpGet(port(r), "ads-api.localhost", { path: "/orchestrator/health", agent })).body) as {
          configVersion: number;
          rejections: { total: number; recent: Array<{ reason: string }> };
        };
        expect(health.configVersion).toBe(3);
        expect(health.rejections.recent.map((x) => x.reason)).toContain(expected(r));
      }
    }
    // The rejections are on the audit record too.
    expect(d.security.audit.search({ action: "config.rejected", limit: 1000 }).length).toBeGreaterThanOrEqual(9);
    // A good bundle again: applied everywhere.
    expect(await publish(true)).toBe(4);
    await appliedEverywhere(4);
  }, 90_000);
});
