// The transport against a real HTTP peer on loopback that answers from a script.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createRequestBudget } from "./budget.ts";
import { type CallRetry, withCallScope } from "./call-scope.ts";
import { createTransport, responseInfo, type TransportRequestInfo } from "./transport.ts";

type Seen = { method: string; url: string; headers: http.IncomingHttpHeaders; body: Buffer; at: number };
type Reply = { status: number; headers?: Record<string, string>; body?: string };

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((s) => {
      s.closeAllConnections();
      return new Promise((r) => s.close(r));
    }),
  );
});

async function scriptedServer(replies: Reply[], fallback: Reply = { status: 200, body: "{}" }) {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks), at: Date.now() });
      const reply = replies.shift() ?? fallback;
      res.writeHead(reply.status, { "content-type": "application/json", ...reply.headers });
      res.end(reply.body ?? JSON.stringify({ success: reply.status < 400, errors: [], result: null }));
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return { seen, baseUrl: `http://127.0.0.1:${port}/client/v4` };
}

const TOKEN = "secret-token-value-123";

function transportFor(baseUrl: string, extra: Partial<Parameters<typeof createTransport>[0]> = {}) {
  const budget = createRequestBudget({ limit: 100, windowMs: 1000 });
  const infos: TransportRequestInfo[] = [];
  const transport = createTransport({
    baseUrl,
    apiToken: TOKEN,
    budget,
    baseDelayMs: 5,
    maxDelayMs: 20,
    onRequest: (i) => infos.push(i),
    ...extra,
  });
  return { transport, budget, infos };
}

