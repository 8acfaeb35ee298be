// Gradual deployments: a 90/10 split measured over 2,000 requests, and the
// `Cloudflare-Workers-Version-Overrides` header pinning one version.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployVersions, putScript, uploadVersion } from "./support/api.ts";
import { startTestEdge, type TestEdge } from "./support/edge.ts";
import { createKeepAliveAgent, eventually, getWorker, hammer } from "./support/http.ts";
import { workerSource } from "./support/worker-source.ts";

const WORKER = "split";
const REQUESTS = 2_000;

describe("traffic split between versions", () => {
  let t: TestEdge;
  const agent = createKeepAliveAgent(16);
  let oldId = "";
  let newId = "";

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu"] });
    const acct = t.region.accountId;
    oldId = await putScript(t.edge, acct, WORKER, { code: workerSource("old") });
    newId = await uploadVersion(t.edge, acct, WORKER, { code: workerSource("new") });
    await deployVersions(t.edge, acct, WORKER, [
      { version_id: oldId, percentage: 90 },
      { version_id: newId, percentage: 10 },
    ]);
  });
  afterAll(async () => {
    agent.destroy();
    await t?.dispose();
  });

  it(`serves the new version to 10% ± 2.5% of ${REQUESTS} requests`, { timeout: 120_000 }, async () => {
    // Wait until the split is live (the new version has been seen at least once).
    await eventually(async () => {
      const replies = await hammer(200, 8, () => getWorker(t.region.port, WORKER, { agent }));
      expect(replies.some((r) => r.v === "new")).toBe(true);
    }, 20_000);

    const replies = await hammer(REQUESTS, 16, () => getWorker(t.region.port, WORKER, { agent }));
    const fresh = replies.filter((r) => r.v === "new").length;
    const stale = replies.filter((r) => r.v === "old").length;
    expect(fresh + stale, "every reply comes from one of the two deployed versions").toBe(REQUESTS);
    const share = fresh / REQUESTS;
    expect(share, `new version share ${(share * 100).toFixed(2)}% (${fresh}/${REQUESTS})`).toBeGreaterThanOrEqual(0.075);
    expect(share, `new version share ${(share * 100).toFixed(2)}% (${fresh}/${REQUESTS})`).toBeLessThanOrEqual(0.125);
  });

  it("the same split applies on the workers.dev host", async () => {
    const host = `${WORKER}.${t.region.subdomain}.workers.dev`;
    const replies = await hammer(400, 8, () => getWorker(t.region.port, WORKER, { agent, host }));
    const fresh = replies.filter((r) => r.v === "new").length;
    expect(replies.every((r) => r.v === "new" || r.v === "old")).toBe(true);
    expect(fresh).toBeGreaterThan(0);
    expect(fresh).toBeLessThan(120);
  });

  it("Cloudflare-Workers-Version-Overrides pins either version", async () => {
    for (const [id, tag] of [
      [newId, "new"],
      [oldId, "old"],
    ] as const) {
      const headers = { "Cloudflare-Workers-Version-Overrides": `${WORKER}="${id}"` };
      const replies = await hammer(100, 8, () => getWorker(t.region.port, WORKER, { agent, headers }));
      expect(replies.map((r) => r.v)).toEqual(new Array(100).fill(tag));
    }
  });

  it("an override naming another Worker or a version outside the deployment does not pin", async () => {
    const foreign = { "Cloudflare-Workers-Version-Overrides": `other-worker="${newId}"` };
    const replies = await hammer(200, 8, () => getWorker(t.region.port, WORKER, { agent, headers: foreign }));
    expect(replies.filter((r) => r.v === "old").length, "an override for another Worker must be ignored").toBeGreaterThan(100);
  });
});
