// Issue 5: "A canary whose own heartbeats show 30% errors fails its gate even while probes pass."
// A real daemon releases a Worker running the real edge agent (src/edge, bundled by the engine)
// to a real local edge. Version 2 answers its health probe perfectly but fails 30% of real
// requests; while the 50% step bakes, the test sends real traffic through the region, the
// agents' signed heartbeats carry each version's counts to the daemon, and the gate fails the
// step on version 2's own error rate. Version 1 (the same code with 0% failures) passes the same
// gate under the same traffic, so the verdict is the traffic's and not the setup's.
import http from "node:http";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Daemon } from "../src/daemon.ts";
import { startDaemonIn } from "./support/daemon-rig.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";

const EDGE_AGENT = fileURLToPath(new URL("../src/edge/index.ts", import.meta.url));
// The Worker's entry lives in a temp dir: it names its imports by absolute path.
const HONO = fileURLToPath(import.meta.resolve("hono"));
const source = (failRate: number) => `
import { Hono } from ${JSON.stringify(HONO)};
import { createEdgeAgent } from ${JSON.stringify(EDGE_AGENT)};
const agent = createEdgeAgent({ heartbeatIntervalMs: 100 });
const app = new Hono();
app.use(agent.middleware);
app.route("/orchestrator", agent.app);
app.get("/health", (c) => c.json({ ok: true }));
app.get("*", (c) => (Math.random() < ${failRate} ? c.text("broken", 500) : c.text("ok")));
export default { fetch: app.fetch };
`;

const SPEC = `version: 1
targets:
  - { name: eu, api: local }
rollout:
  steps: [50, 100]
  gate: { probe_path: /health, bake_ms: 2500, min_samples: 20, interval_ms: 50, max_error_rate: 0.05 }
workers:
  - { name: canary, main: canary.js, agent: true }
`;

describe("a canary's own heartbeats fail its gate", () => {
  let t: TestEdge;
  let dir: string;
  let d: Daemon;

  /** Real requests to the region until `until` settles: [answered, failed]. */
  async function traffic<T>(until: Promise<T>): Promise<{ result: T; sent: number; failed: number }> {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const port = t.edge.regions[0]!.port;
    let done = false;
    let sent = 0;
    let failed = 0;
    const one = () =>
      new Promise<void>((resolve) => {
        const r = http.request({ host: "127.0.0.1", port, path: "/shop", headers: { host: "canary.localhost" }, agent }, (res) => {
          res.resume();
          res.on("end", () => ((sent += 1), (failed += (res.statusCode ?? 0) >= 500 ? 1 : 0), resolve()));
        });
        r.on("error", () => resolve());
        r.end();
      });
    const workers = Array.from({ length: 8 }, async () => {
      while (!done) await one();
    });
    const result = await until.finally(() => (done = true));
    await Promise.all(workers);
    agent.destroy();
    return { result, sent, failed };
  }

  const release = async () => {
    const r = await d.engine.release("canary", { by: "test" });
    return d.engine.wait(r.id);
  };

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu"] });
    dir = await makeTempDir("canary-hb");
    writeFileSync(join(dir, "orchestrator.yaml"), SPEC);
    writeFileSync(join(dir, "canary.js"), source(0));
    d = await startDaemonIn(dir, t.edge);
    expect((await release()).status).toBe("succeeded");
  }, 60_000);
  afterAll(async () => {
    await d?.close();
    await t?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("a healthy new version passes the gate under the same traffic", async () => {
    writeFileSync(join(dir, "canary.js"), source(0) + "\n// v1b\n");
    const { result, sent } = await traffic(release());
    expect(result.status, result.reason ?? "").toBe("succeeded");
    expect(sent).toBeGreaterThan(100);
  }, 60_000);

  it("30% errors on real requests fail the step while every probe passes; the release rolls back", async () => {
    writeFileSync(join(dir, "canary.js"), source(0.3));
    const { result, sent, failed } = await traffic(release());
    expect(sent).toBeGreaterThan(100);
    expect(failed).toBeGreaterThan(0);
    expect(result.status).toBe("rolled_back");
    expect(result.reason).toMatch(/own traffic \(agent heartbeats\): \d+\/\d+ requests failed/);
    const failedStep = d.store.events.list({ releaseId: result.id, limit: 1000 }).find((e) => e.type === "release.step.failed")!;
    // The probes themselves were all answered: the verdict came from the agents' reports.
    expect(failedStep.data).toMatchObject({ percent: 50, errors: 0 });
    expect(failedStep.data.agentErrors as number).toBeGreaterThan(0);
    expect((failedStep.data.agentErrors as number) / (failedStep.data.agentRequests as number)).toBeGreaterThan(0.05);
  }, 60_000);
});
