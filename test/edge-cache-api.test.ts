// The Cache API in Workers on the local edge (real workerd): workerd gives a Worker Loader's
// Workers no cache, so the env shim hands them one backed by the region router's cache
// (src/local-edge/workers/cache-binding.ts). put/match/delete on caches.default and a named cache,
// expiry by Cache-Control, what may not be cached, and one cache shared by the account's Workers.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestEdge, type TestEdge } from "./support/edge.ts";
import { edgeApi, type EdgeApi } from "./support/edge-api.ts";
import { httpGet } from "./support/http.ts";

const WORKER = `
export default {
  async fetch(req) {
    const u = new URL(req.url);
    const name = u.searchParams.get("cache");
    const cache = name ? await caches.open(name) : caches.default;
    const key = new Request("https://cached.example/" + (u.searchParams.get("key") ?? "k"));
    try {
      if (u.pathname === "/put") {
        await cache.put(key, new Response(u.searchParams.get("body") ?? "v", { headers: { "cache-control": "max-age=" + (u.searchParams.get("ttl") ?? "60"), "x-mine": "1" } }));
        return new Response("stored");
      }
      if (u.pathname === "/post") {
        await cache.put(new Request(key, { method: "POST" }), new Response("x"));
        return new Response("stored");
      }
      if (u.pathname === "/odd") {
        const what = u.searchParams.get("what");
        const out = {};
        const tryIt = async (label, fn) => { try { out[label] = await fn(); } catch (e) { out[label] = e.constructor.name + ": " + e.message; } };
        if (what === "vary") await tryIt("put", () => cache.put(key, new Response("v", { headers: { vary: "*", "cache-control": "max-age=60" } })).then(() => "stored"));
        if (what === "cookie") await tryIt("put", () => cache.put(key, new Response("c", { headers: { "set-cookie": "a=b", "cache-control": "max-age=60" } })).then(() => "stored"));
        if (what === "partial") await tryIt("put", () => cache.put(key, new Response("p", { status: 206, headers: { "content-range": "bytes 0-0/8", "cache-control": "max-age=60" } })).then(() => "stored"));
        if (what === "private") await tryIt("put", () => cache.put(key, new Response("p", { headers: { "cache-control": "private, max-age=60" } })).then(() => "stored"));
        if (what === "nostore") await tryIt("put", () => cache.put(key, new Response("n", { headers: { "cache-control": "no-store" } })).then(() => "stored"));
        if (what === "notmodified") await tryIt("put", () => cache.put(key, new Response(null, { status: 304, headers: { "cache-control": "max-age=60" } })).then(() => "stored"));
        if (what === "toolarge") {
          // Declared over 512 MiB; the body is made as it is read, and counted.
          let sent = 0;
          const body = new ReadableStream({ pull(c) { if (sent >= 8) return c.close(); c.enqueue(new Uint8Array(1)); sent += 1; } }, { highWaterMark: 0 });
          await tryIt("put", () => cache.put(key, new Response(body, { headers: { "content-length": String(512 * 1024 * 1024 + 1), "cache-control": "max-age=60" } })).then(() => "stored"));
          out.sent = sent;
        }
        if (what === "scheme") await tryIt("put", () => cache.put("ftp://cached.example/x", new Response("f")).then(() => "stored"));
        if (what === "huge") await tryIt("put", () => cache.put(key, new Response(new Uint8Array(64 * 1024 * 1024), { headers: { "cache-control": "max-age=60" } })).then(() => "stored"));
        if (what === "odd") {
          const k = "https://cached.example/" + encodeURIComponent("ü \u0000%/?#*") + "?q=%ZZ&" + "x".repeat(8000);
          await tryIt("put", () => cache.put(k, new Response("odd", { headers: { "cache-control": "max-age=60" } })).then(() => "stored"));
          await tryIt("match", async () => (await cache.match(k))?.text() ?? null);
        }
        const hit = await cache.match(key);
        out.after = hit ? (await hit.arrayBuffer()).byteLength : null;
        return Response.json(out);
      }
      if (u.pathname === "/delete") return Response.json({ deleted: await cache.delete(key) });
      const hit = await cache.match(key);
      return Response.json(hit ? { hit: await hit.text(), status: hit.headers.get("cf-cache-status"), mine: hit.headers.get("x-mine") } : { hit: null });
    } catch (e) {
      return new Response(e.constructor.name + ": " + e.message, { status: 500 });
    }
  },
};`;

