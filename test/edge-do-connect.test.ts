// connect() on a Durable Object stub, through the local edge and real workerd: the socket reaches
// the object's connect(socket) handler, as plain workerd delivers it (workers-types'
// `DurableObject.connect?(socket)`), both ways, with the address the caller named; an object
// without a handler fails the socket, as plain workerd does. (src/local-edge/workers/env-shim/do-connect.ts)
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestEdge, type TestEdge } from "./support/edge.ts";
import { edgeApi, type EdgeApi } from "./support/edge-api.ts";
import { httpGet } from "./support/http.ts";

const source = `
import { DurableObject } from "cloudflare:workers";
export class Echo extends DurableObject {
  async connect(socket) {
    const { localAddress } = await socket.opened;
    let text = "";
    const decoder = new TextDecoder();
    for await (const chunk of socket.readable) text += decoder.decode(chunk, { stream: true });
    const n = (this.ctx.storage.kv.get("n") ?? 0) + 1;
    this.ctx.storage.kv.put("n", n);
    const w = socket.writable.getWriter();
    await w.write(new TextEncoder().encode(JSON.stringify({ got: text, localAddress, n })));
    await w.close();
  }
  async count() { return this.ctx.storage.kv.get("n") ?? 0; }
}
export class Plain extends DurableObject {
  async fetch() { return new Response("plain"); }
}
export default {
  async fetch(req, env) {
    const u = new URL(req.url);
    const ns = u.searchParams.get("class") === "Plain" ? env.PLAIN : env.ECHO;
    const stub = ns.getByName(u.searchParams.get("name") ?? "a");
    if (u.pathname === "/count") return Response.json({ n: await stub.count() });
    const address = u.searchParams.get("object") ? { hostname: "db.internal", port: 5432 } : "db.internal:5432";
    const socket = stub.connect(address);
    const out = {};
    try { out.opened = await socket.opened; } catch (e) { out.openedError = String(e.message); }
    try {
      if (out.openedError) {
        out.answer = await new Response(socket.readable).text();
        try { await socket.closed; } catch (e) { out.closedError = String(e.message); }
        return Response.json(out);
      }
      const w = socket.writable.getWriter();
      await w.write(new TextEncoder().encode("ping " + (u.searchParams.get("say") ?? "")));
      await w.close();
      out.answer = await new Response(socket.readable).text();
    } catch (e) { out.streamError = String(e.message); }
    return Response.json(out);
  },
};`;

describe("connect() on a Durable Object stub", () => {
  let t: TestEdge;
  let api: EdgeApi;
  const get = async (path: string) => {
    const r = await httpGet(t.region.port, "sockets.localhost", { path });
    expect(r.status, r.body).toBe(200);
    return JSON.parse(r.body) as {
      opened?: { remoteAddress?: string };
      openedError?: string;
      answer?: string;
      streamError?: string;
      closedError?: string;
    };
  };

  beforeAll(async () => {
    t = await startTestEdge();
    api = edgeApi(t.edge, t.region);
    const r = await api.call(
      "PUT",
      "/workers/scripts/sockets",
      api.upload(
        {
          main_module: "index.js",
          compatibility_date: "2025-09-01",
          bindings: [
            { type: "durable_object_namespace", name: "ECHO", class_name: "Echo" },
            { type: "durable_object_namespace", name: "PLAIN", class_name: "Plain" },
          ],
          migrations: { new_tag: "v1", steps: [{ new_sqlite_classes: ["Echo", "Plain"] }] },
        },
        { "index.js": source },
      ),
    );
    expect(r.status, JSON.stringify(r.errors)).toBe(200);
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it("reaches the object's connect(socket) handler both ways, with the caller's address on both ends", async () => {
    const first = await get("/connect?name=a&say=one");
    expect(first.opened).toEqual({ remoteAddress: "db.internal:5432" });
    expect(JSON.parse(first.answer!)).toEqual({ got: "ping one", localAddress: "db.internal:5432", n: 1 });
    // A SocketAddress works too, and the same object (its storage) answers again.
    const second = await get("/connect?name=a&say=two&object=1");
    expect(JSON.parse(second.answer!)).toEqual({ got: "ping two", localAddress: "db.internal:5432", n: 2 });
    // Another name is another object.
    expect(JSON.parse((await get("/connect?name=b")).answer!)).toMatchObject({ n: 1 });
    expect(await get("/count?name=a")).toEqual({ n: 2 });
  });

  it("fails the socket of an object without a connect() handler, and the object still answers", async () => {
    const r = await get("/connect?class=Plain");
    // Plain workerd's words and behaviour: opened rejects, the readable just ends.
    const words =
      "proxy request failed, cannot connect to the specified address. It looks like you might be trying to connect to a HTTP-based service — consider using fetch instead";
    expect(r).toEqual({ openedError: words, answer: "", closedError: words });
    const again = await get("/connect?name=c&say=three");
    expect(JSON.parse(again.answer!)).toMatchObject({ got: "ping three", n: 1 });
  });
});
