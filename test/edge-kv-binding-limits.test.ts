// A Worker's KV binding on the local edge (real workerd) refuses what Cloudflare refuses, in the
// runtime's words and error classes: the expected words below are what plain workerd says with
// Miniflare's KV service, which mirrors Cloudflare's (src/local-edge/workers/kv-binding.ts).
// Before, the edge stored a 26 MiB value, a 600-byte key, 2 KB of metadata and a 1-second TTL.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiOk } from "./support/api.ts";
import { startTestEdge, type TestEdge } from "./support/edge.ts";
import { edgeApi, type EdgeApi } from "./support/edge-api.ts";
import { httpGet } from "./support/http.ts";

const source = `
export default { async fetch(req, env) {
  const out = {};
  const t = async (name, fn) => { try { const r = await fn(); out[name] = r instanceof Map ? "Map " + JSON.stringify([...r]) : "ok " + JSON.stringify(r ?? null); } catch (e) { out[name] = e.constructor.name + ": " + e.message; } };
  const now = Math.floor(Date.now() / 1000);
  out.now = now;
  await t("key513", () => env.KV.put("k".repeat(513), "v"));
  await t("key512", () => env.KV.put("k".repeat(512), "v"));
  await t("keyEmpty", () => env.KV.put("", "v"));
  await t("keyDot", () => env.KV.put(".", "v"));
  await t("keyDotDot", () => env.KV.get(".."));
  await t("valueOver", () => env.KV.put("big", new Uint8Array(25 * 1024 * 1024 + 1)));
  await t("valueAt", () => env.KV.put("big", new Uint8Array(25 * 1024 * 1024)));
  await t("metaOver", () => env.KV.put("m", "v", { metadata: "x".repeat(1023) }));
  await t("metaAt", () => env.KV.put("m", "v", { metadata: "x".repeat(1022) }));
  await t("ttl30", () => env.KV.put("t", "v", { expirationTtl: 30 }));
  await t("ttl0", () => env.KV.put("t", "v", { expirationTtl: 0 }));
  await t("ttlNeg", () => env.KV.put("t", "v", { expirationTtl: -5 }));
  await t("ttl60", () => env.KV.put("t60", "v", { expirationTtl: 60 }));
  await t("expPast", () => env.KV.put("t", "v", { expiration: now - 10 }));
  await t("expSoon", () => env.KV.put("t", "v", { expiration: now + 10 }));
  await t("getKey513", () => env.KV.get("k".repeat(513)));
  await t("getEmpty", () => env.KV.get(""));
  await t("getCacheTtl10", () => env.KV.get("a", { cacheTtl: 10 }));
  await t("list1001", () => env.KV.list({ limit: 1001 }));
  await t("listPrefix513", () => env.KV.list({ prefix: "p".repeat(513) }));
  await t("delKey513", () => env.KV.delete("k".repeat(513)));
  await t("delEmpty", () => env.KV.delete(""));
  await t("getMany101", () => env.KV.get(Array.from({ length: 101 }, (_, i) => "k" + i)));
  await t("getMany", () => env.KV.get(["m", "nothing", "t60"]));
  await t("getManyMeta", () => env.KV.getWithMetadata(["m", "nothing"], "text"));
  await t("getManyBytes", () => env.KV.get(["m"], "arrayBuffer"));
  await t("getOneMeta", () => env.KV.getWithMetadata("t60"));
  await t("getNoneMeta", () => env.KV.getWithMetadata("nothing"));
  await t("stored", async () => (await env.KV.list()).keys.map((k) => k.name));
  return Response.json(out);
} };`;

describe("a Worker's KV binding keeps Cloudflare's limits, in the runtime's words", () => {
  let t: TestEdge;
  let api: EdgeApi;
  beforeAll(async () => {
    t = await startTestEdge();
    api = edgeApi(t.edge, t.region);
    const ns = await apiOk<{ id: string }>(t.edge, "POST", `/accounts/${t.region.accountId}/storage/kv/namespaces`, {
      json: { title: "limits" },
    });
    const r = await api.call(
      "PUT",
      "/workers/scripts/kvlimits",
      api.upload(
        {
          main_module: "index.js",
          compatibility_date: "2025-09-01",
          bindings: [{ type: "kv_namespace", name: "KV", namespace_id: ns.id }],
        },
        { "index.js": source },
      ),
    );
    expect(r.status, JSON.stringify(r.errors)).toBe(200);
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it("refuses keys, values, metadata, expirations, cache TTLs, list limits and bulk gets as workerd does, and stores none of them", async () => {
    const r = await httpGet(t.region.port, "kvlimits.localhost", { path: "/" });
    expect(r.status, r.body).toBe(200);
    const out = JSON.parse(r.body) as Record<string, string | number>;
    const now = out["now"] as number;
    const key414 = (op: string) => `Error: KV ${op} failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512.`;
    expect(out).toEqual({
      now,
      key513: key414("PUT"),
      key512: "ok null",
      keyEmpty: "TypeError: Key name cannot be empty.",
      keyDot: 'TypeError: "." is not allowed as a key name.',
      keyDotDot: 'TypeError: ".." is not allowed as a key name.',
      valueOver: "Error: KV PUT failed: 413 Value length of 26214401 exceeds limit of 26214400.",
      valueAt: "ok null",
      metaOver: "Error: KV PUT failed: 413 Metadata length of 1025 exceeds limit of 1024.",
      metaAt: "ok null",
      ttl30: "Error: KV PUT failed: 400 Invalid expiration_ttl of 30. Expiration TTL must be at least 60.",
      ttl0: "Error: KV PUT failed: 400 Invalid expiration_ttl of 0. Please specify integer greater than 0.",
      ttlNeg: "Error: KV PUT failed: 400 Invalid expiration_ttl of -5. Please specify integer greater than 0.",
      ttl60: "ok null",
      expPast: `Error: KV PUT failed: 400 Invalid expiration of ${now - 10}. Please specify integer greater than the current number of seconds since the UNIX epoch.`,
      expSoon: `Error: KV PUT failed: 400 Invalid expiration of ${now + 10}. Expiration times must be at least 60 seconds in the future.`,
      getKey513: key414("GET"),
      getEmpty: "TypeError: Key name cannot be empty.",
      getCacheTtl10: "Error: KV GET failed: 400 Invalid cache_ttl of 10. Cache TTL must be at least 30.",
      list1001: "Error: KV GET failed: 400 Invalid key_count_limit of 1001. Please specify an integer less than 1000.",
      listPrefix513: key414("GET"),
      delKey513: key414("DELETE"),
      delEmpty: "TypeError: Key name cannot be empty.",
      getMany101: "Error: KV GET_BULK failed: 400 You can request a maximum of 100 keys",
      getMany: `Map ${JSON.stringify([
        ["m", "v"],
        ["nothing", null],
        ["t60", "v"],
      ])}`,
      getManyMeta: `Map ${JSON.stringify([
        ["m", { value: "v", metadata: "x".repeat(1022) }],
        ["nothing", null],
      ])}`,
      getManyBytes: 'Error: KV GET_BULK failed: 400 "arrayBuffer" is not a valid type. Use "json" or "text"',
      getOneMeta: `ok ${JSON.stringify({ value: "v", metadata: null, cacheStatus: null })}`,
      getNoneMeta: `ok ${JSON.stringify({ value: null, metadata: null, cacheStatus: null })}`,
      stored: `ok ${JSON.stringify(["big", "k".repeat(512), "m", "t60"])}`,
    });
  });
});