describe("the Cache API on the local edge", () => {
  let t: TestEdge;
  let api: EdgeApi;
  const get = async (worker: string, path: string) => {
    const r = await httpGet(t.region.port, `${worker}.localhost`, { path });
    return { status: r.status, body: r.status === 200 && r.body.startsWith("{") ? JSON.parse(r.body) : r.body };
  };
  const deploy = async (name: string) => {
    const r = await api.call(
      "PUT",
      `/workers/scripts/${name}`,
      api.upload({ main_module: "index.js", compatibility_date: "2025-01-01" }, { "index.js": WORKER }),
    );
    expect(r.status, JSON.stringify(r.errors)).toBe(200);
  };

  beforeAll(async () => {
    t = await startTestEdge();
    api = edgeApi(t.edge, t.region);
    await deploy("cachey");
    await deploy("neighbour");
  });
  afterAll(async () => t?.dispose());

  it("put, match (a HIT with the stored headers) and delete on caches.default", async () => {
    expect((await get("cachey", "/get?key=a")).body).toEqual({ hit: null });
    expect((await get("cachey", "/put?key=a&body=hello")).body).toBe("stored");
    expect((await get("cachey", "/get?key=a")).body).toEqual({ hit: "hello", status: "HIT", mine: "1" });
    // The account's other Worker sees the same default cache, as Workers on one zone do.
    expect((await get("neighbour", "/get?key=a")).body).toEqual({ hit: "hello", status: "HIT", mine: "1" });
    expect((await get("cachey", "/delete?key=a")).body).toEqual({ deleted: true });
    expect((await get("cachey", "/delete?key=a")).body).toEqual({ deleted: false });
    expect((await get("cachey", "/get?key=a")).body).toEqual({ hit: null });
  });

  it("a named cache is its own; an entry expires with its max-age; a non-GET put is refused in the runtime's words", async () => {
    await get("cachey", "/put?key=b&body=named&cache=mine");
    expect((await get("cachey", "/get?key=b&cache=mine")).body).toMatchObject({ hit: "named" });
    expect((await get("cachey", "/get?key=b")).body).toEqual({ hit: null });
    await get("cachey", "/put?key=short&body=soon&ttl=1");
    expect((await get("cachey", "/get?key=short")).body).toMatchObject({ hit: "soon" });
    await new Promise((r) => setTimeout(r, 2_200));
    expect((await get("cachey", "/get?key=short")).body).toEqual({ hit: null });
    const post = await get("cachey", "/post");
    expect(post).toEqual({ status: 500, body: "TypeError: Cannot cache response to non-GET request." });
  });

  it("an entry over Cloudflare's 512 MB is not kept and put() resolves (its cache answers 413, which workerd ignores)", async () => {
    const over = (await get("cachey", "/odd?what=toolarge&key=too-large")).body as { put: string; after: number | null; sent: number };
    expect(over).toMatchObject({ put: "stored", after: null });
    // Refused on its declared length: hardly any of the body was read.
    expect(over.sent).toBeLessThan(8);
  });

  it("odd puts: Vary: * and 206 refused in the runtime's words; Set-Cookie, private and no-store not kept; 64 MiB and a key of odd characters round-trip", async () => {
    const odd = async (what: string) => (await get("cachey", `/odd?what=${what}&key=odd-${what}`)).body;
    expect(await odd("vary")).toEqual({ put: "TypeError: Cannot cache response with 'Vary: *' header.", after: null });
    expect(await odd("cookie")).toEqual({ put: "stored", after: null });
    // workerd's own refusal of a 206; private and no-store are taken and not kept, as Cloudflare
    // documents for cache.put (developers.cloudflare.com/workers/runtime-apis/cache).
    expect(await odd("partial")).toEqual({
      put: "TypeError: Cannot cache response to a range request (206 Partial Content).",
      after: null,
    });
    expect(await odd("private")).toEqual({ put: "stored", after: null });
    expect(await odd("nostore")).toEqual({ put: "stored", after: null });
    // A 304 is silently not kept (workerd's Cache.put()).
    expect(await odd("notmodified")).toEqual({ put: "stored", after: null });
    expect(await odd("huge")).toEqual({ put: "stored", after: 64 * 1024 * 1024 });
    expect(await odd("odd")).toEqual({ put: "stored", match: "odd", after: null });
    // The router's workerd still answers.
    expect((await get("neighbour", "/get?key=none")).body).toEqual({ hit: null });
  });
});
