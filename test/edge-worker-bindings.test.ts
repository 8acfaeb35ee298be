// What a Worker sees through its bindings on the local edge: the KV binding's whole API both ways
// (API writes are read by the Worker, Worker writes are read by the API), service bindings that
// route through the other Worker's live deployment, json/plain vars, version metadata, and
// non-JS modules. Uploads go through our own Cloudflare client.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCloudflareClient, type CloudflareClient } from "../src/cloudflare/index.ts";
import { startTestEdge, type TestEdge } from "./support/edge.ts";
import { httpGet } from "./support/http.ts";

const PROBE = `
import note from "./note.txt";
export default {
  async fetch(req, env) {
    const u = new URL(req.url);
    const q = u.searchParams;
    switch (u.pathname) {
      case "/kv/get": return Response.json({ text: await env.KV.get(q.get("k")), missing: await env.KV.get("no-such-key") });
      case "/kv/json": return Response.json(await env.KV.get(q.get("k"), "json"));
      case "/kv/bytes": { const b = await env.KV.get(q.get("k"), { type: "arrayBuffer" }); return Response.json({ len: b.byteLength, first: new Uint8Array(b)[0] }); }
      case "/kv/meta": return Response.json(await env.KV.getWithMetadata(q.get("k")));
      case "/kv/put": await env.KV.put(q.get("k"), q.get("v"), { metadata: { by: "worker" }, expirationTtl: 3600 }); return new Response("stored");
      case "/kv/del": await env.KV.delete(q.get("k")); return new Response("deleted");
      case "/kv/list": {
        const first = await env.KV.list({ prefix: q.get("p"), limit: 2 });
        const second = first.list_complete ? null : await env.KV.list({ prefix: q.get("p"), limit: 2, cursor: first.cursor });
        return Response.json({ first, second });
      }
      case "/svc": return new Response(await (await env.BACKEND.fetch("http://backend/hello")).text());
      default: return Response.json({ cfg: env.CFG, plain: env.PLAIN, version: env.VERSION, note, colo: req.cf?.colo ?? null });
    }
  },
};`;

const backend = (tag: string) => `export default { fetch(req) { return new Response("${tag}:" + new URL(req.url).pathname) } }`;

describe("Worker bindings on the local edge", () => {
  let t: TestEdge;
  let cf: CloudflareClient;
  let ns: string;
  let versionId: string;
  const get = async (path: string) => {
    const res = await httpGet(t.region.port, "probe.localhost", { path });
    expect(res.status, res.body).toBe(200);
    return res.body;
  };

  beforeAll(async () => {
    t = await startTestEdge();
    cf = createCloudflareClient({ baseUrl: t.edge.apiUrl, apiToken: t.edge.token, accountId: t.region.accountId });
    ns = (await cf.createKvNamespace("probe-kv")).id;
    await cf.deploy("backend", {
      mainModule: "index.js",
      modules: [{ name: "index.js", content: backend("b1") }],
      compatibilityDate: "2025-01-01",
    });
    const r = await cf.deploy("probe", {
      mainModule: "index.js",
      modules: [
        { name: "index.js", content: PROBE },
        { name: "note.txt", content: "a text module", type: "text" },
      ],
      compatibilityDate: "2025-01-01",
      bindings: [
        { type: "kv_namespace", name: "KV", namespace_id: ns },
        { type: "service", name: "BACKEND", service: "backend" },
        { type: "json", name: "CFG", json: { flags: ["a", "b"], n: 3 } },
        { type: "plain_text", name: "PLAIN", text: "plain value" },
        { type: "version_metadata", name: "VERSION" },
      ],
    });
    versionId = r.versionId;
  });
  afterAll(async () => t?.dispose());

  it("binds json and plain vars, version metadata, text modules and request.cf", async () => {
    const body = JSON.parse(await get("/"));
    expect(body.cfg).toEqual({ flags: ["a", "b"], n: 3 });
    expect(body.plain).toBe("plain value");
    expect(body.version.id).toBe(versionId);
    expect(body.note).toBe("a text module");
    expect(body.colo).toBe("FRA"); // request.cf of the eu region
  });

  it("reads what the API wrote, in every value type", async () => {
    await cf.putKvValue(ns, "greeting", "hello from the API");
    await cf.putKvValue(ns, "doc", JSON.stringify({ a: 1 }), { metadata: { owner: "api" } });
    await cf.putKvValue(ns, "bin", new Uint8Array([7, 8, 9]));
    expect(JSON.parse(await get("/kv/get?k=greeting"))).toEqual({ text: "hello from the API", missing: null });
    expect(JSON.parse(await get("/kv/json?k=doc"))).toEqual({ a: 1 });
    expect(JSON.parse(await get("/kv/bytes?k=bin"))).toEqual({ len: 3, first: 7 });
    // With workerd's cacheStatus (null: not from a cache).
    expect(JSON.parse(await get("/kv/meta?k=doc"))).toEqual({
      value: JSON.stringify({ a: 1 }),
      metadata: { owner: "api" },
      cacheStatus: null,
    });
  });

  it("writes and deletes what the API then reads", async () => {
    expect(await get("/kv/put?k=from-worker&v=written%20in%20workerd")).toBe("stored");
    expect(await cf.getKvText(ns, "from-worker")).toBe("written in workerd");
    const keys = await cf.listKvKeys(ns, { prefix: "from-" });
    expect(keys).toEqual([expect.objectContaining({ name: "from-worker", metadata: { by: "worker" }, expiration: expect.any(Number) })]);
    expect(await get("/kv/del?k=from-worker")).toBe("deleted");
    expect(await cf.getKvValue(ns, "from-worker")).toBeNull();
  });

  it("lists keys by prefix with a cursor", async () => {
    for (const k of ["p/1", "p/2", "p/3", "q/1"]) await cf.putKvValue(ns, k, k);
    const { first, second } = JSON.parse(await get("/kv/list?p=p/"));
    expect(first.keys.map((k: { name: string }) => k.name)).toEqual(["p/1", "p/2"]);
    expect(first.list_complete).toBe(false);
    expect(second.keys.map((k: { name: string }) => k.name)).toEqual(["p/3"]);
    expect(second.list_complete).toBe(true);
  });

  it("routes service bindings through the target's live deployment", async () => {
    expect(await get("/svc")).toBe("b1:/hello");
    await cf.deploy("backend", {
      mainModule: "index.js",
      modules: [{ name: "index.js", content: backend("b2") }],
      compatibilityDate: "2025-01-01",
    });
    expect(await get("/svc")).toBe("b2:/hello");
  });

  it("refuses a KV binding to a namespace that does not exist", async () => {
    const err = await cf
      .deploy("probe", {
        mainModule: "index.js",
        modules: [{ name: "index.js", content: "export default { fetch() { return new Response('x') } }" }],
        compatibilityDate: "2025-01-01",
        bindings: [{ type: "kv_namespace", name: "KV", namespace_id: "0".repeat(32) }],
      })
      .then(
        () => undefined,
        (e: unknown) => e as { code: string; details: { cloudflareErrors: Array<{ code: number }> } },
      );
    expect(err?.code).toBe("ERR_CF_REQUEST");
    expect(err?.details.cloudflareErrors[0]?.code).toBe(10041);
    // and nothing changed: the probe still serves its version
    expect(JSON.parse(await get("/")).version.id).toBe(versionId);
  });
});
