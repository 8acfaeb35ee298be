// Our client's Queues calls against the real local edge: queues (settings, list through pages,
// by name, by id, delete), Worker consumers in wrangler deploy's body (create, update, the
// upsert wrangler's triggers phase does, delete), the refusals (duplicate name, 100127, 100128,
// a missing queue) as CboErrors; and a consumer set by the client really gets the messages a
// producer Worker sends, with its batch settings.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workerConsumerBody, type Queue } from "../src/cloudflare/index.ts";
import type { Resource } from "../src/config/source/model.ts";
import { startTestEdge, type TestEdge } from "./support/edge.ts";
import { expectClassified, failure, recordingClient, summary, type RecordingClient } from "./support/cf-client.ts";
import { edgeApi } from "./support/edge-api.ts";
import { eventually, httpGet } from "./support/http.ts";

const res = (name: string): Resource => ({ kind: "queue", name, nameFrom: "wrangler" });

const PRODUCER = `export default { async fetch(req, env) { await env.JOBS.send({ n: Number(new URL(req.url).searchParams.get("n")) }); return new Response("sent"); } };`;
const CONSUMER = `export default {
  async fetch(req, env) { return new Response((await env.SEEN.get("batches")) ?? "[]"); },
  async queue(batch, env) {
    const seen = JSON.parse((await env.SEEN.get("batches")) ?? "[]");
    seen.push(batch.messages.map((m) => m.body.n));
    await env.SEEN.put("batches", JSON.stringify(seen));
    batch.ackAll();
  },
};`;

