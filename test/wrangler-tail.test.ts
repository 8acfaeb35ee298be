// Real `wrangler tail` (the pinned latest and 4.86) against the local edge: the tail endpoint
// (POST/GET/DELETE …/workers/scripts/:name/tails), the trace-v1 WebSocket, each request's event
// with its console.log lines, workerd's redaction, and the filters wrangler sends.
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { api, apiOk, deployVersions, putScript, uploadVersion } from "./support/api.ts";
import { startTestEdge, type TestEdge } from "./support/edge.ts";
import { createKeepAliveAgent, eventually, hammer, httpGet } from "./support/http.ts";
import { createWranglerProject, sameId, type WranglerProcess, type WranglerVersion } from "./support/wrangler.ts";

const WORKER = "tailed";
const code = (label: string) => `export default { async fetch(req) {
  const url = new URL(req.url);
  const m = url.searchParams.get("m");
  console.log("hello from", ${JSON.stringify(label)}, m, { n: 1 });
  console.warn("careful", m);
  if (url.pathname === "/boom") throw new Error("boom " + m);
  return new Response("ok ${label}");
} }`;

type TailEvent = {
  outcome: string;
  scriptName: string;
  scriptVersion: { id: string; tag?: string };
  eventTimestamp: number;
  logs: Array<{ message: unknown[]; level: string; timestamp: number }>;
  exceptions: Array<{ name: string; message: string; timestamp: number }>;
  event: { request: { url: string; method: string; headers: Record<string, string> }; response?: { status: number } };
};

