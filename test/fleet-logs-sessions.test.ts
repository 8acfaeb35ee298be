// The daemon's tail session (src/fleet-logs/tail-session.ts) against the local edge: it streams,
// renews itself before the session expires (here after 400 ms instead of 6 h) without losing or
// repeating a line and without leaving old sessions behind, starts a new session when the edge
// ends one (deleted, as at expiry), waits and retries while the Worker does not exist yet, and
// deletes its session on close.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTailSession } from "../src/fleet-logs/tail-session.ts";
import { api, apiOk, putScript } from "./support/api.ts";
import { recordingClient } from "./support/cf-client.ts";
import { startTestEdge, type TestEdge } from "./support/edge.ts";
import { eventually, httpGet } from "./support/http.ts";

const CODE = `export default { async fetch(req) { console.log("n", new URL(req.url).searchParams.get("n")); return new Response("ok"); } }`;

describe("a tail session kept by the daemon", () => {
  let t: TestEdge;
  const tails = (w: string) => apiOk<Array<{ id: string }>>(t.edge, "GET", `/accounts/${t.region.accountId}/workers/scripts/${w}/tails`);
  const hit = (w: string, n: number) => httpGet(t.region.port, `${w}.localhost`, { path: `/?n=${n}` });
  const numbers = (texts: string[]) =>
    texts.map((x) => (JSON.parse(x) as { logs: Array<{ message: [string, string] }> }).logs[0]!.message[1]);

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu"] });
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it("renews itself before expiry without losing or repeating a line, and deletes the old sessions", async () => {
    await putScript(t.edge, t.region.accountId, "renewed", { code: CODE });
    const got: string[] = [];
    const s = openTailSession({
      worker: "renewed",
      target: "eu",
      client: recordingClient(t).cf,
      onMessage: (text) => got.push(text),
      renewAfterMs: 400,
      backoff: { baseMs: 50, maxMs: 200 },
    });
    await eventually(async () => {
      if (s.info().state !== "streaming") throw new Error(s.info().state);
    });
    // One request at a time, each seen before the next: across several renewals.
    let n = 0;
    const until = Date.now() + 2_500;
    while (Date.now() < until) {
      const want = String(++n);
      await hit("renewed", n);
      await eventually(
        async () => {
          if (!numbers(got).includes(want)) throw new Error(`line ${want} missing after ${s.info().renewals} renewals`);
        },
        5_000,
        20,
      );
    }
    expect(s.info().renewals).toBeGreaterThanOrEqual(3);
    expect(numbers(got)).toEqual(Array.from({ length: n }, (_, i) => String(i + 1)));
    expect(s.info().lines).toBe(n);
    await eventually(async () => {
      if ((await tails("renewed")).length !== 1) throw new Error("old sessions left");
    });
    await s.close();
    await eventually(async () => {
      if ((await tails("renewed")).length !== 0) throw new Error("session left after close");
    });
  });

  it("starts a new session when the edge ends one, and waits for a Worker that does not exist yet", async () => {
    const got: string[] = [];
    const s = openTailSession({
      worker: "later",
      target: "eu",
      client: recordingClient(t).cf,
      onMessage: (text) => got.push(text),
      backoff: { baseMs: 50, maxMs: 200 },
    });
    await eventually(async () => {
      if (s.info().state !== "waiting" || !/10007|not exist/i.test(s.info().lastError ?? "")) throw new Error(JSON.stringify(s.info()));
    });
    await putScript(t.edge, t.region.accountId, "later", { code: CODE });
    await eventually(async () => {
      if (s.info().state !== "streaming") throw new Error(s.info().state);
    });
    const [first] = await tails("later");
    // Ended by the edge (as at expiry: close 1000): a new session at once.
    await api(t.edge, "DELETE", `/accounts/${t.region.accountId}/workers/scripts/later/tails/${first!.id}`);
    await eventually(async () => {
      const now = await tails("later");
      if (now.length !== 1 || now[0]!.id === first!.id || s.info().state !== "streaming") throw new Error("no new session yet");
    });
    expect(s.info().reconnects).toBe(1);
    await eventually(async () => {
      await hit("later", 42);
      if (!numbers(got).includes("42")) throw new Error("no line on the new session");
    });
    await s.close();
  });
});