describe("Cloudflare client: Queues", () => {
  let t: TestEdge;
  let c: RecordingClient;
  let jobs: Queue;

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu"] });
    c = recordingClient(t);
  });
  afterAll(async () => t?.dispose());

  it("create with settings, get by name and by id, list through every page", async () => {
    jobs = await c.cf.createQueue("jobs", { settings: { deliveryDelay: 0, messageRetentionPeriod: 3600 } });
    expect(jobs).toMatchObject({
      queue_name: "jobs",
      queue_id: expect.stringMatching(/^[0-9a-f]{32}$/),
      settings: { message_retention_period: 3600 },
    });
    expect((await c.cf.getQueueByName("jobs"))?.queue_id).toBe(jobs.queue_id);
    expect(await c.cf.getQueueByName("job")).toBeNull();
    expect((await c.cf.getQueue(jobs.queue_id)).queue_name).toBe("jobs");
    for (let i = 0; i < 101; i++) await c.cf.createQueue(`q-${String(i).padStart(3, "0")}`);
    const before = c.endpoints.length;
    const all = await c.cf.listQueues();
    expect(all).toHaveLength(102);
    expect(new Set(all.map((q) => q.queue_id)).size).toBe(102);
    expect(c.endpoints.length - before).toBe(2); // 100 + 2: result_info.total_pages says the second is the last
    expect((await c.cf.listQueues({ name: "q-042" })).map((q) => q.queue_name)).toEqual(["q-042"]);
  });

  it("refusals: a taken name, bad queue settings (100128), bad consumer settings (100127), a missing queue", async () => {
    expect(summary(await failure(c.cf.createQueue("jobs")))).toMatchObject({ code: "ERR_CF_REQUEST", retryable: false, status: 409 });
    expect(summary(await failure(c.cf.createQueue("late", { settings: { deliveryDelay: 90_000 } })))).toEqual({
      code: "ERR_CF_REQUEST",
      retryable: false,
      status: 400,
      cf: 100128,
    });
    const body = { ...workerConsumerBody("consumer", { queue: res("jobs"), maxBatchSize: 500 }) };
    expect(summary(await failure(c.cf.createQueueConsumer(jobs.queue_id, body)))).toEqual({
      code: "ERR_CF_REQUEST",
      retryable: false,
      status: 400,
      cf: 100127,
    });
    expect(summary(await failure(c.cf.getQueue("0".repeat(32))))).toMatchObject({ code: "ERR_CF_REQUEST", retryable: false, status: 404 });
    expect(summary(await failure(c.cf.deleteQueueConsumer(jobs.queue_id, "nope")))).toMatchObject({ code: "ERR_CF_REQUEST", status: 404 });
  });

  it("a consumer the client sets gets the producer's messages in batches of its batch_size", async () => {
    const kv = await c.cf.createKvNamespace("seen");
    await c.cf.createQueue("dlq");
    await c.cf.deploy("consumer", {
      mainModule: "index.js",
      modules: [{ name: "index.js", content: CONSUMER }],
      compatibilityDate: "2025-01-01",
      bindings: [{ type: "kv_namespace", name: "SEEN", namespace_id: kv.id }],
    });
    await c.cf.deploy("producer", {
      mainModule: "index.js",
      modules: [{ name: "index.js", content: PRODUCER }],
      compatibilityDate: "2025-01-01",
      bindings: [{ type: "queue", name: "JOBS", queue_name: "jobs" }],
    });
    const body = workerConsumerBody("consumer", {
      queue: res("jobs"),
      maxBatchSize: 2,
      maxBatchTimeout: 1,
      maxRetries: 1,
      deadLetterQueue: res("dlq"),
      retryDelay: 0,
    });
    const { consumer, created } = await c.cf.upsertWorkerConsumer((await c.cf.getQueueByName("jobs"))!, body);
    expect(created).toBe(true);
    expect(consumer).toMatchObject({
      script: "consumer",
      dead_letter_queue: "dlq",
      settings: { batch_size: 2, max_wait_time_ms: 1000, max_retries: 1, retry_delay: 0 },
    });
    expect((await c.cf.listQueueConsumers(jobs.queue_id)).map((k) => k.consumer_id)).toEqual([consumer.consumer_id]);
    // The producer Worker lists as such on the queue.
    expect((await c.cf.getQueue(jobs.queue_id)).producers).toEqual([{ type: "worker", script: "producer" }]);
    for (const n of [1, 2, 3, 4]) expect((await httpGet(t.region.port, "producer.localhost", { path: `/?n=${n}` })).body).toBe("sent");
    const batches = await eventually(async () => {
      const seen = JSON.parse((await httpGet(t.region.port, "consumer.localhost")).body) as number[][];
      expect(seen.flat().sort()).toEqual([1, 2, 3, 4]);
      return seen;
    }, 20_000);
    expect(batches.every((b) => b.length <= 2)).toBe(true);

    // The same upsert again updates the Worker's consumer rather than adding one.
    const again = await c.cf.upsertWorkerConsumer((await c.cf.getQueueByName("jobs"))!, {
      ...body,
      settings: { ...body.settings, batch_size: 5 },
    });
    expect(again.created).toBe(false);
    expect(again.consumer.consumer_id).toBe(consumer.consumer_id);
    expect((await c.cf.listQueueConsumers(jobs.queue_id)).map((k) => k.settings?.batch_size)).toEqual([5]);
    const updated = await c.cf.updateQueueConsumer(jobs.queue_id, consumer.consumer_id, { ...body, settings: { batch_size: 7 } });
    expect(updated.settings?.batch_size).toBe(7);
    // Deleting the consumer Worker as wrangler does (it sends force=false, not knowing of consumers)
    // is refused in Cloudflare's words (workers-sdk#3370), and the Worker keeps serving.
    const refused = await edgeApi(t.edge, t.region).call("DELETE", "/workers/services/consumer?force=false");
    expect(refused.status).toBe(409);
    expect(refused.errors[0]).toMatchObject({
      code: 10064,
      message: expect.stringMatching(/^script still in use as a consumer for a queue: Worker consumer consumes jobs;/),
    });
    expect((await httpGet(t.region.port, "consumer.localhost")).status).toBe(200);
    await c.cf.deleteQueueConsumer(jobs.queue_id, consumer.consumer_id);
    expect(await c.cf.listQueueConsumers(jobs.queue_id)).toEqual([]);
  });

  it("delete", async () => {
    const q = (await c.cf.getQueueByName("q-000"))!;
    await c.cf.deleteQueue(q.queue_id);
    expect(await c.cf.getQueueByName("q-000")).toBeNull();
    expect(summary(await failure(c.cf.deleteQueue(q.queue_id)))).toMatchObject({ code: "ERR_CF_REQUEST", status: 404 });
  });

  it("names every request's endpoint class", () => {
    expectClassified(c.endpoints, [
      "queues.create",
      "queues.list",
      "queues.get",
      "queues.delete",
      "queues.consumers.create",
      "queues.consumers.update",
      "queues.consumers.list",
      "queues.consumers.delete",
      "kv.namespaces.create",
      "workers.versions.create",
      "workers.scripts.put",
      "workers.deployments.list",
    ]);
  });
});
