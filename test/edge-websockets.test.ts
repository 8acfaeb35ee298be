// WebSockets through the local edge, with real workerd and a real client (ws): a Worker that
// upgrades itself, and a Durable Object chat room on the hibernation API reached through its stub's
// fetch(), which must carry the WebSocket answer back (it cannot cross RPC, so the edge forwards
// stub fetches as fetches: src/local-edge/workers/durable-objects.ts).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startTestEdge, type TestEdge } from "./support/edge.ts";
import { edgeApi, type EdgeApi } from "./support/edge-api.ts";
import { httpGet } from "./support/http.ts";

const src = `
import { DurableObject } from "cloudflare:workers";
export class Room extends DurableObject {
  async fetch(req) {
    if (req.headers.get("upgrade") !== "websocket") {
      return Response.json({ sockets: this.ctx.getWebSockets().length, edgeHeaders: [...req.headers.keys()].filter((k) => k.startsWith("cf-cbo")) });
    }
    const pair = new WebSocketPair();
    const [client, server] = Object.values(pair);
    this.ctx.acceptWebSocket(server, [new URL(req.url).searchParams.get("who") ?? "anon"]);
    return new Response(null, { status: 101, webSocket: client });
  }
  webSocketMessage(ws, msg) {
    const [who] = this.ctx.getTags(ws);
    for (const peer of this.ctx.getWebSockets()) peer.send(who + ": " + msg);
  }
  webSocketClose(ws, code) {
    ws.close(code, "bye");
  }
}
export default {
  async fetch(req, env) {
    const u = new URL(req.url);
    if (u.pathname === "/echo") {
      const [client, server] = Object.values(new WebSocketPair());
      server.accept();
      server.addEventListener("message", (e) => server.send("echo: " + e.data));
      return new Response(null, { status: 101, webSocket: client });
    }
    return env.ROOM.get(env.ROOM.idFromName(u.searchParams.get("room") ?? "lobby")).fetch(req);
  },
};`;

describe("WebSockets on the local edge", () => {
  let t: TestEdge;
  let api: EdgeApi;
  const open: WebSocket[] = [];
  const connect = (path: string) =>
    new Promise<{ ws: WebSocket; next: () => Promise<string> }>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${t.region.port}${path}`, { headers: { host: "chat.localhost" } });
      open.push(ws);
      const inbox: string[] = [];
      const waiting: Array<(m: string) => void> = [];
      ws.on("message", (m) => {
        const w = waiting.shift();
        if (w) w(String(m));
        else inbox.push(String(m));
      });
      ws.on("open", () =>
        resolve({ ws, next: () => (inbox.length > 0 ? Promise.resolve(inbox.shift()!) : new Promise((r) => waiting.push(r))) }),
      );
      ws.on("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.on("error", reject);
    });

  beforeAll(async () => {
    t = await startTestEdge();
    api = edgeApi(t.edge, t.region);
    const r = await api.call(
      "PUT",
      "/workers/scripts/chat",
      api.upload(
        {
          main_module: "index.js",
          compatibility_date: "2025-01-01",
          bindings: [{ type: "durable_object_namespace", name: "ROOM", class_name: "Room" }],
          migrations: { new_tag: "v1", new_sqlite_classes: ["Room"] },
        },
        { "index.js": src },
      ),
    );
    expect(r.status, JSON.stringify(r.errors)).toBe(200);
  });
  afterAll(async () => {
    for (const ws of open) ws.terminate();
    await t?.dispose();
  });

  it("a Worker upgrades a request and talks over the socket", async () => {
    const c = await connect("/echo");
    c.ws.send("hi");
    expect(await c.next()).toBe("echo: hi");
  });

  it("a Durable Object chat room: sockets accepted on the hibernation API, messages broadcast, close answered", async () => {
    const ann = await connect("/?room=r1&who=ann");
    const bob = await connect("/?room=r1&who=bob");
    ann.ws.send("hello");
    expect(await ann.next()).toBe("ann: hello");
    expect(await bob.next()).toBe("ann: hello");
    bob.ws.send("hey");
    expect(await ann.next()).toBe("bob: hey");
    // Another room is another object; a plain fetch through the stub still works, without the edge's headers.
    const room = async (name: string) => JSON.parse((await httpGet(t.region.port, "chat.localhost", { path: `/?room=${name}` })).body);
    expect(await room("r2")).toEqual({ sockets: 0, edgeHeaders: [] });
    expect(await room("r1")).toEqual({ sockets: 2, edgeHeaders: [] });
    const closed = new Promise<[number, string]>((r) => bob.ws.on("close", (code, reason) => r([code, String(reason)])));
    bob.ws.close(4000, "leaving");
    expect(await closed).toEqual([4000, "bye"]);
  });

  it("60 sockets on one object all get a broadcast; a 2 MiB message and a socket dropped without a close break nothing", async () => {
    const many = await Promise.all(Array.from({ length: 60 }, (_, i) => connect(`/?room=crowd&who=u${i}`)));
    many[0]!.ws.send("to all");
    for (const c of many) expect(await c.next()).toBe("u0: to all");
    const big = await connect("/?room=big&who=big");
    const closed = new Promise<[number, string]>((r) => big.ws.on("close", (code, reason) => r([code, String(reason)])));
    big.ws.send("x".repeat(2 * 1024 * 1024));
    const got = await Promise.race([big.next().then((m) => `message of ${m.length}`), closed.then((c) => `closed ${c[0]} ${c[1]}`)]);
    // Whether the edge holds Cloudflare's message size limit is not the point here: nothing falls over.
    expect(got).toMatch(/^(message of 2097157|closed \d+ .*)$/);
    many[1]!.ws.terminate();
    many[0]!.ws.send("still here");
    expect(await many[2]!.next()).toBe("u0: still here");
    const room = async (name: string) => JSON.parse((await httpGet(t.region.port, "chat.localhost", { path: `/?room=${name}` })).body);
    // The dropped socket is gone from the object; the other 59 stay.
    expect(await room("crowd")).toEqual({ sockets: 59, edgeHeaders: [] });
  });

  it("a Durable Object's socket takes a message of 32 MiB and closes with 1009 on one byte more (Cloudflare's limit since October 2025, workerd's own)", async () => {
    const outcome = async (size: number) => {
      const c = await connect(`/?room=size${size}&who=s`);
      const closed = new Promise<[number, string]>((r) => c.ws.on("close", (code, reason) => r([code, String(reason)])));
      c.ws.send("x".repeat(size));
      return Promise.race([c.next().then((m) => `message of ${m.length}`), closed.then((x) => `closed ${x[0]} ${x[1]}`)]);
    };
    expect(await outcome(32 * 1024 * 1024 + 1)).toBe("closed 1009 Message is too large");
    expect(await outcome(32 * 1024 * 1024)).toBe(`message of ${32 * 1024 * 1024 + "s: ".length}`);
  }, 60_000);
});
