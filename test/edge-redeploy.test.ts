// "Redeploying one Worker in a region never fails a request to the other Workers there": steady
// keep-alive traffic to Worker A while Worker B is redeployed 20 times through the API.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { putScript, uploadAndDeploy } from "./support/api.ts";
import { startTestEdge, type TestEdge } from "./support/edge.ts";
import { createKeepAliveAgent, eventually, getWorker, httpGet } from "./support/http.ts";
import { workerSource } from "./support/worker-source.ts";

const REDEPLOYS = 20;
const LOOPS = 4;

describe("redeploying one Worker leaves the others alone", () => {
  let t: TestEdge;
  const agent = createKeepAliveAgent(LOOPS + 2);

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu"] });
    await putScript(t.edge, t.region.accountId, "worker-a", { code: workerSource("a") });
    await putScript(t.edge, t.region.accountId, "worker-b", { code: workerSource("b-0") });
    await eventually(async () => expect(await getWorker(t.region.port, "worker-a", { agent })).toMatchObject({ v: "a" }));
  });
  afterAll(async () => {
    agent.destroy();
    await t?.dispose();
  });

  it(`Worker A answers every request while B is redeployed ${REDEPLOYS} times`, { timeout: 180_000 }, async () => {
    let stop = false;
    let ok = 0;
    const failures: string[] = [];
    const loops = Array.from({ length: LOOPS }, async () => {
      while (!stop) {
        try {
          const r = await httpGet(t.region.port, "worker-a.localhost", { agent, timeoutMs: 10_000 });
          if (r.status === 200 && (JSON.parse(r.body) as { v: string }).v === "a") ok++;
          else failures.push(`${r.status} ${r.body.slice(0, 200)}`);
        } catch (err) {
          failures.push(String(err));
        }
      }
    });

    const acct = t.region.accountId;
    try {
      for (let i = 1; i <= REDEPLOYS; i++) {
        await uploadAndDeploy(t.edge, acct, "worker-b", { code: workerSource(`b-${i}`) });
        // The deployment call returns only once the region serves the new version: the very next
        // request must get it, with no settle time.
        expect(await getWorker(t.region.port, "worker-b", { agent })).toMatchObject({ v: `b-${i}` });
      }
      // Keep the traffic going a little past the last reload.
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      stop = true;
      await Promise.all(loops);
    }

    expect(failures.slice(0, 10), `${failures.length} of ${ok + failures.length} requests to A failed`).toEqual([]);
    expect(ok, "enough traffic to A overlapped the redeploys").toBeGreaterThan(REDEPLOYS * LOOPS);
    const last = await Promise.all(Array.from({ length: 10 }, () => getWorker(t.region.port, "worker-b", { agent })));
    expect(last.map((r) => r.v)).toEqual(new Array(10).fill(`b-${REDEPLOYS}`));
  });
});
