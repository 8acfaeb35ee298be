// Heartbeat delivery with an in-memory fetch standing in for the orchestrator (the real HTTP path
// is in test/edge-agent.test.ts): a failed send must hand its counts and rejections to the next one.
import { describe, expect, it } from "vitest";
import { HeartbeatSchema } from "../kit/protocol/index.ts";
import { generateHmacKey, importHmacKey } from "../kit/signing/index.ts";
import { createHeartbeats } from "./heartbeats.ts";
import { createRejectionLog } from "./rejections.ts";
import { createTraffic } from "./traffic.ts";
import { createTraceLog } from "./traces.ts";

async function setup() {
  let now = 1_800_000_000_000;
  const traffic = createTraffic(now);
  const rejections = createRejectionLog();
  const sent: unknown[] = [];
  let answer = 503;
  const beats = createHeartbeats({
    orchestratorUrl: "http://orchestrator.test",
    key: await importHmacKey(generateHmacKey()),
    intervalMs: 30_000,
    traffic,
    rejections,
    describe: () => ({
      worker: "api",
      target: "eu",
      versionId: "v",
      configVersion: 1,
      isolate: "i",
      uptimeMs: 0,
      totals: traffic.totals(),
    }),
    now: () => now,
    fetch: (async (_url: string, init: RequestInit) => {
      sent.push(JSON.parse(init.body as string));
      return new Response(null, { status: answer });
    }) as typeof fetch,
  });
  return { beats, traffic, rejections, sent, tick: (ms: number) => (now += ms), answer: (s: number) => (answer = s) };
}

describe("heartbeats", () => {
  it("folds an undelivered window and its rejections into the next heartbeat", async () => {
    const t = await setup();
    t.traffic.record(false);
    t.traffic.record(true);
    t.rejections.add({ reason: "bad_signature", version: 2, at: new Date(0).toISOString() });
    await t.beats.maybeSend();
    expect(t.beats.last()).toMatchObject({ ok: false, status: 503 });
    t.traffic.record(true);
    // Within the interval: nothing, even after a failure.
    expect(t.beats.maybeSend()).toBeUndefined();
    t.tick(30_000);
    t.answer(204);
    await t.beats.maybeSend();
    const second = HeartbeatSchema.parse(t.sent[1]);
    expect(second.window).toEqual({ sinceMs: 1_800_000_000_000, requests: 3, errors: 2 });
    expect(second.rejections).toEqual([{ reason: "bad_signature", version: 2, at: new Date(0).toISOString() }]);
    // Delivered: the next window starts empty.
    await t.beats.send();
    expect(HeartbeatSchema.parse(t.sent[2]).window).toMatchObject({ requests: 0, errors: 0, sinceMs: 1_800_000_030_000 });
    expect(HeartbeatSchema.parse(t.sent[2]).rejections).toEqual([]);
  });

  it("keeps at most one heartbeat in flight", async () => {
    const t = await setup();
    t.answer(204);
    await Promise.all([t.beats.send(), t.beats.send(), t.beats.maybeSend()]);
    expect(t.sent).toHaveLength(1);
  });

  it("hands the orchestrator's answer on (a config version this isolate may have missed)", async () => {
    const answers: unknown[] = [];
    let answerBody = JSON.stringify({ configVersion: 4 });
    const beats = createHeartbeats({
      orchestratorUrl: "http://orchestrator.test",
      key: await importHmacKey(generateHmacKey()),
      intervalMs: 30_000,
      traffic: createTraffic(0),
      rejections: createRejectionLog(),
      describe: () => ({
        worker: "api",
        target: "eu",
        versionId: null,
        configVersion: 3,
        isolate: "i",
        uptimeMs: 0,
        totals: { requests: 0, errors: 0 },
      }),
      onAnswer: (a) => void answers.push(a),
      now: () => 0,
      fetch: (async () => new Response(answerBody, { status: 202 })) as unknown as typeof fetch,
    });
    await beats.send();
    answerBody = "";
    await beats.send();
    answerBody = JSON.stringify({ configVersion: "x" });
    await beats.send();
    expect(answers).toEqual([{ configVersion: 4 }]);
    expect(beats.sent()).toBe(3);
  });
});

describe("heartbeats carry the agent's trace spans", () => {
  it("sends spans only to an orchestrator that said it takes them, the newest as traceparent, and keeps them across a failed send", async () => {
    const now = 1_800_000_000_000;
    const traces = createTraceLog(() => now);
    const sent: Array<{ body: Record<string, unknown>; traceparent: string | undefined }> = [];
    let answer: { status: number; body: string } = { status: 202, body: JSON.stringify({ configVersion: null }) };
    const beats = createHeartbeats({
      orchestratorUrl: "http://orchestrator.test",
      key: await importHmacKey(generateHmacKey()),
      intervalMs: 30_000,
      traffic: createTraffic(now),
      rejections: createRejectionLog(),
      traces,
      describe: () => ({
        worker: "api",
        target: "eu",
        versionId: "v",
        configVersion: 1,
        isolate: "i",
        uptimeMs: 0,
        totals: { requests: 0, errors: 0 },
      }),
      now: () => now,
      fetch: (async (_url: string, init: RequestInit) => {
        const headers = init.headers as Record<string, string>;
        sent.push({ body: JSON.parse(init.body as string), traceparent: headers.traceparent });
        return new Response(answer.body, { status: answer.status });
      }) as typeof fetch,
    });
    const probe = (span: string) =>
      new Request("http://api.test/health", { headers: { traceparent: `00-4bf92f3577b34da6a3ce929d0e0e4736-${span}-01` } });
    expect(traces.start(new Request("http://api.test/"), "edge.request")).toBeUndefined();
    traces.start(probe("00f067aa0ba902b7"), "edge.request")!(200);
    // An orchestrator that has not said it takes spans (an older one) gets the header only.
    await beats.send();
    expect(sent[0]!.body.spans).toBeUndefined();
    expect(sent[0]!.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    expect(HeartbeatSchema.safeParse(sent[0]!.body).success).toBe(true);
    // It now said so; a failed send keeps the spans for the next one.
    answer = { status: 503, body: "" };
    traces.accepted = true;
    await beats.send();
    expect(sent[1]!.body.spans).toHaveLength(1);
    answer = { status: 202, body: JSON.stringify({ configVersion: null, spans: true }) };
    await beats.send();
    const spans = HeartbeatSchema.parse(sent[2]!.body).spans!;
    expect(spans).toEqual([
      {
        traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
        spanId: expect.stringMatching(/^[0-9a-f]{16}$/),
        parentSpanId: "00f067aa0ba902b7",
        name: "edge.request",
        startMs: now,
        durationMs: 0,
        status: 200,
      },
    ]);
    await beats.send();
    expect(sent[3]!.body.spans).toBeUndefined();
    expect(traces.accepted).toBe(true);
  });
});
