import { describe, expect, it } from "vitest";
import type { StoredEvent } from "../../contract/index.ts";
import { openWaits, restartDuringWait } from "./interrupted-waits.ts";

let id = 0;
const ev = (type: string, target: string | null, data: Record<string, unknown> = {}): StoredEvent =>
  ({ id: ++id, tenant: "default", type, release_id: "r1", worker: "hello", target, data, at: "2026-01-01T00:00:00.000Z" }) as StoredEvent;
const waiting = (target: string, kind: string, percent = 50) => ev("release.waiting", target, { kind, percent, until: null, reason: "x" });
const ended = (target: string, kind: string, percent = 50) => ev("release.wait.ended", target, { kind, percent, by: null, waitedMs: 1 });

describe("the waits a restart cut short", () => {
  it("names each target's wait that never ended, grouped by what it waited for", () => {
    const oldestFirst = [
      waiting("eu", "approval", 10),
      ended("eu", "approval", 10),
      ev("release.step.started", "eu", { percent: 50 }),
      waiting("eu", "approval"),
      waiting("us", "approval"),
      waiting("ap", "manual", 10),
    ];
    const open = openWaits(oldestFirst.reverse());
    expect(open).toEqual([
      { target: "ap", kind: "manual", percent: 10 },
      { target: "eu", kind: "approval", percent: 50 },
      { target: "us", kind: "approval", percent: 50 },
    ]);
    expect(restartDuringWait(open, "us had its 50% step under way")).toBe(
      "daemon restarted while ap was paused at step 10%, eu and us waited for approval at step 50% (it could not go on: us had its 50% step under way; release again)",
    );
  });
  it("says nothing when every wait had ended, or when only the gate waited for data", () => {
    expect(openWaits([ended("eu", "timer"), waiting("eu", "timer")])).toEqual([]);
    expect(restartDuringWait(openWaits([waiting("eu", "data")]))).toBeNull();
    expect(restartDuringWait([{ target: "eu", kind: "timer", percent: 20 }], "the project changed")).toBe(
      "daemon restarted while eu was in a timed pause at step 20% (it could not go on: the project changed; release again)",
    );
    expect(restartDuringWait([{ target: "eu", kind: "manual", percent: 0 }])).toBe(
      "daemon restarted while eu was paused before its first step (it could not go on: it was not resumed; release again)",
    );
  });
});
