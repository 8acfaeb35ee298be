// Our Cloudflare client's tail-session and analytics calls against the local edge: a tail session
// created through the client streams a request's console line on its `trace-v1` socket (with the
// `ws` package, as the daemon connects), is listed and deleted; the GraphQL analytics call reads
// a script's requests, errors and p99 per minute, and a GraphQL error comes back as a CboError.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { TAIL_PROTOCOL } from "../src/cloudflare/index.ts";
import { putScript } from "./support/api.ts";
import { expectClassified, failure, recordingClient, type RecordingClient } from "./support/cf-client.ts";
import { startTestEdge, type TestEdge } from "./support/edge.ts";
import { eventually, httpGet } from "./support/http.ts";

const WORKER = "tailed-by-client";
const CODE = `export default { async fetch(req) {
  const u = new URL(req.url);
  console.log("line", u.searchParams.get("m"));
  if (u.pathname === "/boom") throw new Error("boom");
  return new Response("ok");
} }`;

describe("the Cloudflare client's tails and analytics against the local edge", () => {
  let t: TestEdge;
  let rc: RecordingClient;
  const get = (path: string) => httpGet(t.region.port, `${WORKER}.localhost`, { path });

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu"] });
    rc = recordingClient(t);
    await putScript(t.edge, t.region.accountId, WORKER, { code: CODE });
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it("creates a tail session whose socket streams each request's console lines, lists and deletes it", async () => {
    const session = await rc.cf.createTail(WORKER, [{ outcome: ["ok"] }]);
    expect(session.url).toMatch(/^ws:\/\//);
    expect(Date.parse(session.expires_at ?? "")).toBeGreaterThan(Date.now() + 5 * 3600_000);
    expect((await rc.cf.listTails(WORKER)).map((s) => s.id)).toEqual([session.id]);

    const ws = new WebSocket(session.url, TAIL_PROTOCOL);
    const messages: string[] = [];
    ws.on("message", (m) => messages.push(String(m)));
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    expect(ws.protocol).toBe(TAIL_PROTOCOL);
    const seen = await eventually(async () => {
      await get("/?m=client-tail");
      await get("/boom?m=filtered-out");
      const found = messages.map((m) => JSON.parse(m) as { outcome: string; logs: Array<{ message: unknown[] }> });
      const mine = found.filter((e) => JSON.stringify(e.logs).includes("client-tail"));
      if (mine.length === 0) throw new Error("no line yet");
      return found;
    });
    // The session's filter (outcome ok) holds back the request that threw.
    expect(seen.every((e) => e.outcome === "ok")).toBe(true);
    expect(seen[0]!.logs[0]!.message).toEqual(["line", "client-tail"]);

    const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
    await rc.cf.deleteTail(WORKER, session.id);
    expect(await closed).toBe(1000);
    expect(await rc.cf.listTails(WORKER)).toEqual([]);
    const gone = await failure(rc.cf.deleteTail(WORKER, session.id));
    expect(gone.code).toBe("ERR_CF_REQUEST");
  });

  it("reads requests, errors and p99 per script and minute from GraphQL workersInvocationsAdaptive", async () => {
    const from = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 60_000);
    for (let i = 0; i < 5; i++) await get(`/?m=${i}`);
    await get("/boom");
    const to = new Date(Math.floor(Date.now() / 60_000) * 60_000 + 60_000);
    const rows = await rc.cf.workersInvocationsByMinute({ from, to, scripts: [WORKER] });
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.script === WORKER && r.minute.endsWith(":00.000Z"))).toBe(true);
    const total = rows.reduce((a, r) => ({ requests: a.requests + r.requests, errors: a.errors + r.errors }), { requests: 0, errors: 0 });
    // Earlier tests' requests may fall in the window too: at least these six, and the throw counted.
    expect(total.requests).toBeGreaterThanOrEqual(6);
    expect(total.errors).toBeGreaterThanOrEqual(1);
    expect(rows.some((r) => r.wallTimeP99Ms !== null && r.wallTimeP99Ms >= 0)).toBe(true);
    // Another script's name filters everything out.
    expect(await rc.cf.workersInvocationsByMinute({ from, to, scripts: ["no-such-worker"] })).toEqual([]);
    expectClassified(rc.endpoints, [
      "workers.tails.create",
      "workers.tails.list",
      "workers.tails.delete",
      "graphql.workersInvocationsAdaptive",
    ]);
  });

  it("turns a GraphQL error into a CboError that names it", async () => {
    // Older than the local edge keeps (7 days): refused the way Cloudflare refuses it.
    const from = new Date(Date.now() - 30 * 86_400_000);
    const e = await failure(rc.cf.workersInvocationsByMinute({ from, to: new Date(from.getTime() + 60_000) }));
    expect(e.code).toBe("ERR_CF_REQUEST");
    expect(e.message).toMatch(/older than/);
  });
});
