// The gate's runner against a real region: probes pin the new version with
// Cloudflare-Workers-Version-Overrides (so a 10% step is judged on the new version alone), and
// timeouts and refused connections count as failures.
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GateSchema } from "../src/config/schema.ts";
import { probeOnce, runGate } from "../src/deploy/index.ts";
import { deployVersions, putScript, uploadVersion } from "./support/api.ts";
import { startTestEdge, type TestEdge } from "./support/edge.ts";
import { versionSource } from "./support/orchestrator.ts";

const gate = GateSchema.parse({ interval_ms: 20, bake_ms: 300, min_samples: 10, failure_limit: 3, max_error_rate: 0.05, timeout_ms: 2000 });

describe("gate runner on the local edge", () => {
  let t: TestEdge;
  let good = "";
  let bad = "";
  const endpoint = (w: string) => ({ url: `http://127.0.0.1:${t.region.port}/`, host: `${w}.localhost` });

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu"] });
    const acct = t.region.accountId;
    good = await putScript(t.edge, acct, "split", { code: versionSource("good") });
    bad = await uploadVersion(t.edge, acct, "split", { code: versionSource("bad", { failRate: 1 }) });
    // 90% good, 10% bad: unpinned probes would mostly see the good version.
    await deployVersions(t.edge, acct, "split", [
      { version_id: good, percentage: 90 },
      { version_id: bad, percentage: 10 },
    ]);
    await putScript(t.edge, acct, "slow", {
      code: `export default { async fetch() { await new Promise((r) => setTimeout(r, 1000)); return new Response("late"); } };`,
    });
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it("judges the pinned version only: the 10% bad version fails at once, the 90% good one passes", async () => {
    const onBad = await runGate({ endpoint: endpoint("split"), worker: "split", versionId: bad, gate });
    expect(onBad.verdict).toBe("fail");
    expect(onBad.summary).toMatchObject({ samples: 3, failures: 3 });
    expect(onBad.reason).toContain("HTTP 500");

    const onGood = await runGate({ endpoint: endpoint("split"), worker: "split", versionId: good, gate });
    expect(onGood.verdict).toBe("pass");
    expect(onGood.summary.failures).toBe(0);
    expect(onGood.summary.samples).toBeGreaterThanOrEqual(gate.min_samples);
    expect(onGood.durationMs).toBeGreaterThanOrEqual(gate.bake_ms);
  });

  it("counts a probe slower than timeout_ms, and a refused connection, as failures", async () => {
    const slow = await probeOnce({ endpoint: endpoint("slow"), path: "/", worker: "slow", versionId: "x", timeoutMs: 150 });
    expect(slow).toMatchObject({ ok: false, status: 0, error: "timeout after 150 ms" });
    expect(slow.latencyMs).toBeLessThan(900);

    const free = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, "127.0.0.1", () => {
        const port = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(port));
      });
    });
    const refused = await runGate({
      endpoint: { url: `http://127.0.0.1:${free}/`, host: "x.localhost" },
      worker: "x",
      versionId: "v",
      gate,
    });
    expect(refused.verdict).toBe("fail");
    expect(refused.reason).toMatch(/connection error: ECONNREFUSED/);
  });

  it("stops between probes when its signal aborts", async () => {
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(new Error("stop")), 60);
    const err = await runGate({
      endpoint: endpoint("split"),
      worker: "split",
      versionId: good,
      gate: { ...gate, bake_ms: 10_000 },
      signal: ctl.signal,
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe("stop");
  });
});
