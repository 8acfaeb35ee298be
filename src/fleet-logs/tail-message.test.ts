import { describe, expect, it } from "vitest";
import { parseTailMessage, toLogLine, verdictOf } from "./tail-message.ts";

const origin = { worker: "api", target: "eu", id: 3, receivedAt: 1_700_000_000_000 };

describe("a tail message as a log line", () => {
  it("labels a fetch with its target, version, status and verdict, console lines and exceptions", () => {
    const m = parseTailMessage(
      JSON.stringify({
        outcome: "exception",
        scriptName: "api",
        scriptVersion: { id: "v-1", tag: "t" },
        eventTimestamp: 1_700_000_000_500,
        logs: [{ message: ["a", { b: 1 }], level: "warn", timestamp: 1_700_000_000_501 }],
        exceptions: [{ name: "TypeError", message: "x is undefined", timestamp: 1_700_000_000_502, stack: "at f" }],
        event: { request: { url: "https://a.test/", method: "POST", headers: { "user-agent": "k" } }, response: { status: 500 } },
      }),
    )!;
    expect(toLogLine(m, origin)).toEqual({
      id: 3,
      time: new Date(1_700_000_000_500).toISOString(),
      worker: "api",
      target: "eu",
      versionId: "v-1",
      outcome: "exception",
      status: 500,
      verdict: "error",
      event: { kind: "fetch", request: { method: "POST", url: "https://a.test/", headers: { "user-agent": "k" } } },
      logs: [{ level: "warn", message: ["a", { b: 1 }], time: new Date(1_700_000_000_501).toISOString() }],
      exceptions: [{ name: "TypeError", message: "x is undefined", stack: "at f", time: new Date(1_700_000_000_502).toISOString() }],
    });
  });

  it("tells crons, queues and alarms apart, and takes odd shapes without failing", () => {
    const kind = (event: unknown) => toLogLine(parseTailMessage(JSON.stringify({ outcome: "ok", event }))!, origin).event;
    expect(kind({ cron: "*/5 * * * *", scheduledTime: 1 })).toEqual({ kind: "scheduled", cron: "*/5 * * * *" });
    expect(kind({ queue: "jobs", batchSize: 3 })).toEqual({ kind: "queue", queue: "jobs" });
    expect(kind({ scheduledTime: 5 })).toEqual({ kind: "alarm" });
    expect(kind(null)).toEqual({ kind: "other" });
    const odd = toLogLine(parseTailMessage(JSON.stringify({ logs: "nope", exceptions: [{ message: { code: 1 } }] }))!, origin);
    expect(odd).toMatchObject({ outcome: "unknown", verdict: "error", logs: [], exceptions: [{ name: "Error", message: '{"code":1}' }] });
    expect(odd.time).toBe(new Date(origin.receivedAt).toISOString());
    expect(parseTailMessage("not json")).toBeUndefined();
  });

  it("calls a 5xx answer an error even when the invocation ended ok", () => {
    expect(verdictOf("ok", 200)).toBe("ok");
    expect(verdictOf("ok", null)).toBe("ok");
    expect(verdictOf("ok", 503)).toBe("error");
    expect(verdictOf("canceled", 200)).toBe("error");
  });
});
