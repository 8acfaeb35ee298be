// A Worker's R2 binding on the local edge (real workerd) refuses what R2 refuses, in the words
// workerd's binding throws: the expected words below are what plain workerd says with Miniflare's
// R2 service, which mirrors R2's limits and error codes (src/local-edge/workers/r2-checks.ts).
// Before, the edge listed with limit 0 or 1001, read and deleted 1025-byte keys, failed an 8 KiB
// metadata put with "the local edge answered 431", and prefixed every refusal "R2 put failed:".
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiOk } from "./support/api.ts";
import { startTestEdge, type TestEdge } from "./support/edge.ts";
import { edgeApi, type EdgeApi } from "./support/edge-api.ts";
import { httpGet } from "./support/http.ts";

const source = `
export default { async fetch(req, env) {
  const out = {};
  const t = async (name, fn) => { try { await fn(); out[name] = "ok"; } catch (e) { out[name] = e.constructor.name + ": " + e.message; } };
  const long = "k".repeat(1025);
  await t("putKey1024", () => env.B.put("k".repeat(1024), "v"));
  await t("putKey1025", () => env.B.put(long, "v"));
  await t("getKey1025", () => env.B.get(long));
  await t("headKey1025", () => env.B.head(long));
  await t("deleteKey1025", () => env.B.delete(["a", long]));
  await t("createKey1025", () => env.B.createMultipartUpload(long));
  await t("meta8192", () => env.B.put("m", "v", { customMetadata: { a: "x".repeat(8191) } }));
  await t("meta8193", () => env.B.put("m", "v", { customMetadata: { a: "x".repeat(8192) } }));
  await t("metaWide", () => env.B.put("m", "v", { customMetadata: { a: "€".repeat(4096) } }));
  await t("createMeta", () => env.B.createMultipartUpload("mm", { customMetadata: { a: "x".repeat(8192) } }));
  await t("md5", () => env.B.put("h", "v", { md5: "00".repeat(16) }));
  await t("list0", () => env.B.list({ limit: 0 }));
  await t("list1001", () => env.B.list({ limit: 1001 }));
  await t("list1000", () => env.B.list({ limit: 1000 }));
  await t("part0", async () => (await env.B.createMultipartUpload("p")).uploadPart(0, "a"));
  await t("partFraction", async () => (await env.B.createMultipartUpload("p")).uploadPart(1.5, "a"));
  out.metaBack = (await env.B.get("m")).customMetadata.a.length;
  out.headBack = (await env.B.head("m")).customMetadata.a.length;
  out.keys = (await env.B.list()).objects.map((o) => o.key.length + ":" + o.key.slice(0, 1));
  return Response.json(out);
} };`;

describe("a Worker's R2 binding refuses what R2 refuses, in workerd's words", () => {
  let t: TestEdge;
  let api: EdgeApi;
  beforeAll(async () => {
    t = await startTestEdge();
    api = edgeApi(t.edge, t.region);
    await apiOk(t.edge, "POST", `/accounts/${t.region.accountId}/r2/buckets`, { json: { name: "limits-bucket" } });
    const r = await api.call(
      "PUT",
      "/workers/scripts/r2limits",
      api.upload(
        {
          main_module: "index.js",
          compatibility_date: "2025-09-01",
          bindings: [{ type: "r2_bucket", name: "B", bucket_name: "limits-bucket" }],
        },
        { "index.js": source },
      ),
    );
    expect(r.status, JSON.stringify(r.errors)).toBe(200);
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it("keys over 1024 bytes, metadata over 8 KiB, list limits outside 1..1000, a wrong MD5, a part number 0", async () => {
    const r = await httpGet(t.region.port, "r2limits.localhost", { path: "/" });
    expect(r.status, r.body).toBe(200);
    const name = (op: string) => `Error: ${op}: The specified object name is not valid. (10020)`;
    const meta = (op: string) => `Error: ${op}: Your metadata headers exceed the maximum allowed metadata size. (10012)`;
    const maxKeys = "Error: list: MaxKeys params must be positive integer <= 1000. (10022)";
    expect(JSON.parse(r.body)).toEqual({
      putKey1024: "ok",
      putKey1025: name("put"),
      getKey1025: name("get"),
      headKey1025: name("head"),
      deleteKey1025: name("delete"),
      createKey1025: name("createMultipartUpload"),
      meta8192: "ok",
      meta8193: meta("put"),
      metaWide: meta("put"),
      createMeta: meta("createMultipartUpload"),
      md5: "Error: put: The MD5 checksum you specified did not match what we received.\nYou provided a MD5 checksum with value: 00000000000000000000000000000000\nActual MD5 was: 9e3669d19b675bd57058fd4664205d2a (10037)",
      list0: maxKeys,
      list1001: maxKeys,
      list1000: "ok",
      part0: "TypeError: Part number must be between 1 and 10000 (inclusive). Actual value was: 0",
      partFraction: "ok",
      // 8 KiB of metadata goes in and comes back.
      metaBack: 8191,
      headBack: 8191,
      // Only what was taken is stored.
      keys: ["1024:k", "1:m"],
    });
  });
});
