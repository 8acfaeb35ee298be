// Our own Cloudflare client against the real local edge: the same journey as the wrangler suite
// (deploy, versions, split, rollback, secrets incl. the 10215 refusal, KV, whoami-like calls),
// checked on what workerd actually serves, then the rate-limit behaviour with a counted budget.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRequestBudget } from "../src/cloudflare/budget.ts";
import { createCloudflareClient, type CloudflareClient } from "../src/cloudflare/client.ts";
import type { TransportRequestInfo } from "../src/cloudflare/transport.ts";
import type { WorkerUpload } from "../src/cloudflare/upload.ts";
import { CboError } from "../src/kit/errors.ts";
import { startTestEdge, type TestEdge } from "./support/edge.ts";
import { createKeepAliveAgent, eventually, getWorker, hammer, type WorkerReply } from "./support/http.ts";
import { workerSource } from "./support/worker-source.ts";

const WORKER = "client-worker";

function workerUpload(tag: string, extra: Partial<WorkerUpload> = {}): WorkerUpload {
  return {
    mainModule: "index.js",
    modules: [{ name: "index.js", content: workerSource(tag) }],
    compatibilityDate: "2025-01-01",
    bindings: [{ type: "plain_text", name: "GREETING", text: "hi there" }],
    ...extra,
  };
}

async function caught(p: Promise<unknown>): Promise<CboError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(CboError);
  return e as CboError;
}

