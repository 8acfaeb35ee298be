// A Worker's queue producer on the local edge (real workerd) keeps Cloudflare's Queues limits in
// the words the runtime uses: a message 128 KB (128,000 bytes), a batch 100 messages and 288 KB,
// as Miniflare's queue broker (which mirrors Cloudflare's limits page) answers and workerd words
// it ("Queue send failed: …"); an empty batch in workerd's own words. Nothing refused is queued.
// (src/local-edge/workers/env-shim/queue.ts)
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiOk } from "./support/api.ts";
import { startTestEdge, type TestEdge } from "./support/edge.ts";
import { edgeApi, type EdgeApi } from "./support/edge-api.ts";
import { httpGet } from "./support/http.ts";

const source = `
export default { async fetch(req, env) {
  const out = {};
  const t = async (name, fn) => { try { await fn(); out[name] = "ok"; } catch (e) { out[name] = e.constructor.name + ": " + e.message; } };
  const text = (n) => ({ body: "x".repeat(n), contentType: "text" });
  await t("send128000", () => env.Q.send("x".repeat(128000), { contentType: "text" }));
  await t("send128001", () => env.Q.send("x".repeat(128001), { contentType: "text" }));
  await t("sendJson128001", () => env.Q.send("x".repeat(127999)));
  await t("sendBytes128001", () => env.Q.send(new Uint8Array(128001), { contentType: "bytes" }));
  await t("batch101", () => env.Q.sendBatch(Array.from({ length: 101 }, () => ({ body: "a" }))));
  await t("batchBigMessage", () => env.Q.sendBatch([text(10), text(128001)]));
  await t("batch288001", () => env.Q.sendBatch([text(96000), text(96000), text(96001)]));
  await t("batch288000", () => env.Q.sendBatch([text(96000), text(96000), text(96000)]));
  await t("batchEmpty", () => env.Q.sendBatch([]));
  out.backlog = (await env.Q.metrics()).backlogCount;
  return Response.json(out);
} };`;

describe("a Worker's queue producer keeps Cloudflare's Queues limits", () => {
  let t: TestEdge;
  let api: EdgeApi;
  beforeAll(async () => {
    t = await startTestEdge();
    api = edgeApi(t.edge, t.region);
    await apiOk(t.edge, "POST", `/accounts/${t.region.accountId}/queues`, { json: { queue_name: "limits" } });
    const r = await api.call(
      "PUT",
      "/workers/scripts/producer",
      api.upload(
        { main_module: "index.js", compatibility_date: "2025-09-01", bindings: [{ type: "queue", name: "Q", queue_name: "limits" }] },
        { "index.js": source },
      ),
    );
    expect(r.status, JSON.stringify(r.errors)).toBe(200);
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it("refuses a message over 128,000 bytes, a batch over 100 messages or 288,000 bytes, and an empty batch; queues the rest", async () => {
    const r = await httpGet(t.region.port, "producer.localhost", { path: "/" });
    expect(r.status, r.body).toBe(200);
    expect(JSON.parse(r.body)).toEqual({
      send128000: "ok",
      send128001: "Error: Queue send failed: message length of 128001 bytes exceeds limit of 128000",
      sendJson128001: "Error: Queue send failed: message length of 128001 bytes exceeds limit of 128000",
      sendBytes128001: "Error: Queue send failed: message length of 128001 bytes exceeds limit of 128000",
      batch101: "Error: Queue sendBatch failed: batch message count of 101 exceeds limit of 100",
      batchBigMessage:
        "Error: Queue sendBatch failed: message in batch has length 128001 bytes which exceeds single message size limit of 128000",
      batch288001: "Error: Queue sendBatch failed: batch size of 288001 bytes exceeds limit of 288000",
      batch288000: "ok",
      batchEmpty: "TypeError: sendBatch() requires at least one message",
      // The 128,000-byte message and the three of the 288,000-byte batch.
      backlog: 4,
    });
  });
});
