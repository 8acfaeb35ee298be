// State survives a restart: a new edge on the same data directory serves the same Workers, with
// their secrets and KV data, under the same token and account ids.
import fs from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiOk, createKvNamespace, putKv, putScript, uploadAndDeploy } from "./support/api.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { eventually, getWorker, httpGet } from "./support/http.ts";
import { workerSource } from "./support/worker-source.ts";

const WORKER = "persist";

describe("local edge restart", () => {
  let dataDir = "";
  let first: TestEdge | undefined;
  let second: TestEdge | undefined;
  let nsId = "";
  let v1 = "";
  let v2 = "";

  beforeAll(async () => {
    dataDir = await makeTempDir("restart");
    first = await startTestEdge({ dataDir, regions: ["eu", "us"] });
  });
  afterAll(async () => {
    await first?.edge.close();
    await second?.edge.close();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it("serves the deployed Worker, its secret and KV value before the restart", async () => {
    const { edge, region } = first!;
    const acct = region.accountId;
    nsId = await createKvNamespace(edge, acct, "persisted-ns");
    await putKv(edge, acct, nsId, "k", "persisted-kv");
    const bindings = [
      { type: "plain_text", name: "GREETING", text: "hello again" },
      { type: "kv_namespace", name: "MY_KV", namespace_id: nsId },
    ];
    v1 = await putScript(edge, acct, WORKER, { code: workerSource("p1"), bindings });
    await apiOk(edge, "PUT", `/accounts/${acct}/workers/scripts/${WORKER}/secrets`, {
      json: { name: "API_KEY", text: "kept-secret", type: "secret_text" },
    });
    v2 = await uploadAndDeploy(edge, acct, WORKER, { code: workerSource("p2"), bindings });
    await eventually(async () =>
      expect(await getWorker(region.port, WORKER)).toEqual({
        v: "p2",
        greeting: "hello again",
        secret: "kept-secret",
        other: null,
        kv: "persisted-kv",
      }),
    );
  });

  it("close() stops serving; a new edge on the same dataDir serves the same state", { timeout: 120_000 }, async () => {
    const before = first!;
    const oldPort = before.region.port;
    const oldAccounts = before.edge.regions.map((r) => [r.name, r.accountId]);
    await before.edge.close();
    await expect(httpGet(oldPort, `${WORKER}.localhost`, { timeoutMs: 3_000 }), "the old region port must be closed").rejects.toThrow();

    second = await startTestEdge({ dataDir, regions: ["eu", "us"] });
    const { edge, region } = second;
    expect(edge.token, "token is read back from the data directory").toBe(before.edge.token);
    expect(edge.regions.map((r) => [r.name, r.accountId])).toEqual(oldAccounts);

    await eventually(
      async () =>
        expect(await getWorker(region.port, WORKER)).toEqual({
          v: "p2",
          greeting: "hello again",
          secret: "kept-secret",
          other: null,
          kv: "persisted-kv",
        }),
      20_000,
    );
    // Served under the workers.dev host form too.
    expect(await getWorker(region.port, WORKER, { host: `${WORKER}.${region.subdomain}.workers.dev` })).toMatchObject({ v: "p2" });
  });

  it("the API still knows the versions, deployments, secrets and KV data", async () => {
    const { edge, region } = second!;
    const acct = region.accountId;
    const base = `/accounts/${acct}/workers/scripts/${WORKER}`;
    const versions = await apiOk<{ items: { id: string }[] }>(edge, "GET", `${base}/versions`);
    expect(versions.items.map((v) => v.id)).toEqual(expect.arrayContaining([v1, v2]));
    const deployments = await apiOk<{ deployments: { versions: { version_id: string; percentage: number }[] }[] }>(
      edge,
      "GET",
      `${base}/deployments`,
    );
    expect(deployments.deployments[0]!.versions).toEqual([{ version_id: v2, percentage: 100 }]);
    const secrets = await apiOk<{ name: string }[]>(edge, "GET", `${base}/secrets`);
    expect(secrets.map((s) => s.name)).toEqual(["API_KEY"]);

    const value = await fetch(`${edge.apiUrl}/accounts/${acct}/storage/kv/namespaces/${nsId}/values/k`, {
      headers: { authorization: `Bearer ${edge.token}` },
    });
    expect(value.status).toBe(200);
    expect(await value.text()).toBe("persisted-kv");
  });

  it("keeps working after the restart: a new deploy and a new KV write are served", async () => {
    const { edge, region } = second!;
    const acct = region.accountId;
    await putKv(edge, acct, nsId, "k", "written-after-restart");
    await uploadAndDeploy(edge, acct, WORKER, {
      code: workerSource("p3"),
      bindings: [
        { type: "plain_text", name: "GREETING", text: "hello again" },
        { type: "kv_namespace", name: "MY_KV", namespace_id: nsId },
      ],
    });
    await eventually(async () =>
      expect(await getWorker(region.port, WORKER)).toEqual({
        v: "p3",
        greeting: "hello again",
        secret: "kept-secret",
        other: null,
        kv: "written-after-restart",
      }),
    );
  });
});
