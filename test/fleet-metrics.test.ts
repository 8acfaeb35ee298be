// The metrics page's series (src/fleet-metrics) over real parts: Cloudflare's invocation analytics
// read through our client from a real local edge, the agents' counts from a real store, and a
// second target whose API does not answer (a closed port on 127.0.0.1): there the agents' counts
// stand in and the source says why. A new request moves the series at the next read.
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCloudflareClient, createRequestBudget } from "../src/cloudflare/index.ts";
import { loadSpec } from "../src/config/load.ts";
import { createFleetMetrics } from "../src/fleet-metrics/index.ts";
import { createStore, type Store } from "../src/store/index.ts";
import { buildTargets } from "../src/targets/index.ts";
import type { TargetRuntime } from "../src/targets/types.ts";
import { putScript } from "./support/api.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { httpGet } from "./support/http.ts";

const CODE = `export default { async fetch(req) { if (new URL(req.url).pathname === "/boom") throw new Error("boom"); return new Response("ok"); } }`;
const SPEC = `version: 1
targets:
  - { name: eu, api: local }
  - { name: down, api: local, region: eu }
workers:
  - { name: metered, main: w.js }
  - { name: quiet, main: w.js, targets: [eu] }
`;

describe("the metrics series: analytics and heartbeats per worker, target and minute", () => {
  let t: TestEdge;
  let dir: string;
  let store: Store;
  let targets: Map<string, TargetRuntime>;

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu"] });
    dir = await makeTempDir("fleet-metrics");
    writeFileSync(join(dir, "orchestrator.yaml"), SPEC);
    writeFileSync(join(dir, "w.js"), CODE);
    store = createStore(join(dir, "orchestrator.sqlite"));
    const spec = loadSpec(join(dir, "orchestrator.yaml"));
    targets = buildTargets(spec.targets, { edge: t.edge });
    // "down": the same account behind an API that does not answer (no retries, so the test is quick).
    targets.set("down", {
      ...targets.get("down")!,
      client: createCloudflareClient({
        baseUrl: "http://127.0.0.1:9/client/v4",
        apiToken: "x",
        accountId: t.region.accountId,
        maxRetries: 0,
        budget: createRequestBudget(),
      }),
    });
    await putScript(t.edge, t.region.accountId, "metered", { code: CODE });
  });
  afterAll(async () => {
    store?.db.close();
    await t?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("gives every minute a point: requests, errors, error rate and p99 from analytics; the agents' counts beside them", async () => {
    const spec = loadSpec(join(dir, "orchestrator.yaml"));
    const metrics = createFleetMetrics({
      spec: () => spec,
      targets: () => targets,
      agentMinutes: (tenant, since) => store.agents.minutes(tenant, since),
      freshMs: 0,
    });
    for (let i = 0; i < 4; i++) await httpGet(t.region.port, "metered.localhost", { path: "/" });
    await httpGet(t.region.port, "metered.localhost", { path: "/boom" });
    const now = new Date().toISOString();
    const base = {
      tenant: "default",
      worker: "metered",
      isolate: "i1",
      version_id: "v1",
      config_version: null,
      uptime_ms: 1,
      requests: 9,
      errors: 2,
      received_at: now,
    };
    store.agents.record({ ...base, target: "eu", window: { requests: 7, errors: 1 } });
    store.agents.record({ ...base, target: "down", window: { requests: 9, errors: 2 } });

    const s = await metrics.series({ minutes: 10 });
    expect(s.stepSeconds).toBe(60);
    expect(s.series.map((x) => `${x.worker}@${x.target}`).sort()).toEqual(["metered@down", "metered@eu", "quiet@eu"]);
    for (const x of s.series) expect(x.points.length).toBe(10);
    // Sums over the range (the requests may straddle a minute); each minute's start is a point.
    const points = (w: string, tg: string) => s.series.find((x) => x.worker === w && x.target === tg)!.points;
    const sum = (w: string, tg: string) =>
      points(w, tg).reduce(
        (a, p) => ({
          requests: a.requests + p.requests,
          errors: a.errors + p.errors,
          agentRequests: a.agentRequests + p.agentRequests,
          agentErrors: a.agentErrors + p.agentErrors,
        }),
        {
          requests: 0,
          errors: 0,
          agentRequests: 0,
          agentErrors: 0,
        },
      );
    expect(sum("metered", "eu")).toEqual({ requests: 5, errors: 1, agentRequests: 7, agentErrors: 1 });
    const busy = points("metered", "eu").filter((p) => p.requests > 0);
    expect(busy.every((p) => p.p99Ms !== null && p.errorRate !== null && p.errorRate === p.errors / p.requests)).toBe(true);
    expect(points("metered", "eu").every((p, i, all) => i === 0 || Date.parse(p.t) - Date.parse(all[i - 1]!.t) === 60_000)).toBe(true);
    expect(Date.now() - Date.parse(points("metered", "eu").at(-1)!.t)).toBeLessThan(120_000);
    // No analytics for "down": the agents' counts stand in, and the source says why.
    expect(sum("metered", "down")).toEqual({ requests: 9, errors: 2, agentRequests: 9, agentErrors: 2 });
    expect(points("metered", "down").every((p) => p.p99Ms === null)).toBe(true);
    expect(sum("quiet", "eu")).toEqual({ requests: 0, errors: 0, agentRequests: 0, agentErrors: 0 });
    expect(points("quiet", "eu").every((p) => p.errorRate === null && p.p99Ms === null)).toBe(true);
    const down = s.sources.find((x) => x.target === "down")!;
    expect(down.analytics).toBe("error");
    expect(down.error).toMatch(/ERR_CF_UNAVAILABLE/);
    expect(s.sources.find((x) => x.target === "eu")).toMatchObject({ analytics: "ok", error: null });

    await httpGet(t.region.port, "metered.localhost", { path: "/" });
    const again = await metrics.series({ worker: "metered", target: "eu", minutes: 10 });
    expect(again.series.length).toBe(1);
    expect(again.series[0]!.points.reduce((a, p) => a + p.requests, 0)).toBe(6);
  });

  it("reads Cloudflare at most every freshMs, whoever asks", async () => {
    const spec = loadSpec(join(dir, "orchestrator.yaml"));
    let reads = 0;
    const counting = new Map(targets);
    const eu = targets.get("eu")!;
    counting.set("eu", {
      ...eu,
      client: createCloudflareClient({
        baseUrl: t.edge.apiUrl,
        apiToken: t.edge.token,
        accountId: t.region.accountId,
        budget: createRequestBudget(),
        onRequest: () => reads++,
      }),
    });
    const metrics = createFleetMetrics({ spec: () => spec, targets: () => counting, agentMinutes: () => [], freshMs: 60_000 });
    await Promise.all([1, 2, 3].map(() => metrics.series({ target: "eu", minutes: 5 })));
    await metrics.series({ target: "eu", minutes: 5 });
    expect(reads).toBe(1);
  });
});
