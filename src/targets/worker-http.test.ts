// The one HTTP client for Workers, against a real node:http server on 127.0.0.1.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callWorker, workerAgent, workerUrl } from "./worker-http.ts";

let server: http.Server;
let base: string;
const seen: Array<{ method: string | undefined; host: string | undefined; path: string | undefined; body: string; socket: number }> = [];
const sockets = new Map<unknown, number>();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (!sockets.has(req.socket)) sockets.set(req.socket, sockets.size + 1);
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      seen.push({
        method: req.method,
        host: req.headers.host,
        path: req.url,
        body: Buffer.concat(chunks).toString("utf8"),
        socket: sockets.get(req.socket)!,
      });
      if (req.url === "/big") return void res.writeHead(200).end("x".repeat(100_000));
      if (req.url === "/reset") {
        // Headers, part of the body, then the connection dies: the answer never completes.
        res.writeHead(200, { "content-length": "1000" });
        res.write("partial");
        return void setTimeout(() => req.socket.destroy(), 20);
      }
      if (req.url === "/trickle") {
        res.writeHead(200);
        const t = setInterval(() => res.write("."), 20);
        return void setTimeout(() => (clearInterval(t), res.end()), 2_000);
      }
      res.writeHead(req.method === "POST" ? 202 : 200).end("hello");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe("callWorker", () => {
  it("sends the endpoint's Host, the method, headers and body, and keeps the endpoint's path prefix", async () => {
    const a = await callWorker({
      endpoint: { url: `${base}prefix`, host: "hello.localhost" },
      path: "/orchestrator/poke",
      method: "POST",
      headers: { "x-sig": "t=1" },
      body: '{"a":1}',
      timeoutMs: 2_000,
      maxBodyBytes: 100,
    });
    expect(a).toMatchObject({ kind: "response", status: 202, body: "hello", truncated: false });
    expect(seen.at(-1)).toMatchObject({ method: "POST", host: "hello.localhost", path: "/prefix/orchestrator/poke", body: '{"a":1}' });
    expect(workerUrl({ url: base }, "health?x=1").href).toBe(`${base}health?x=1`);
  });

  it("keeps at most maxBodyBytes of the body, reading the rest to the end", async () => {
    expect(await callWorker({ endpoint: { url: base }, path: "/big", timeoutMs: 2_000, maxBodyBytes: 10 })).toMatchObject({
      kind: "response",
      status: 200,
      body: "xxxxxxxxxx",
      truncated: true,
    });
    expect(await callWorker({ endpoint: { url: base }, path: "/big", timeoutMs: 2_000 })).toMatchObject({
      kind: "response",
      status: 200,
      body: "",
      truncated: true,
    });
  });

  it("reports a connection that dies mid-body as an error during the response", async () => {
    expect(await callWorker({ endpoint: { url: base }, path: "/reset", timeoutMs: 2_000 })).toMatchObject({
      kind: "error",
      during: "response",
    });
  });

  it("has one deadline for the whole exchange: a body that trickles in does not hold it", async () => {
    const t0 = performance.now();
    expect(await callWorker({ endpoint: { url: base }, path: "/trickle", timeoutMs: 150 })).toMatchObject({
      kind: "timeout",
      timeoutMs: 150,
    });
    expect(performance.now() - t0).toBeLessThan(1_000);
  });

  it("reuses one connection through a keep-alive agent, and opens one per call without", async () => {
    const agent = workerAgent({ url: base });
    try {
      await callWorker({ endpoint: { url: base }, path: "/a", timeoutMs: 2_000, agent });
      await callWorker({ endpoint: { url: base }, path: "/b", timeoutMs: 2_000, agent });
      const [a, b] = seen.slice(-2);
      expect(a!.socket).toBe(b!.socket);
    } finally {
      agent.destroy();
    }
    await callWorker({ endpoint: { url: base }, path: "/c", timeoutMs: 2_000 });
    await callWorker({ endpoint: { url: base }, path: "/d", timeoutMs: 2_000 });
    const [c, d] = seen.slice(-2);
    expect(c!.socket).not.toBe(d!.socket);
  });

  it("answers an unusable endpoint and a refused connection without throwing", async () => {
    expect(await callWorker({ endpoint: { url: "not a url" }, path: "/", timeoutMs: 2_000 })).toMatchObject({
      kind: "error",
      code: undefined,
      during: "request",
    });
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    expect(await callWorker({ endpoint: { url: `http://127.0.0.1:${port}/` }, path: "/", timeoutMs: 2_000 })).toMatchObject({
      kind: "error",
      code: "ECONNREFUSED",
      during: "request",
    });
  });
});