/** The JSON objects wrangler printed (`--format json` prints each event as indented JSON). */
function eventsOf(out: string): TailEvent[] {
  const events: TailEvent[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < out.length; i++) {
    const ch = out[i];
    if (inString) {
      if (ch === "\\") i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"' && depth > 0) inString = true;
    else if (ch === "{") {
      if (depth++ === 0) start = i;
    } else if (ch === "}" && depth > 0 && --depth === 0) {
      events.push(JSON.parse(out.slice(start, i + 1)) as TailEvent);
    }
  }
  return events;
}

const logText = (e: TailEvent) => JSON.stringify(e.logs) + JSON.stringify(e.exceptions);

describe("wrangler tail against the local edge", () => {
  let t: TestEdge;
  let a = "";
  let b = "";
  const agent = createKeepAliveAgent(8);
  const running: WranglerProcess[] = [];

  const get = (p: string, headers: Record<string, string> = {}) =>
    httpGet(t.region.port, `${WORKER}.localhost`, { path: p, headers, agent });
  const pinned = (id: string) => ({ "Cloudflare-Workers-Version-Overrides": `${WORKER}="${id}"` });
  const tails = () =>
    apiOk<Array<{ id: string; url: string }>>(t.edge, "GET", `/accounts/${t.region.accountId}/workers/scripts/${WORKER}/tails`);

  /**
   * Sends traffic until wrangler has printed an event `done` accepts (the session only streams
   * once wrangler's socket is open, which its json mode does not announce).
   */
  async function until(
    proc: WranglerProcess,
    send: (round: number) => Promise<unknown>,
    done: (events: TailEvent[]) => boolean,
    timeoutMs = 30_000,
  ): Promise<TailEvent[]> {
    const deadline = Date.now() + timeoutMs;
    for (let round = 0; ; round++) {
      await send(round);
      await new Promise((r) => setTimeout(r, 200));
      const events = eventsOf(proc.stdout());
      if (done(events)) return events;
      if (Date.now() > deadline)
        throw new Error(
          `wrangler ${proc.args.join(" ")} printed nothing that matched.\n--- stdout ---\n${proc.stdout()}\n--- stderr ---\n${proc.stderr()}`,
        );
    }
  }

  async function stop(proc: WranglerProcess): Promise<number> {
    running.splice(running.indexOf(proc), 1);
    proc.signal("SIGINT");
    return proc.exited;
  }

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu"] });
    a = await putScript(t.edge, t.region.accountId, WORKER, { code: code("A"), annotations: { "workers/tag": "tag-a" } });
    b = await uploadVersion(t.edge, t.region.accountId, WORKER, { code: code("B") });
    await deployVersions(t.edge, t.region.accountId, WORKER, [
      { version_id: a, percentage: 50 },
      { version_id: b, percentage: 50 },
    ]);
  });
  // A test that failed half-way leaves no wrangler or session behind for the next one.
  afterEach(async () => {
    for (const p of running.splice(0)) {
      p.signal("SIGKILL");
      await p.exited;
    }
    for (const s of await tails()) await api(t.edge, "DELETE", `/accounts/${t.region.accountId}/workers/scripts/${WORKER}/tails/${s.id}`);
  });
  afterAll(async () => {
    agent.destroy();
    await t?.dispose();
  });

  for (const version of ["latest", "4.86"] as WranglerVersion[]) {
    describe(`wrangler ${version}`, () => {
      const start = async (args: string[]) => {
        const project = await createWranglerProject(
          path.join(t.dataDir, `wrangler-${version}-${running.length}`),
          t.edge,
          t.region.accountId,
          { wrangler: version },
        );
        const proc = project.start(["tail", WORKER, ...args]);
        running.push(proc);
        return proc;
      };

      it("receives a request's console.log line, with the request redacted as Cloudflare redacts it", async () => {
        const marker = `log-${version}`;
        const proc = await start(["--format", "json"]);
        const secrets = { authorization: "Bearer very-secret-token", "x-api-key": "k-1234567", cookie: "session=abc123" };
        const events = await until(
          proc,
          () => get(`/hello/0123456789abcdef0123456789abcdef?m=${marker}`, { ...secrets, ...pinned(a) }),
          (es) => es.some((e) => logText(e).includes(marker)),
        );
        const e = events.find((x) => logText(x).includes(marker))!;
        expect(e.outcome).toBe("ok");
        expect(e.scriptName).toBe(WORKER);
        expect(sameId(e.scriptVersion.id, a)).toBe(true);
        expect(e.scriptVersion.tag).toBe("tag-a");
        expect(e.logs.map((l) => [l.level, l.message])).toEqual([
          ["log", ["hello from", "A", marker, { n: 1 }]],
          ["warn", ["careful", marker]],
        ]);
        for (const l of e.logs) expect(l.timestamp).toBeGreaterThanOrEqual(e.eventTimestamp);
        expect(Math.abs(e.eventTimestamp - Date.now())).toBeLessThan(60_000);
        expect(e.event.request.method).toBe("GET");
        expect(e.event.request.url).toMatch(new RegExp(`/hello/REDACTED\\?m=${marker}$`));
        expect(e.event.request.headers).toMatchObject({ authorization: "REDACTED", "x-api-key": "REDACTED", cookie: "REDACTED" });
        expect(e.event.response?.status).toBe(200);
        for (const s of ["very-secret-token", "k-1234567", "abc123", "0123456789abcdef0123456789abcdef"])
          expect(proc.stdout()).not.toContain(s);

        // Ctrl-C: current wrangler deletes its session; 4.86 exits before its DELETE goes out, and
        // the edge ends the orphaned session a few seconds after its socket closed.
        expect((await tails()).length).toBe(1);
        await stop(proc);
        if (version === "latest") expect(await tails()).toEqual([]);
        else await eventually(async () => expect(await tails()).toEqual([]), 15_000, 250);
      });

      it("--status error passes only invocations that threw", async () => {
        const proc = await start(["--format", "json", "--status", "error"]);
        const events = await until(
          proc,
          async (i) => {
            await get(`/fine?m=fine-${version}-${i}`);
            await get(`/boom?m=bad-${version}-${i}`);
          },
          (es) => es.some((e) => logText(e).includes(`boom bad-${version}`)),
        );
        expect(events.length).toBeGreaterThan(0);
        for (const e of events) {
          expect(e.outcome).toBe("exception");
          expect(logText(e)).not.toContain("fine-");
          expect(e.exceptions[0]).toMatchObject({ name: "Error", message: expect.stringMatching(/^boom bad-/) });
        }
        await stop(proc);
      });

      it("--version-id passes only that version's invocations", async () => {
        const proc = await start(["--format", "json", "--version-id", b]);
        const events = await until(
          proc,
          async (i) => {
            await get(`/?m=va-${version}-${i}`, pinned(a));
            await get(`/?m=vb-${version}-${i}`, pinned(b));
          },
          (es) => es.some((e) => logText(e).includes(`vb-${version}`)),
        );
        for (const e of events) {
          expect(sameId(e.scriptVersion.id, b)).toBe(true);
          expect(logText(e)).not.toContain("va-");
        }
        await stop(proc);
      });

      it("prints the pretty format: the request line, then each log with its level", async () => {
        const marker = `pretty-${version}`;
        const proc = await start(["--format", "pretty"]);
        const deadline = Date.now() + 30_000;
        while (!proc.stdout().includes(marker)) {
          if (Date.now() > deadline) throw new Error(`no pretty line:\n${proc.stdout()}\n${proc.stderr()}`);
          await get(`/p?m=${marker}`);
          await new Promise((r) => setTimeout(r, 200));
        }
        expect(proc.stdout()).toMatch(new RegExp(`GET http://${WORKER}\\.localhost/p\\?m=${marker} - Ok @`));
        expect(proc.stdout()).toMatch(new RegExp(`\\(log\\) hello from [AB] ${marker}`));
        expect(proc.stdout()).toMatch(new RegExp(`\\(warn\\) careful ${marker}`));
        await stop(proc);
      });
    });
  }

  it("--sampling-rate passes a share of the invocations", async () => {
    const project = await createWranglerProject(path.join(t.dataDir, "wrangler-sampling"), t.edge, t.region.accountId);
    const proc = project.start(["tail", WORKER, "--format", "json", "--sampling-rate", "0.25"]);
    running.push(proc);
    // An unfiltered session of our own says when every request has been traced.
    const oracle = await apiOk<{ url: string }>(t.edge, "POST", `/accounts/${t.region.accountId}/workers/scripts/${WORKER}/tails`, {
      body: JSON.stringify({ filters: [] }),
    });
    const ws = new WebSocket(oracle.url, "trace-v1");
    const seen = new Set<string>();
    ws.on("message", (d) => {
      const m = /"s-(\d+)"/.exec(d.toString());
      if (m) seen.add(m[1]!);
    });
    await new Promise((r, j) => (ws.once("open", r), ws.once("error", j)));
    // Wrangler is streaming once one of its events arrives.
    await until(
      proc,
      (i) => get(`/?m=warm-${i}`),
      (es) => es.length > 0,
    );
    await hammer(200, 4, (i) => get(`/?m=s-${i}`));
    const deadline = Date.now() + 20_000;
    while (seen.size < 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(seen.size).toBe(200);
    await new Promise((r) => setTimeout(r, 500));
    const sampled = eventsOf(proc.stdout()).filter((e) => /"s-\d+"/.test(JSON.stringify(e.logs))).length;
    // 25% of 200: 50 expected; the bounds are five standard deviations out.
    expect(sampled).toBeGreaterThanOrEqual(20);
    expect(sampled).toBeLessThanOrEqual(80);
    ws.close();
    await stop(proc);
  });

  it("a session deleted through the API ends wrangler's stream cleanly (close 1000, exit 0)", async () => {
    const project = await createWranglerProject(path.join(t.dataDir, "wrangler-deleted"), t.edge, t.region.accountId);
    const proc = project.start(["tail", WORKER, "--format", "json"]);
    running.push(proc);
    await until(
      proc,
      (i) => get(`/?m=del-${i}`),
      (es) => es.length > 0,
    );
    const sessions = await tails();
    expect(sessions).toHaveLength(1);
    const session = sessions[0];
    const del = await api(t.edge, "DELETE", `/accounts/${t.region.accountId}/workers/scripts/${WORKER}/tails/${session!.id}`);
    expect(del.json?.success, del.text).toBe(true);
    expect(await proc.exited, proc.stderr()).toBe(0);
    running.splice(running.indexOf(proc), 1);
    expect(await tails()).toEqual([]);
  });

  it("refuses sockets without the session's key or the trace-v1 protocol, and an eleventh session", async () => {
    const created = await apiOk<{ id: string; url: string; expires_at: string }>(
      t.edge,
      "POST",
      `/accounts/${t.region.accountId}/workers/scripts/${WORKER}/tails`,
      { body: "" },
    );
    expect(Date.parse(created.expires_at)).toBeGreaterThan(Date.now());
    const status = (url: string, protocol?: string) =>
      new Promise<number>((resolve) => {
        const ws = protocol ? new WebSocket(url, protocol) : new WebSocket(url);
        ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
        ws.on("open", () => (ws.close(), resolve(101)));
        ws.on("error", () => {});
      });
    expect(await status(created.url.replace(/key=[0-9a-f]+/, "key=" + "0".repeat(48)), "trace-v1")).toBe(404);
    expect(await status(created.url)).toBe(400);
    expect(await status(created.url, "trace-v1")).toBe(101);

    const more = await Promise.all(
      Array.from({ length: 9 }, () =>
        api(t.edge, "POST", `/accounts/${t.region.accountId}/workers/scripts/${WORKER}/tails`, { body: "{}" }),
      ),
    );
    expect(more.map((r) => r.status)).toEqual(new Array(9).fill(200));
    const eleventh = await api(t.edge, "POST", `/accounts/${t.region.accountId}/workers/scripts/${WORKER}/tails`, { body: "{}" });
    expect([eleventh.status, eleventh.json?.errors[0]?.code]).toEqual([429, 10242]);
    const badFilter = await api(t.edge, "DELETE", `/accounts/${t.region.accountId}/workers/scripts/${WORKER}/tails/nope`);
    expect([badFilter.status, badFilter.json?.errors[0]?.code]).toEqual([404, 10243]);
    for (const s of await tails()) await apiOk(t.edge, "DELETE", `/accounts/${t.region.accountId}/workers/scripts/${WORKER}/tails/${s.id}`);
    const unknownFilter = await api(t.edge, "POST", `/accounts/${t.region.accountId}/workers/scripts/${WORKER}/tails`, {
      body: JSON.stringify({ filters: [{ colour: ["red"] }] }),
    });
    expect([unknownFilter.status, unknownFilter.json?.errors[0]?.code]).toEqual([400, 10001]);
    const noScript = await api(t.edge, "POST", `/accounts/${t.region.accountId}/workers/scripts/nobody/tails`, { body: "{}" });
    expect([noScript.status, noScript.json?.errors[0]?.code]).toEqual([404, 10007]);
  });
});