/** Largest number of starts inside any half-open window [t, t + windowMs). */
function maxInWindow(starts: number[], windowMs: number): number {
  const sorted = [...starts].sort((a, b) => a - b);
  let best = 0;
  for (let hi = 0, lo = 0; hi < sorted.length; hi++) {
    while (sorted[hi]! - sorted[lo]! >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

describe("our Cloudflare client against the local edge", () => {
  let t: TestEdge;
  let cf: CloudflareClient;
  const agent = createKeepAliveAgent(8);
  const ids: Record<string, string> = {};
  let kvId = "";

  const serve = () => getWorker(t.region.port, WORKER, { agent });
  const expectServes = (expected: Partial<WorkerReply>) =>
    eventually(async () => {
      expect(await serve()).toMatchObject(expected);
    });
  const expectAlwaysServes = async (expected: Partial<WorkerReply>, n = 20) => {
    await expectServes(expected);
    for (const r of await hammer(n, 4, () => serve())) expect(r).toMatchObject(expected);
  };
  const secretNames = async () => (await cf.listSecrets(WORKER)).map((s) => s.name).sort();

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu", "us"] });
    cf = createCloudflareClient({
      baseUrl: t.edge.apiUrl,
      apiToken: t.edge.token,
      accountId: t.region.accountId,
      budget: createRequestBudget(),
    });
  });
  afterAll(async () => {
    agent.destroy();
    await t?.dispose();
  });

  it("whoami-like calls: token, accounts, memberships, subdomain", async () => {
    expect(await cf.verifyToken()).toMatchObject({ status: "active" });
    const accounts = await cf.listAccounts();
    for (const r of t.edge.regions) expect(accounts).toContainEqual(expect.objectContaining({ id: r.accountId, name: r.accountName }));
    const memberships = await cf.listMemberships();
    expect(memberships.map((m) => m.account.id)).toEqual(expect.arrayContaining(t.edge.regions.map((r) => r.accountId)));
    expect(await cf.getSubdomain()).toBe(t.region.subdomain);
  });

  it("KV namespaces create / list", async () => {
    const ns = await cf.createKvNamespace("CLIENT_NS");
    kvId = ns.id;
    expect(kvId).toMatch(/^[0-9a-f]{32}$/);
    expect(await cf.listKvNamespaces()).toContainEqual(expect.objectContaining({ id: kvId, title: "CLIENT_NS" }));
    const dup = await caught(cf.createKvNamespace("CLIENT_NS"));
    expect(dup.code).toBe("ERR_CF_REQUEST");
    expect(dup.details?.cloudflareErrors).toEqual([expect.objectContaining({ code: 10014 })]);
  });

  it("KV key put / get / list / delete, single and bulk", async () => {
    await cf.putKvValue(kvId, "k", "hello-kv");
    await cf.putKvValue(kvId, "dir/k2", "with meta", { metadata: { owner: "me" }, expirationTtl: 3600 });
    await cf.putKvValue(kvId, "bin", new Uint8Array([0, 1, 2, 255]));
    expect(await cf.getKvText(kvId, "k")).toBe("hello-kv");
    expect(await cf.getKvText(kvId, "dir/k2")).toBe("with meta");
    expect(await cf.getKvValue(kvId, "bin")).toEqual(new Uint8Array([0, 1, 2, 255]));
    expect(await cf.getKvValue(kvId, "nope")).toBeNull();
    const keys = await cf.listKvKeys(kvId);
    expect(keys.map((k) => k.name).sort()).toEqual(["bin", "dir/k2", "k"]);
    const k2 = keys.find((k) => k.name === "dir/k2")!;
    expect(k2.metadata).toEqual({ owner: "me" });
    expect(k2.expiration).toBeGreaterThan(Date.now() / 1000);
    expect((await cf.listKvKeys(kvId, { prefix: "dir/" })).map((k) => k.name)).toEqual(["dir/k2"]);
    await cf.deleteKvValue(kvId, "dir/k2");
    expect(await cf.getKvValue(kvId, "dir/k2")).toBeNull();

    await cf.bulkPutKv(kvId, [
      { key: "b1", value: "one" },
      { key: "b2", value: Buffer.from("two").toString("base64"), base64: true },
    ]);
    expect(await cf.getKvText(kvId, "b1")).toBe("one");
    expect(await cf.getKvText(kvId, "b2")).toBe("two");
    await cf.bulkDeleteKv(kvId, ["b1", "b2", "bin"]);
    expect((await cf.listKvKeys(kvId)).map((k) => k.name)).toEqual(["k"]);
  });

  it("deploy: a first deploy creates the Worker, and workerd serves it", async () => {
    const kvBinding = { type: "kv_namespace", name: "MY_KV", namespace_id: kvId };
    const first = await cf.deploy(
      WORKER,
      workerUpload("v1", { bindings: [{ type: "plain_text", name: "GREETING", text: "hi there" }, kvBinding] }),
    );
    expect(first.created).toBe(true);
    ids.v1 = first.versionId;
    expect(first.deployment.versions).toEqual([{ version_id: ids.v1, percentage: 100 }]);
    await expectAlwaysServes({ v: "v1", greeting: "hi there", kv: "hello-kv" });
    expect((await cf.listScripts()).map((s) => s.id)).toContain(WORKER);
  });

  it("deploy: an existing Worker gets a new version deployed at 100%", async () => {
    const second = await cf.deploy(
      WORKER,
      workerUpload("v2", {
        bindings: [
          { type: "plain_text", name: "GREETING", text: "hi there" },
          { type: "kv_namespace", name: "MY_KV", namespace_id: kvId },
        ],
      }),
      { message: "second" },
    );
    expect(second.created).toBe(false);
    ids.v2 = second.versionId;
    expect(second.deployment.annotations?.["workers/message"]).toBe("second");
    await expectAlwaysServes({ v: "v2", kv: "hello-kv" });
  });

  it("versions list / get", async () => {
    const versions = await cf.listVersions(WORKER);
    expect(versions.map((v) => v.id)).toEqual(expect.arrayContaining([ids.v1, ids.v2]));
    const v2 = await cf.getVersion(WORKER, ids.v2!);
    expect(v2.id).toBe(ids.v2);
    expect(v2.resources?.script_runtime?.compatibility_date).toBe("2025-01-01");
    expect(v2.resources?.bindings).toEqual(expect.arrayContaining([expect.objectContaining({ name: "GREETING", type: "plain_text" })]));
    const missing = await caught(cf.getVersion(WORKER, "00000000-0000-4000-8000-000000000000"));
    expect(missing.code).toBe("ERR_CF_REQUEST");
    expect(missing.details?.status).toBe(404);
  });

  it("secrets put / list on a deployed Worker reach the Worker", async () => {
    await cf.putSecret(WORKER, "API_KEY", "s3cret");
    expect(await secretNames()).toEqual(["API_KEY"]);
    await expectAlwaysServes({ v: "v2", secret: "s3cret", greeting: "hi there" });
  });

  it("split deployment: an uploaded version shares traffic, and secret changes are refused with 10215", async () => {
    const v3 = await cf.uploadVersion(
      WORKER,
      workerUpload("v3", {
        annotations: { "workers/message": "canary", "workers/tag": "t3" },
        bindings: [
          { type: "plain_text", name: "GREETING", text: "hi there" },
          { type: "kv_namespace", name: "MY_KV", namespace_id: kvId },
        ],
      }),
    );
    ids.v3 = v3.id;
    // uploaded, not deployed: still v2, and the secret survived the upload (keep_bindings)
    await expectAlwaysServes({ v: "v2" }, 10);
    const refusal = await caught(cf.putSecret(WORKER, "OTHER", "x"));
    expect(refusal.code).toBe("ERR_CF_REQUEST");
    expect(refusal.details?.cloudflareErrors).toEqual([expect.objectContaining({ code: 10215 })]);
    expect(refusal.message).toMatch(/^Cloudflare API error 10215/);

    // The live version is the one `putSecret` created from v2 (same code, with the secret): a split
    // with the pre-secret v2 would put traffic back past a secret change (10220).
    const [before] = await cf.listDeployments(WORKER);
    const split = await cf.createDeployment(
      WORKER,
      [
        { versionId: before!.versions[0]!.version_id, percentage: 50 },
        { versionId: ids.v3, percentage: 50 },
      ],
      { message: "50/50" },
    );
    expect(split.versions).toHaveLength(2);
    const [live] = await cf.listDeployments(WORKER);
    expect(live!.id).toBe(split.id);
    const seen = new Set((await hammer(60, 4, () => serve())).map((r) => r.v));
    expect(seen).toEqual(new Set(["v2", "v3"]));
    expect((await caught(cf.bulkSecrets(WORKER, { OTHER: "x" }))).details?.cloudflareErrors).toEqual([
      expect.objectContaining({ code: 10215 }),
    ]);
    expect((await caught(cf.createDeployment(WORKER, [{ versionId: ids.v3, percentage: 70 }]))).code).toBe("ERR_VALIDATION");
  });

  it("deploying at 100% ends the split; bulk secrets and delete then work", async () => {
    // [latest 100%, older 0%] is what `wrangler versions deploy` leaves when the old version is dialled
    // to 0: the latest version is fully deployed, so Cloudflare takes secret changes (no 10215).
    const [split] = await cf.listDeployments(WORKER);
    const older = split!.versions.find((v) => v.version_id !== ids.v3)!.version_id;
    await cf.createDeployment(WORKER, [
      { versionId: ids.v3!, percentage: 100 },
      { versionId: older, percentage: 0 },
    ]);
    await expectAlwaysServes({ v: "v3", secret: "s3cret" });
    await cf.bulkSecrets(WORKER, { OTHER: "other-value", TEMP: "t" });
    expect(await secretNames()).toEqual(["API_KEY", "OTHER", "TEMP"]);
    await expectServes({ other: "other-value" });
    await cf.bulkSecrets(WORKER, { TEMP: null });
    await cf.deleteSecret(WORKER, "OTHER");
    expect(await secretNames()).toEqual(["API_KEY"]);
    await expectAlwaysServes({ v: "v3", secret: "s3cret", other: null });
  });

  it("rollback: to an explicit version, and implicitly to the previous 100% deployment", async () => {
    // v1 predates every secret: Cloudflare refuses to go back past a secret change unless forced.
    const refused = await caught(cf.rollback(WORKER, { versionId: ids.v1! }));
    expect(refused.details?.cloudflareErrors).toEqual([
      expect.objectContaining({ code: 10220, message: expect.stringMatching(/The following secrets have changed: API_KEY$/) }),
    ]);
    await expectAlwaysServes({ v: "v3" });
    await cf.rollback(WORKER, { versionId: ids.v1!, force: true });
    await expectAlwaysServes({ v: "v1" });
    const deployments = await cf.listDeployments(WORKER);
    expect(deployments[0]!.annotations?.["workers/message"]).toBe("Rollback");
    await cf.rollback(WORKER, { force: true });
    // the deployment before the v1 rollback served only secret-created versions of v3, whose code is v3
    await expectAlwaysServes({ v: "v3" });
  });

  it("a second region's account through forAccount", async () => {
    const us = t.edge.region("us");
    const cfUs = cf.forAccount(us.accountId);
    const result = await cfUs.deploy("us-worker", workerUpload("us1"));
    expect(result.created).toBe(true);
    await eventually(async () => {
      expect(await getWorker(us.port, "us-worker", { agent })).toMatchObject({ v: "us1" });
    });
    expect((await cfUs.listScripts()).map((s) => s.id)).toEqual(["us-worker"]);
    expect((await cf.listScripts()).map((s) => s.id)).not.toContain("us-worker");
  });

  it("tunnels: create / list / configuration / token", async () => {
    const tunnel = await cf.createTunnel("client-tunnel");
    expect(tunnel.name).toBe("client-tunnel");
    expect((await cf.listTunnels()).map((x) => x.id)).toContain(tunnel.id);
    expect((await cf.listTunnels({ name: "client-tunnel" })).map((x) => x.id)).toEqual([tunnel.id]);
    const config = await cf.putTunnelConfig(tunnel.id, {
      ingress: [{ hostname: "app.example.com", service: "http://localhost:8787" }, { service: "http_status:404" }],
    });
    expect(config.config?.ingress).toHaveLength(2);
    const token = await cf.getTunnelToken(tunnel.id);
    expect(JSON.parse(Buffer.from(token, "base64").toString("utf8"))).toMatchObject({ t: tunnel.id });
    await cf.deleteTunnel(tunnel.id);
    expect((await cf.listTunnels()).map((x) => x.id)).not.toContain(tunnel.id);
  });

  describe("a rate-limited region", () => {
    const region = "us";
    const budgetLimit = 4;
    const budgetWindowMs = 1000;

    function limitedClient(maxRetries: number) {
      const starts: TransportRequestInfo[] = [];
      const client = createCloudflareClient({
        baseUrl: t.edge.apiUrl,
        apiToken: t.edge.token,
        accountId: t.edge.region(region).accountId,
        budget: createRequestBudget({ limit: budgetLimit, windowMs: budgetWindowMs }),
        maxRetries,
        baseDelayMs: 100,
        maxDelayMs: 1000,
        onRequest: (i) => starts.push(i),
      });
      return { client, starts };
    }

    it("without retries, calls over the API's limit fail clearly with ERR_CF_RATE_LIMITED", async () => {
      t.edge.setFault(region, { rateLimit: { limit: 5, windowSec: 2 } });
      try {
        const { client, starts } = limitedClient(0);
        const outcomes = await Promise.all(
          Array.from({ length: 20 }, () =>
            client.listScripts().then(
              () => "ok",
              (e: unknown) => e,
            ),
          ),
        );
        const errors = outcomes.filter((o) => o !== "ok") as CboError[];
        expect(errors.length).toBeGreaterThan(0);
        for (const e of errors) {
          expect(e).toBeInstanceOf(CboError);
          expect(e.code).toBe("ERR_CF_RATE_LIMITED");
          expect(e.details).toMatchObject({ status: 429, attempts: 1, cloudflareErrors: [expect.objectContaining({ code: 971 })] });
        }
        expect(starts).toHaveLength(20);
        expect(
          maxInWindow(
            starts.map((s) => s.startedAt),
            budgetWindowMs,
          ),
        ).toBeLessThanOrEqual(budgetLimit);
      } finally {
        t.edge.setFault(region, null);
      }
    });

    it("with retries, all 20 calls succeed, and the budget is never exceeded", async () => {
      t.edge.setFault(region, { rateLimit: { limit: 5, windowSec: 2 } });
      try {
        const accountId = t.edge.region(region).accountId;
        const before = t.edge.apiRequestCount(accountId);
        const { client, starts } = limitedClient(10);
        const results = await Promise.all(Array.from({ length: 20 }, () => client.listScripts()));
        expect(results).toHaveLength(20);
        // the edge did rate-limit us (more attempts than calls), and saw exactly our attempts
        expect(starts.length).toBeGreaterThan(20);
        expect(t.edge.apiRequestCount(accountId) - before).toBe(starts.length);
        expect(
          maxInWindow(
            starts.map((s) => s.startedAt),
            budgetWindowMs,
          ),
        ).toBeLessThanOrEqual(budgetLimit);
        expect(client.budget.stats()).toMatchObject({ started: starts.length, queued: 0 });
      } finally {
        t.edge.setFault(region, null);
      }
    });
  });
});
