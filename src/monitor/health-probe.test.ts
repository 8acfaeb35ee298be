// Against real sockets on 127.0.0.1: a node:http server that answers per request path.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { probe } from "./health-probe.ts";

let server: http.Server;
let base: string;
const seen: Array<{ host: string | undefined; path: string | undefined }> = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push({ host: req.headers.host, path: req.url });
    if (req.url === "/slow") return void setTimeout(() => res.end("late"), 1_000);
    if (req.url === "/down") return void res.writeHead(503).end("down");
    if (req.url === "/headers-only") {
      // Status arrives at once, the body never completes within the timeout.
      res.writeHead(200);
      res.write("partial");
      return void setTimeout(() => res.end(), 1_000);
    }
    res.writeHead(200, { "content-type": "text/plain" }).end("ok");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe("probe", () => {
  it("sends the endpoint's Host header and the probe path, and times the answer", async () => {
    const r = await probe({ url: base, host: "hello.localhost" }, "/healthz?deep=1", 2_000);
    expect(r).toMatchObject({ kind: "response", httpStatus: 200 });
    expect(r.kind === "response" && r.latencyMs).toBeGreaterThan(0);
    expect(seen.at(-1)).toEqual({ host: "hello.localhost", path: "/healthz?deep=1" });
  });

  it("keeps a path prefix of the endpoint URL", async () => {
    await probe({ url: `${base}prefix` }, "/x", 2_000);
    expect(seen.at(-1)!.path).toBe("/prefix/x");
  });

  it("reports the status of a non-2xx answer", async () => {
    expect(await probe({ url: base }, "/down", 2_000)).toMatchObject({ kind: "response", httpStatus: 503 });
  });

  it("gives up at the deadline, also when headers came but the body did not", async () => {
    const t0 = performance.now();
    expect(await probe({ url: base }, "/slow", 150)).toEqual({ kind: "timeout", timeoutMs: 150 });
    expect(await probe({ url: base }, "/headers-only", 150)).toEqual({ kind: "timeout", timeoutMs: 150 });
    expect(performance.now() - t0).toBeLessThan(900);
  });

  it("reports a refused connection with its code", async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    expect(await probe({ url: `http://127.0.0.1:${port}/` }, "/", 2_000)).toMatchObject({ kind: "error", code: "ECONNREFUSED" });
  });

  it("reports an unusable endpoint URL instead of throwing", async () => {
    expect(await probe({ url: "not a url" }, "/", 2_000)).toMatchObject({ kind: "error", code: undefined });
  });
});
