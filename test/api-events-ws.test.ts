// The event stream on a real WebSocket (ws client) against the API on 127.0.0.1 and a real
// SQLite store: replay from an id, then live events, with no gap and no duplicate across the
// boundary; the token in the Authorization header or the `cbo.token.<token>` subprotocol (answered
// with cbo.v1 only), a token in the URL refused before the upgrade and never recorded; 1008 on a
// bad token; slow and dead clients dropped.
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { StoredEvent } from "../src/store/index.ts";
import { startApiFixture, type ApiFixture } from "./support/api-fixtures.ts";

type Conn = { ws: WebSocket; got: StoredEvent[]; opened: Promise<void>; closed: Promise<{ code: number; reason: string }> };

/** A stream client: the token as a subprotocol (`token`), or whatever `protocols` and `headers` say. */
function connect(f: ApiFixture, query: string, o: { token?: string; protocols?: string[]; headers?: Record<string, string> } = {}): Conn {
  const protocols = o.protocols ?? (o.token === undefined ? [] : ["cbo.v1", `cbo.token.${o.token}`]);
  const ws = new WebSocket(`${f.url.replace(/^http/, "ws")}/v1/events/stream${query}`, protocols, { headers: o.headers ?? {} });
  const got: StoredEvent[] = [];
  ws.on("message", (raw) => got.push(JSON.parse(raw.toString()) as StoredEvent));
  const opened = new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  return { ws, got, opened, closed };
}

