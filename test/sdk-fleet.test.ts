// The `cloudflare` SDK (7.3.0) against the local edge for the fleet endpoints our own client
// calls (D1 with Time Travel, R2, Queues and consumers, Durable Object namespaces, cron
// schedules, workers.dev, script settings, custom domains, zone routes, the assets upload
// session), so users' SDK code runs unchanged; each resource is made by one and read by the
// other, so both see the same API. List iterators run under a request cap, so a server that
// ignored `page` would fail the test instead of hanging it.
import Cloudflare, { NotFoundError } from "cloudflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CloudflareClient } from "../src/cloudflare/index.ts";
import { startTestEdge, type TestEdge } from "./support/edge.ts";
import { recordingClient } from "./support/cf-client.ts";
import { workerSource } from "./support/worker-source.ts";

const MAX_REQUESTS = 40;

describe("cloudflare SDK 7.3.0 against the local edge: fleet endpoints", () => {
  let t: TestEdge;
  let sdk: Cloudflare;
  let cf: CloudflareClient;
  let acct = "";

  async function drain<T>(iterable: AsyncIterable<T>): Promise<T[]> {
    const start = t.edge.apiRequestCount(acct);
    const items: T[] = [];
    for await (const item of iterable) {
      items.push(item);
      if (t.edge.apiRequestCount(acct) - start > MAX_REQUESTS) throw new Error("pagination did not end");
    }
    return items;
  }

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu"] });
    acct = t.region.accountId;
    sdk = new Cloudflare({ baseURL: t.edge.apiUrl, apiToken: t.edge.token, maxRetries: 0, timeout: 20_000 });
    cf = recordingClient(t).cf;
    await cf.deploy("fleet", {
      mainModule: "index.js",
      modules: [{ name: "index.js", content: workerSource("fleet") }],
      compatibilityDate: "2025-01-01",
    });
  });
  afterAll(async () => t?.dispose());

  it("D1: create, list (pages), get, query, raw, Time Travel, delete", async () => {
    const made = await sdk.d1.database.create({ account_id: acct, name: "sdk-db", primary_location_hint: "weur" });
    const madeId = made.uuid!;
    expect((await cf.getD1Database("sdk-db"))?.uuid).toBe(made.uuid);
    const mine = await cf.createD1Database("client-db");
    for (let i = 0; i < 12; i++) await cf.createD1Database(`extra-${i}`);
    const listed = await drain(sdk.d1.database.list({ account_id: acct, per_page: 5 }));
    expect(listed.map((d) => d.uuid)).toContain(mine.uuid);
    expect(new Set(listed.map((d) => d.uuid)).size).toBe(14);
    expect((await sdk.d1.database.get(mine.uuid, { account_id: acct })).name).toBe("client-db");
    await cf.queryD1(mine.uuid, "CREATE TABLE t (x); INSERT INTO t VALUES (1)");
    const bookmark = (await sdk.d1.database.timeTravel.getBookmark(mine.uuid, { account_id: acct })).bookmark!;
    expect(bookmark).toBe(await cf.getD1Bookmark(mine.uuid));
    await drain(sdk.d1.database.query(mine.uuid, { account_id: acct, sql: "INSERT INTO t VALUES (?)", params: ["2"] }));
    const q = await drain(sdk.d1.database.query(mine.uuid, { account_id: acct, sql: "SELECT 0 AS zero; SELECT COUNT(*) AS n FROM t" }));
    expect(q.map((r) => r.results)).toEqual([[{ zero: 0 }], [{ n: 2 }]]);
    const raw = await drain(sdk.d1.database.raw(mine.uuid, { account_id: acct, sql: "SELECT x FROM t ORDER BY x" }));
    expect(raw[0]?.results).toEqual({ columns: ["x"], rows: [[1], ["2"]] }); // the SDK types params as strings
    await sdk.d1.database.timeTravel.restore(mine.uuid, { account_id: acct, bookmark });
    expect((await cf.queryD1(mine.uuid, "SELECT COUNT(*) AS n FROM t"))[0]!.results).toEqual([{ n: 1 }]);
    await sdk.d1.database.delete(madeId, { account_id: acct });
    expect(await cf.getD1Database(madeId)).toBeNull();
    const missing = await sdk.d1.database.get(madeId, { account_id: acct }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect((missing as NotFoundError).errors[0]).toMatchObject({ code: 7404 });
  });

  it("R2: buckets per jurisdiction, through the SDK's cf-r2-jurisdiction parameter", async () => {
    await sdk.r2.buckets.create({ account_id: acct, name: "sdk-bucket", locationHint: "enam" });
    await sdk.r2.buckets.create({ account_id: acct, name: "sdk-bucket", "cf-r2-jurisdiction": "eu" } as Parameters<
      typeof sdk.r2.buckets.create
    >[0]);
    expect(await cf.getR2Bucket("sdk-bucket")).toMatchObject({ location: "ENAM" });
    expect(await cf.getR2Bucket("sdk-bucket", { jurisdiction: "eu" })).toMatchObject({ jurisdiction: "eu" });
    await cf.createR2Bucket("client-bucket");
    const list = await sdk.r2.buckets.list({ account_id: acct });
    expect(list.buckets?.map((b) => b.name).sort()).toEqual(["client-bucket", "sdk-bucket"]);
    expect((await sdk.r2.buckets.get("client-bucket", { account_id: acct })).name).toBe("client-bucket");
    await sdk.r2.buckets.delete("sdk-bucket", { account_id: acct, "cf-r2-jurisdiction": "eu" } as Parameters<
      typeof sdk.r2.buckets.delete
    >[1]);
    expect(await cf.getR2Bucket("sdk-bucket", { jurisdiction: "eu" })).toBeNull();
    expect(await cf.getR2Bucket("sdk-bucket")).not.toBeNull();
  });

  it("Queues: queues and Worker consumers", async () => {
    const q = await sdk.queues.create({ account_id: acct, queue_name: "sdk-queue" });
    expect((await cf.getQueueByName("sdk-queue"))?.queue_id).toBe(q.queue_id);
    const mine = await cf.createQueue("client-queue");
    expect((await drain(sdk.queues.list({ account_id: acct }))).map((x) => x.queue_name).sort()).toEqual(["client-queue", "sdk-queue"]);
    expect((await sdk.queues.get(mine.queue_id, { account_id: acct })).queue_name).toBe("client-queue");
    const consumer = await sdk.queues.consumers.create(mine.queue_id, {
      account_id: acct,
      type: "worker",
      script_name: "fleet",
      settings: { batch_size: 4 },
    });
    expect((await cf.listQueueConsumers(mine.queue_id)).map((k) => k.consumer_id)).toEqual([consumer.consumer_id]);
    await cf.updateQueueConsumer(mine.queue_id, consumer.consumer_id!, {
      type: "worker",
      script_name: "fleet",
      settings: { batch_size: 9 },
    });
    expect((await drain(sdk.queues.consumers.list(mine.queue_id, { account_id: acct })))[0]).toMatchObject({ settings: { batch_size: 9 } });
    await sdk.queues.consumers.update(consumer.consumer_id!, {
      account_id: acct,
      queue_id: mine.queue_id,
      type: "worker",
      script_name: "fleet",
      settings: { batch_size: 2 },
    });
    expect((await cf.listQueueConsumers(mine.queue_id))[0]!.settings?.batch_size).toBe(2);
    await sdk.queues.consumers.delete(consumer.consumer_id!, { account_id: acct, queue_id: mine.queue_id });
    expect(await cf.listQueueConsumers(mine.queue_id)).toEqual([]);
    await sdk.queues.delete(q.queue_id!, { account_id: acct });
    expect(await cf.getQueueByName("sdk-queue")).toBeNull();
  });

  it("Durable Object namespaces list (pages to the end)", async () => {
    await cf.uploadScript("do-sdk", {
      mainModule: "index.js",
      compatibilityDate: "2025-01-01",
      modules: [
        {
          name: "index.js",
          content: `import { DurableObject } from "cloudflare:workers"; export class A extends DurableObject {} export class B extends DurableObject {} export default { fetch() { return new Response("x"); } };`,
        },
      ],
      migrations: { new_tag: "v1", steps: [{ new_sqlite_classes: ["A", "B"] }] },
    });
    const listed = await drain(sdk.durableObjects.namespaces.list({ account_id: acct, per_page: 1 }));
    expect(listed.map((n) => n.class).sort()).toEqual(["A", "B"]);
    expect(listed.map((n) => n.id).sort()).toEqual((await cf.listDurableObjectNamespaces()).map((n) => n.id).sort());
  });

  it("cron schedules, workers.dev, script settings", async () => {
    await sdk.workers.scripts.schedules.update("fleet", { account_id: acct, body: [{ cron: "*/10 * * * *" }] });
    expect((await cf.getSchedules("fleet")).map((s) => s.cron)).toEqual(["*/10 * * * *"]);
    await cf.putSchedules("fleet", ["0 3 * * *"]);
    expect((await sdk.workers.scripts.schedules.get("fleet", { account_id: acct })).schedules?.map((s) => s.cron)).toEqual(["0 3 * * *"]);
    await sdk.workers.scripts.subdomain.create("fleet", { account_id: acct, enabled: false, previews_enabled: false });
    expect(await cf.getScriptSubdomain("fleet")).toEqual({ enabled: false, previews_enabled: false });
    await cf.setScriptSubdomain("fleet", { enabled: true });
    expect(await sdk.workers.scripts.subdomain.get("fleet", { account_id: acct })).toMatchObject({ enabled: true });
    await sdk.workers.scripts.settings.edit("fleet", { account_id: acct, logpush: true, tags: ["sdk"] });
    expect(await cf.getScriptSettings("fleet")).toMatchObject({ logpush: true, tags: ["sdk"] });
    await cf.patchScriptSettings("fleet", { observability: { enabled: true } });
    expect(await sdk.workers.scripts.settings.get("fleet", { account_id: acct })).toMatchObject({
      logpush: true,
      observability: { enabled: true },
    });
  });

  it("custom domains and zone routes", async () => {
    await cf.putCustomDomains("fleet", [{ hostname: "fleet.example.org" }]);
    const domains = await drain(sdk.workers.domains.list({ account_id: acct, service: "fleet" }));
    expect(domains.map((d) => d.hostname)).toEqual(["fleet.example.org"]);
    await sdk.workers.domains.update({ account_id: acct, hostname: "www.example.org", service: "fleet" } as Parameters<
      typeof sdk.workers.domains.update
    >[0]);
    expect((await cf.listCustomDomains({ service: "fleet" })).map((d) => d.hostname).sort()).toEqual([
      "fleet.example.org",
      "www.example.org",
    ]);
    await sdk.workers.domains.delete(domains[0]!.id!, { account_id: acct });
    expect((await cf.listCustomDomains({ service: "fleet" })).map((d) => d.hostname)).toEqual(["www.example.org"]);
    const zone = (await cf.findZone("example.com"))!;
    const route = await sdk.workers.routes.create({ zone_id: zone.id, pattern: "fleet.example.com/*", script: "fleet" });
    expect((await cf.listZoneRoutes(zone.id)).map((r) => r.pattern)).toContain("fleet.example.com/*");
    await cf.deleteZoneRoute(zone.id, route.id);
    expect((await drain(sdk.workers.routes.list({ zone_id: zone.id }))).map((r) => r.pattern)).not.toContain("fleet.example.com/*");
  });

  it("the assets upload session answers the SDK as it answers us", async () => {
    const manifest = { "/a.txt": { hash: "a".repeat(32), size: 1 } };
    const session = await sdk.workers.scripts.assets.upload.create("fleet", { account_id: acct, manifest });
    expect(session.buckets).toEqual([["a".repeat(32)]]);
    expect((await cf.createAssetsUploadSession("fleet", manifest)).buckets).toEqual([["a".repeat(32)]]);
  });
});