describe("transport", () => {
  it("retries 429 and 503 and returns the eventual success; each attempt takes a budget slot", async () => {
    const { seen, baseUrl } = await scriptedServer([
      { status: 429, headers: { "retry-after": "0" } },
      { status: 503 },
      { status: 200, body: JSON.stringify({ success: true, errors: [], result: { ok: 1 } }) },
    ]);
    const { transport, budget, infos } = transportFor(baseUrl);
    const res = await transport("/accounts/abc/workers/scripts", { method: "GET" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ result: { ok: 1 } });
    expect(seen).toHaveLength(3);
    expect(seen.every((s) => s.url === "/client/v4/accounts/abc/workers/scripts")).toBe(true);
    expect(seen.every((s) => s.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect(infos.map((i) => [i.method, i.path, i.attempt])).toEqual([
      ["GET", "/accounts/abc/workers/scripts", 0],
      ["GET", "/accounts/abc/workers/scripts", 1],
      ["GET", "/accounts/abc/workers/scripts", 2],
    ]);
    expect(budget.stats().started).toBe(3);
    expect(responseInfo(res)).toEqual({ method: "GET", path: "/accounts/abc/workers/scripts", attempts: 3, endpoint: "unclassified" });
  });

  it("labels every attempt with the endpoint class it was given, which never goes on the wire", async () => {
    const { seen, baseUrl } = await scriptedServer([{ status: 503 }, { status: 200 }]);
    const { transport, infos } = transportFor(baseUrl);
    const res = await transport("/accounts/abc/d1/database/x/query", { method: "POST", body: "{}", endpoint: "d1.query" });
    expect(res.status).toBe(200);
    expect(infos.map((i) => [i.endpoint, i.attempt])).toEqual([
      ["d1.query", 0],
      ["d1.query", 1],
    ]);
    expect(responseInfo(res)?.endpoint).toBe("d1.query");
    expect(seen.every((s) => !JSON.stringify(s.headers).includes("d1.query") && !s.url.includes("endpoint"))).toBe(true);
  });

  it("waits at least what retry-after asks on a 429", async () => {
    const { seen, baseUrl } = await scriptedServer([{ status: 429, headers: { "retry-after": "1" } }]);
    const { transport } = transportFor(baseUrl);
    const res = await transport("/x");
    expect(res.status).toBe(200);
    expect(seen).toHaveLength(2);
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it("spaces retries by exponential backoff (full jitter, capped)", async () => {
    const { seen, baseUrl } = await scriptedServer([{ status: 503 }, { status: 500 }, { status: 502 }]);
    // random() near 1 takes the top of each jitter range: 100, 200, then the 300 cap.
    const { transport } = transportFor(baseUrl, { baseDelayMs: 100, maxDelayMs: 300, random: () => 0.999 });
    expect((await transport("/x")).status).toBe(200);
    const gaps = seen.slice(1).map((s, i) => s.at - seen[i]!.at);
    expect(gaps[0]).toBeGreaterThanOrEqual(95);
    expect(gaps[1]).toBeGreaterThanOrEqual(195);
    expect(gaps[2]).toBeGreaterThanOrEqual(295);
    expect(gaps[2]).toBeLessThan(600);
  });

  it("does not retry other 4xx", async () => {
    const body = JSON.stringify({ success: false, errors: [{ code: 10007, message: "not found" }], result: null });
    const { seen, baseUrl } = await scriptedServer([{ status: 404, body }]);
    const { transport } = transportFor(baseUrl);
    const res = await transport("/x", { method: "DELETE" });
    expect(res.status).toBe(404);
    expect(seen).toHaveLength(1);
    expect(responseInfo(res)?.attempts).toBe(1);
  });

  it("sends a request marked once a single time after a 5xx or a timeout (it may have landed), but retries its 429", async () => {
    const { seen, baseUrl } = await scriptedServer([{ status: 429, headers: { "retry-after": "0" } }, { status: 503 }]);
    const { transport } = transportFor(baseUrl);
    const res = await transport("/restore", { method: "POST", once: true });
    expect(res.status).toBe(503);
    expect(seen).toHaveLength(2);
    // A peer that never answers: one attempt, then ERR_CF_UNAVAILABLE.
    let hits = 0;
    const silent = http.createServer(() => void hits++);
    servers.push(silent);
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const { port } = silent.address() as AddressInfo;
    const slow = transportFor(`http://127.0.0.1:${port}/client/v4`, { timeoutMs: 100 }).transport;
    await expect(slow("/restore", { method: "POST", once: true })).rejects.toMatchObject({ code: "ERR_CF_UNAVAILABLE" });
    expect(hits).toBe(1);
  });

  it("returns the last response when retries run out", async () => {
    const { seen, baseUrl } = await scriptedServer([], { status: 429, headers: { "retry-after": "0" } });
    const { transport } = transportFor(baseUrl, { maxRetries: 2 });
    const res = await transport("/x");
    expect(res.status).toBe(429);
    expect(seen).toHaveLength(3);
    expect(responseInfo(res)?.attempts).toBe(3);
  });

  it("gives up at once when retry-after is beyond maxRetryAfterMs", async () => {
    const { seen, baseUrl } = await scriptedServer([], { status: 429, headers: { "retry-after": "600" } });
    const { transport } = transportFor(baseUrl, { maxRetryAfterMs: 10_000 });
    const res = await transport("/x");
    expect(res.status).toBe(429);
    expect(seen).toHaveLength(1);
  });

  it("re-sends the same body on every attempt: FormData, strings and streams", async () => {
    const { seen, baseUrl } = await scriptedServer([
      { status: 502 },
      { status: 502 },
      { status: 200 },
      { status: 500 },
      { status: 200 },
      { status: 503 },
    ]);
    const { transport } = transportFor(baseUrl);
    const form = new FormData();
    form.set("metadata", JSON.stringify({ main_module: "index.js" }));
    form.set("index.js", new File(["export default {}"], "index.js", { type: "application/javascript+module" }));
    expect((await transport("/form", { method: "PUT", body: form })).status).toBe(200);
    expect((await transport("/text", { method: "POST", body: "hello", headers: { "content-type": "text/plain" } })).status).toBe(200);
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode("streamed"));
        c.close();
      },
    });
    expect((await transport("/stream", { method: "POST", body: stream, duplex: "half" } as RequestInit)).status).toBe(200);
    const forms = seen.filter((s) => s.url.endsWith("/form"));
    expect(forms).toHaveLength(3);
    for (const f of forms) {
      expect(f.body.toString()).toContain("export default {}");
      expect(f.headers["content-type"]).toMatch(/^multipart\/form-data; boundary=/);
    }
    const texts = seen.filter((s) => s.url.endsWith("/text"));
    expect(texts.map((t) => t.body.toString())).toEqual(["hello", "hello"]);
    expect(seen.filter((s) => s.url.endsWith("/stream")).map((s) => s.body.toString())).toEqual(["streamed", "streamed"]);
  });

  it("accepts a Request as input and keeps its body replayable", async () => {
    const { seen, baseUrl } = await scriptedServer([{ status: 500 }]);
    const { transport } = transportFor(baseUrl);
    const res = await transport(new Request(`${baseUrl}/r`, { method: "POST", body: "payload" }));
    expect(res.status).toBe(200);
    expect(seen.map((s) => s.body.toString())).toEqual(["payload", "payload"]);
  });

  it("throws ERR_CF_UNAVAILABLE after network errors, without the token in it", async () => {
    const { baseUrl } = await scriptedServer([]);
    const dead = baseUrl.replace(/:\d+\//, ":1/"); // port 1: nothing listens
    const { transport, infos } = transportFor(dead, { maxRetries: 2 });
    const err = await transport("/accounts").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: "ERR_CF_UNAVAILABLE", details: { attempts: 3, method: "GET", path: "/accounts" } });
    expect(infos).toHaveLength(3);
    expect(JSON.stringify((err as { toJSON(): unknown }).toJSON())).not.toContain(TOKEN);
    expect(String((err as Error).message)).not.toContain(TOKEN);
  });

  it("retries an attempt that times out", async () => {
    let calls = 0;
    const server = http.createServer((_req, res) => {
      calls++;
      if (calls === 1) return; // never answers
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as AddressInfo;
    const { transport } = transportFor(`http://127.0.0.1:${port}/client/v4`, { timeoutMs: 200, label: "eu" });
    // The call scope hears of the retry: whose, what, why, which attempt of how many, and when.
    const retries: CallRetry[] = [];
    const res = await withCallScope({ onRetry: (r) => retries.push(r) }, () => transport("/slow", { endpoint: "test.slow" }));
    expect(res.status).toBe(200);
    expect(calls).toBe(2);
    expect(retries).toEqual([
      {
        target: "eu",
        method: "GET",
        path: "/slow",
        endpoint: "test.slow",
        attempt: 1,
        attempts: 6,
        why: "timed out after 200 ms",
        delayMs: expect.any(Number),
      },
    ]);
  });

  it("tells the call scope of each retry after a 5xx or 429, with the status", async () => {
    const { baseUrl } = await scriptedServer([{ status: 503 }, { status: 429, headers: { "retry-after": "0" } }]);
    const { transport } = transportFor(baseUrl);
    const retries: CallRetry[] = [];
    const res = await withCallScope({ onRetry: (r) => retries.push(r) }, () => transport("/accounts/a/x", { method: "PUT", body: "b" }));
    expect(res.status).toBe(200);
    expect(retries.map((r) => [r.target, r.method, r.path, r.attempt, r.why])).toEqual([
      [undefined, "PUT", "/accounts/a/x", 1, "HTTP 503"],
      [undefined, "PUT", "/accounts/a/x", 2, "HTTP 429"],
    ]);
  });

  it("stops at once when the caller aborts", async () => {
    const { seen, baseUrl } = await scriptedServer([], { status: 503, headers: { "retry-after": "5" } });
    const { transport } = transportFor(baseUrl);
    const controller = new AbortController();
    const pending = transport("/x", { signal: controller.signal });
    setTimeout(() => controller.abort(new Error("caller gave up")), 100);
    await expect(pending).rejects.toThrow("caller gave up");
    expect(seen).toHaveLength(1);
  });

  it("acquires a budget slot before every attempt and queues when the budget is spent", async () => {
    const { seen, baseUrl } = await scriptedServer([{ status: 503 }, { status: 503 }]);
    const budget = createRequestBudget({ limit: 2, windowMs: 400 });
    const starts: number[] = [];
    const transport = createTransport({
      baseUrl,
      apiToken: TOKEN,
      budget,
      baseDelayMs: 1,
      maxDelayMs: 2,
      onRequest: (i) => starts.push(i.startedAt),
    });
    const res = await transport("/x");
    expect(res.status).toBe(200);
    expect(seen).toHaveLength(3);
    // the third attempt had to wait for the first to leave the 400 ms window
    expect(starts[2]! - starts[0]!).toBeGreaterThanOrEqual(400);
  });
});
