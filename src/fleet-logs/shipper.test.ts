// The shipper against a real HTTP sink on 127.0.0.1: batches in order, retries a sink that is
// down, drops the oldest lines when its queue is full, drops a batch the sink refuses, and speaks
// OTLP/HTTP JSON or JSON lines with the configured headers.
import { createServer, type IncomingMessage, type Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import type { LogLine } from "../contract/index.ts";
import { createShipper, sinkLabel } from "./shipper.ts";
import { lineLogger } from "../telemetry/index.ts";

type Got = { headers: IncomingMessage["headers"]; body: string };
let server: Server | undefined;
afterEach(async () => {
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
});

/** A sink answering each request with the next status of `statuses` (then 200). */
async function sink(statuses: number[] = []): Promise<{ url: string; got: Got[] }> {
  const got: Got[] = [];
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const status = statuses.shift() ?? 200;
      if (status === 200) got.push({ headers: req.headers, body });
      res.writeHead(status, status === 429 ? { "retry-after": "0" } : {}).end();
    });
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/v1/logs?key=query-secret`, got };
}

const line = (n: number): LogLine => ({
  id: n,
  time: new Date(1_700_000_000_000 + n).toISOString(),
  worker: "api",
  target: "eu",
  versionId: "v1",
  outcome: "ok",
  status: 200,
  verdict: "ok",
  event: { kind: "fetch", request: { method: "GET", url: `https://x.test/${n}`, headers: {} } },
  logs: [{ level: "warn", message: [`line ${n}`, { n }], time: new Date(1_700_000_000_000 + n).toISOString() }],
  exceptions: [],
});
const until = async (ok: () => boolean, ms = 5_000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
};
const ids = (got: Got[]) =>
  got.flatMap((g) =>
    g.body
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as LogLine).id),
  );

describe("shipping fleet logs", () => {
  it("sends JSON lines in batches, in order, with the headers from the vault", async () => {
    const s = await sink();
    const shipper = createShipper({
      url: s.url,
      format: "jsonl",
      headers: () => ({ authorization: "Bearer sink-key" }),
      batchLines: 3,
      flushMs: 20,
      queueLines: 100,
      tenant: "default",
    });
    for (let i = 1; i <= 7; i++) shipper.push(line(i));
    await until(() => shipper.stats().shipped === 7);
    expect(ids(s.got)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(s.got.length).toBe(3);
    expect(s.got[0]!.headers.authorization).toBe("Bearer sink-key");
    expect(s.got[0]!.headers["content-type"]).toBe("application/x-ndjson");
    expect(shipper.stats()).toMatchObject({ queued: 0, dropped: 0, failedAttempts: 0, lastError: null });
    await shipper.close();
  });

  it("retries a sink that answers 503 and 429, keeping order", async () => {
    const s = await sink([503, 429, 503]);
    const shipper = createShipper({
      url: s.url,
      format: "jsonl",
      headers: () => ({}),
      batchLines: 2,
      flushMs: 10,
      queueLines: 100,
      tenant: "default",
      backoff: { baseMs: 5, maxMs: 20 },
    });
    for (let i = 1; i <= 4; i++) shipper.push(line(i));
    await until(() => shipper.stats().shipped === 4);
    expect(ids(s.got)).toEqual([1, 2, 3, 4]);
    expect(shipper.stats().failedAttempts).toBe(3);
    await shipper.close();
  });

  it("drops the oldest lines (counted) when the queue is full while the sink is down", async () => {
    const logged: string[] = [];
    const shipper = createShipper({
      url: "http://127.0.0.1:9/v1/logs",
      format: "jsonl",
      headers: () => ({}),
      batchLines: 5,
      flushMs: 10,
      queueLines: 10,
      tenant: "default",
      backoff: { baseMs: 5, maxMs: 10 },
      log: lineLogger((l) => logged.push(l)),
    });
    for (let i = 1; i <= 25; i++) shipper.push(line(i));
    await until(() => shipper.stats().failedAttempts > 0);
    expect(shipper.stats().dropped).toBe(15);
    expect(shipper.stats().queued).toBe(10);
    // The sink is named without its query (which may hold a key).
    expect(logged.join("\n")).toContain("http://127.0.0.1:9/v1/logs");
    await shipper.close(50);
  });

  it("drops a batch the sink refuses with a 4xx, and goes on", async () => {
    const s = await sink([400]);
    const shipper = createShipper({
      url: s.url,
      format: "jsonl",
      headers: () => ({}),
      batchLines: 2,
      flushMs: 10,
      queueLines: 100,
      tenant: "t",
    });
    for (let i = 1; i <= 4; i++) shipper.push(line(i));
    await until(() => shipper.stats().shipped === 2);
    expect(ids(s.got)).toEqual([3, 4]);
    expect(shipper.stats().dropped).toBe(2);
    await shipper.close();
  });

  it("speaks OTLP/HTTP JSON: a record for the invocation and one per console line, with the Worker's labels", async () => {
    const s = await sink();
    const shipper = createShipper({
      url: s.url,
      format: "otlp",
      headers: () => ({}),
      batchLines: 1,
      flushMs: 10,
      queueLines: 10,
      tenant: "acme",
    });
    shipper.push(line(9));
    await until(() => s.got.length === 1);
    const body = JSON.parse(s.got[0]!.body);
    const rl = body.resourceLogs[0];
    expect(rl.resource.attributes).toContainEqual({ key: "service.name", value: { stringValue: "clawdbot-orchestrator" } });
    expect(rl.resource.attributes).toContainEqual({ key: "cbo.tenant", value: { stringValue: "acme" } });
    const records = rl.scopeLogs[0].logRecords;
    expect(records.map((r: { body: { stringValue: string } }) => r.body.stringValue)).toEqual([
      "GET https://x.test/9 → 200 (ok)",
      'line 9 {"n":9}',
    ]);
    expect(records[1].severityText).toBe("WARN");
    expect(records[1].timeUnixNano).toBe(`${(1_700_000_000_000 + 9) * 1_000_000}`);
    expect(records[1].attributes).toContainEqual({ key: "faas.name", value: { stringValue: "api" } });
    expect(records[1].attributes).toContainEqual({ key: "cloud.region", value: { stringValue: "eu" } });
    expect(s.got[0]!.headers["content-type"]).toBe("application/json");
    await shipper.close();
  });

  it("names a sink without its query or credentials", () => {
    expect(sinkLabel("https://user:pw@logs.example.com:8443/v1/logs?api_key=x#f")).toBe("https://logs.example.com:8443/v1/logs");
  });
});
