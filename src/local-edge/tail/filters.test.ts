import { describe, expect, it } from "vitest";
import { passes, TailCreateSchema, type TailFilter } from "./filters.ts";
import { tailMessage, TraceItemSchema, type TraceItem } from "./trace.ts";

const item = (over: Partial<TraceItem> = {}): TraceItem =>
  TraceItemSchema.parse({
    outcome: "ok",
    eventTimestamp: 1,
    logs: [{ message: ["user", { id: 42 }], level: "log", timestamp: 2 }],
    exceptions: [],
    event: { request: { url: "http://w.localhost/x", method: "POST", headers: { "x-team": "blue", "cf-connecting-ip": "203.0.113.9" } } },
    cpuTime: 0,
    wallTime: 0,
    scriptName: null,
    ...over,
  });
const ctx = { versionId: "0000aaaa-bbbb-cccc-dddd-eeeeffff0000", clientIp: "127.0.0.1", random: () => 0.5 };
const check = (f: TailFilter, i: TraceItem = item()) => passes(f, i, ctx);

describe("tail filters (wrangler's TailAPIFilter)", () => {
  it("matches outcome, method, header, client IP, text and version", () => {
    expect(check({ outcome: ["ok"] })).toBe(true);
    expect(check({ outcome: ["exception", "exceededCpu"] })).toBe(false);
    expect(check({ method: ["post"] })).toBe(true);
    expect(check({ method: ["GET"] })).toBe(false);
    expect(check({ header: { key: "X-Team" } })).toBe(true);
    expect(check({ header: { key: "x-team", query: "blue" } })).toBe(true);
    expect(check({ header: { key: "x-team", query: "red" } })).toBe(false);
    expect(check({ client_ip: ["203.0.113.9"] })).toBe(true);
    expect(check({ client_ip: ["self"] })).toBe(false);
    expect(check({ client_ip: ["self"] }, item({ event: { request: { url: "u", method: "GET", headers: {} } } }))).toBe(true);
    expect(check({ query: '{"id":42}' })).toBe(true);
    expect(check({ query: "nobody" })).toBe(false);
    expect(check({ query: "Error: boom" }, item({ exceptions: [{ name: "Error", message: "boom", timestamp: 3 }] }))).toBe(true);
    expect(check({ scriptVersion: "0000AAAABBBBCCCCDDDDEEEEFFFF0000" })).toBe(true);
    expect(check({ scriptVersion: "1111aaaa-bbbb-cccc-dddd-eeeeffff0000" })).toBe(false);
    expect(check({ sampling_rate: 0.6 })).toBe(true);
    expect(check({ sampling_rate: 0.4 })).toBe(false);
  });

  it("accepts wrangler's create body and refuses filters it does not know", () => {
    expect(TailCreateSchema.parse({ filters: [{ outcome: ["ok"] }, { scriptVersion: "v" }] }).filters).toHaveLength(2);
    expect(TailCreateSchema.parse({}).filters).toEqual([]);
    expect(TailCreateSchema.safeParse({ filters: [{ colour: ["red"] }] }).success).toBe(false);
    expect(TailCreateSchema.safeParse({ filters: [{ sampling_rate: 2 }] }).success).toBe(false);
  });

  it("names the script and version and drops workerd's zero CPU and wall times", () => {
    const m = tailMessage(item(), "web", { id: "v1", tag: "t" });
    expect(m).toMatchObject({ outcome: "ok", scriptName: "web", scriptVersion: { id: "v1", tag: "t" }, eventTimestamp: 1 });
    expect(m).not.toHaveProperty("cpuTime");
    expect(m).not.toHaveProperty("wallTime");
  });
});