async function until(check: () => boolean, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A health.changed payload as the monitor writes it; the tests tell events apart by their extra fields. */
const health = { from: "unknown", to: "healthy", versionId: null, latencyMs: 1, detail: "HTTP 200" } as const;
const append = (f: ApiFixture, n: number, data: Record<string, unknown> = {}, release?: string) =>
  Array.from({ length: n }, (_, i) =>
    f.store.events.append({
      type: "health.changed",
      worker: "hello",
      target: "eu",
      data: { ...health, i, ...data },
      ...(release ? { release_id: release } : {}),
    }),
  );

describe("event stream", () => {
  let f: ApiFixture;
  beforeAll(async () => {
    // Small pages so that a replay spans many pages and live events arrive in the middle of it.
    f = await startApiFixture({ stream: { pageSize: 7, heartbeatMs: 150 } });
  });
  afterAll(async () => {
    await f?.close();
  });

  it("replays from ?after=N, then streams live events appended during and after the replay: in order, no gap, no duplicate", async () => {
    const backlog = append(f, 300);
    const after = backlog[99]!.id;
    const c = connect(f, `?after=${after}`, { headers: { authorization: `Bearer ${f.tokens.viewer}` } });
    // Append while the server is still replaying (it waits for each page to be written), and after.
    let live = 0;
    const during = setInterval(() => {
      if (live < 200) append(f, 2), (live += 2);
    }, 1);
    await c.opened;
    await until(() => live >= 200, 10_000, "appends");
    clearInterval(during);
    append(f, 50);
    const expected = f.store.events.list({ after, limit: 10_000 }).map((e) => e.id);
    expect(expected.length).toBe(200 + 200 + 50);
    await until(() => c.got.length >= expected.length, 10_000, "all events");
    await new Promise((r) => setTimeout(r, 100));
    expect(c.got.map((e) => e.id)).toEqual(expected);
    expect(c.got[0]).toEqual(f.store.events.list({ after, limit: 1 })[0]);
    c.ws.close();
  });

  it("an event recorded right after each replay page is read (the worst moments) is delivered once, in order", async () => {
    const after = f.store.events.lastId();
    append(f, 30);
    // Another writer records an event just after the stream reads each page, including the last
    // one: those events are not in the page just read, so they must come from the live side.
    const list = f.store.events.list;
    let reads = 0;
    f.store.events.list = (opts) => {
      const page = list(opts);
      if (opts?.after !== undefined && opts.after >= after && reads++ < 20)
        f.store.events.append({ type: "health.changed", data: { ...health, racing: reads } });
      return page;
    };
    try {
      const c = connect(f, `?after=${after}`, { token: f.tokens.viewer });
      await c.opened;
      await until(() => reads >= 5, 5_000, "replay reads");
      await new Promise((r) => setTimeout(r, 50));
      append(f, 3);
      const expected = list({ after, limit: 10_000 }).map((e) => e.id);
      await until(() => c.got.length >= expected.length, 5_000, "all events");
      await new Promise((r) => setTimeout(r, 50));
      expect(c.got.map((e) => e.id)).toEqual(expected);
      expect(c.got.filter((e) => e.data.racing !== undefined).length).toBeGreaterThanOrEqual(5);
      c.ws.close();
    } finally {
      f.store.events.list = list;
    }
  });

  it("takes the token as a subprotocol (browsers), answers cbo.v1 only, and filters by ?release=", async () => {
    append(f, 3, {}, "rel-a");
    append(f, 3, {}, "rel-b");
    const c = connect(f, "?after=0&release=rel-a", { token: f.tokens.viewer });
    let answered: string | undefined;
    c.ws.once("upgrade", (res) => (answered = String(res.headers["sec-websocket-protocol"])));
    await c.opened;
    expect(c.ws.protocol).toBe("cbo.v1");
    expect(answered).toBe("cbo.v1");
    append(f, 2, { live: true }, "rel-a");
    append(f, 2, { live: true }, "rel-b");
    await until(() => c.got.length >= 5, 5_000, "rel-a events");
    await new Promise((r) => setTimeout(r, 100));
    expect(c.got).toHaveLength(5);
    expect(c.got.every((e) => e.release_id === "rel-a")).toBe(true);
    c.ws.close();
  });

  it("closes with 1008 on a missing or bad token, sending no event", async () => {
    for (const c of [
      connect(f, "?after=0"),
      connect(f, "?after=0", { token: "nope" }),
      connect(f, "?after=0", { headers: { authorization: "Bearer nope-nope" } }),
    ]) {
      const { code, reason } = await c.closed;
      expect(code).toBe(1008);
      expect(reason).toMatch(/^ERR_UNAUTHORIZED: /);
      expect(reason).not.toContain("nope");
      expect(c.got).toEqual([]);
    }
  });

  it("closes with 1008 when the token's tenant is another one, and 4400 on a bad ?after", async () => {
    const { token } = f.store.tokens.create({ name: "acme viewer", role: "viewer", tenant: "acme" });
    const other = connect(f, "", { token });
    expect(await other.closed).toMatchObject({ code: 1008, reason: expect.stringMatching(/^ERR_FORBIDDEN/) });
    const bad = connect(f, "?after=abc", { token: f.tokens.viewer });
    expect(await bad.closed).toMatchObject({ code: 4400, reason: expect.stringMatching(/^ERR_VALIDATION: .*query\.after/) });
  });

  it("refuses a token in the URL before the upgrade (400 ERR_TOKEN_IN_URL) and records the attempt without it", async () => {
    const refused = async (query: string, protocols: string[] = []) => {
      const ws = new WebSocket(`${f.url.replace(/^http/, "ws")}/v1/events/stream${query}`, protocols);
      return new Promise<{ status: number; body: string }>((resolve, reject) => {
        ws.once("unexpected-response", (_req, res) => {
          let body = "";
          res.on("data", (d: Buffer) => (body += d.toString()));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        });
        ws.once("open", () => reject(new Error("upgraded")));
      });
    };
    // A valid token is refused all the same: the URL has been seen by whatever sits in between.
    const r = await refused(`?after=0&token=${f.tokens.viewer}`);
    expect(r.status).toBe(400);
    const body = JSON.parse(r.body) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("ERR_TOKEN_IN_URL");
    expect(r.body).not.toContain(f.tokens.viewer);
    const entries = f.security.audit.search({ action: "auth.token_in_url", limit: 100 });
    expect(entries.length).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(f.security.audit.search({ limit: 10_000 }))).not.toContain(f.tokens.viewer);
    expect(f.logged.join("\n")).not.toContain(f.tokens.viewer);
    // A token subprotocol without cbo.v1 would have to be echoed to be answered: refused too.
    const bare = await refused("?after=0", [`cbo.token.${f.tokens.viewer}`]);
    expect(bare.status).toBe(400);
    expect(JSON.parse(bare.body).error.code).toBe("ERR_VALIDATION");
  });

  it("refuses upgrades on other paths", async () => {
    const ws = new WebSocket(`${f.url.replace(/^http/, "ws")}/v1/elsewhere`, { headers: { authorization: `Bearer ${f.tokens.viewer}` } });
    const status = await new Promise<number>((resolve) => {
      ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.once("error", () => resolve(-1));
    });
    expect(status).toBe(404);
  });

  it("keeps a client that answers pings, and drops one that does not", async () => {
    const good = connect(f, `?after=${f.store.events.lastId()}`, { token: f.tokens.viewer });
    await good.opened;
    // A raw socket that completes the handshake and then never answers a ping.
    const sock = net.connect(f.server.port, "127.0.0.1");
    await new Promise((r) => sock.once("connect", r));
    sock.write(
      `GET /v1/events/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Protocol: cbo.v1, cbo.token.${f.tokens.viewer}\r\n` +
        `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    let head = "";
    sock.on("data", (d: Buffer) => (head += d.toString("latin1")));
    const dead = new Promise<number>((resolve) => {
      const t0 = Date.now();
      sock.once("close", () => resolve(Date.now() - t0));
    });
    const after = await dead;
    expect(head).toMatch(/^HTTP\/1\.1 101/);
    // Two heartbeats: one ping unanswered, then the drop.
    expect(after).toBeGreaterThanOrEqual(140);
    expect(after).toBeLessThan(2_000);
    expect(good.ws.readyState).toBe(WebSocket.OPEN);
    append(f, 1, { still: "alive" });
    await until(() => good.got.length === 1, 5_000, "event on the good client");
    good.ws.close();
  });
});

describe("slow clients", () => {
  let f: ApiFixture;
  beforeAll(async () => {
    f = await startApiFixture({ stream: { maxBufferedBytes: 256 * 1024 } });
  });
  afterAll(async () => {
    await f?.close();
  });

  it("drops a client that stops reading, while the others keep receiving every event", async () => {
    const after = f.store.events.lastId();
    const slow = connect(f, `?after=${after}`, { token: f.tokens.viewer });
    const fast = connect(f, `?after=${after}`, { token: f.tokens.viewer });
    await Promise.all([slow.opened, fast.opened]);
    slow.ws.pause();
    const big = "x".repeat(64 * 1024);
    // Far more than the kernel's socket buffers hold, so data piles up in the server.
    for (let i = 0; i < 400; i++) {
      append(f, 1, { big, i });
      if (i % 20 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    await until(() => fast.got.length === 400, 20_000, "fast client");
    expect(fast.got.map((e) => e.data.i)).toEqual(Array.from({ length: 400 }, (_, i) => i));
    slow.ws.resume();
    const { code } = await slow.closed;
    // 1013 when the close frame got through, 1006 when the server had to cut the connection.
    expect([1013, 1006]).toContain(code);
    expect(slow.got.length).toBeLessThan(400);
    fast.ws.close();
  });

  it("closes open streams with 1001 when the server shuts down", async () => {
    const c = connect(f, `?after=${f.store.events.lastId()}`, { token: f.tokens.viewer });
    await c.opened;
    await f.server.close();
    expect((await c.closed).code).toBe(1001);
  });
});
