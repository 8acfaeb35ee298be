import { describe, expect, it } from "vitest";
import { describe as describeEvent, releaseProgress } from "./release-steps.ts";
import type { Release, StoredEvent } from "./types.ts";

const release = (over: Partial<Release> = {}): Release => ({
  id: "r1",
  tenant: "default",
  worker: "ads-api",
  kind: "release",
  status: "running",
  reason: null,
  plan: {
    waves: [["eu"], ["us", "ap"]],
    steps: [10, 50, 100],
    targets: [{ name: "eu" }, { name: "us" }, { name: "ap" }],
    actions: [
      ...["eu", "us"].flatMap((t) => [10, 50, 100].map((percent) => ({ kind: "deploy", target: t, percent }))),
      { kind: "deploy", target: "ap", percent: 100 }, // a first deploy: straight to 100%
    ],
  },
  created_by: "test",
  created_at: "2025-01-01T00:00:00Z",
  updated_at: "2025-01-01T00:00:00Z",
  ...over,
});

let id = 0;
const ev = (type: StoredEvent["type"], target: string | null, data: Record<string, unknown> = {}, releaseId = "r1"): StoredEvent => ({
  id: ++id,
  tenant: "default",
  type,
  release_id: releaseId,
  worker: "ads-api",
  target,
  data,
  at: "2025-01-01T00:00:01Z",
});

describe("release progress", () => {
  it("lays out every target's planned steps in wave order, all pending before any event", () => {
    const p = releaseProgress(release(), []);
    expect(p.targets.map((t) => [t.target, t.wave, t.steps.map((s) => `${s.percent}:${s.state}`)])).toEqual([
      ["eu", 0, ["10:pending", "50:pending", "100:pending"]],
      ["us", 1, ["10:pending", "50:pending", "100:pending"]],
      ["ap", 1, ["100:pending"]],
    ]);
    expect(p.ended).toBe(false);
  });

  it("moves steps along as events arrive, in id order, ignoring other releases' events and repeats", () => {
    const events = [
      ev("release.created", null),
      ev("release.target.uploaded", "eu", { versionId: "v-eu-2" }),
      ev("release.step.started", "eu", { percent: 10 }),
      ev("release.step.passed", "eu", { percent: 10 }),
      ev("release.step.started", "eu", { percent: 50 }),
      ev("release.step.started", "us", { percent: 10 }, "another-release"),
    ];
    const p = releaseProgress(release(), [...events].reverse().concat(events[3]!));
    const eu = p.targets.find((t) => t.target === "eu")!;
    expect(eu.versionId).toBe("v-eu-2");
    expect(eu.steps.map((s) => s.state)).toEqual(["passed", "running", "pending"]);
    expect(p.targets.find((t) => t.target === "us")!.steps.every((s) => s.state === "pending")).toBe(true);
    expect(p.phase).toBe("running");
  });

  it("shows a failed gate with its reason, the rollback of touched targets, and the record's final status", () => {
    const events = [
      ev("release.step.started", "eu", { percent: 10 }),
      ev("release.step.failed", "eu", { percent: 10, reason: "3 consecutive probe failures" }),
      ev("release.rolling_back", null, { targets: ["eu"], reason: "gate failed" }),
      ev("release.rolled_back", null, { reason: "gate failed" }),
    ];
    const p = releaseProgress(release({ status: "rolled_back" }), events);
    const eu = p.targets.find((t) => t.target === "eu")!;
    expect(eu.steps[0]).toEqual({ percent: 10, state: "failed", detail: "3 consecutive probe failures" });
    expect(eu.note).toBe("back on its previous version");
    expect(p).toMatchObject({ phase: "rolled_back", ended: true });
  });

  it("a target whose rollback is owed says restore pending until it lands, the release still rolling back", () => {
    const events = [
      ev("release.step.started", "eu", { percent: 50 }),
      ev("release.step.failed", "eu", { percent: 50, reason: "gate" }),
      ev("release.rolling_back", null, { targets: ["eu"], reason: "gate failed" }),
      ev("release.restore.pending", "eu", { versionId: "v1abcdef99", reason: "ERR_CF_UNAVAILABLE: region out" }),
    ];
    const owed = releaseProgress(release({ status: "rolling_back" }), events);
    expect(owed.targets.find((t) => t.target === "eu")!.note).toBe("restore pending (back to v1abcdef): ERR_CF_UNAVAILABLE: region out");
    expect(owed).toMatchObject({ phase: "rolling back", ended: false });
    const landed = [...events, ev("release.restore.completed", "eu", { versionId: "v1abcdef99", attempts: 6 })];
    expect(releaseProgress(release({ status: "rolling_back" }), landed).targets.find((t) => t.target === "eu")!.note).toBe(
      "restored to v1abcdef",
    );
    const ended = releaseProgress(release({ status: "rolled_back" }), [...landed, ev("release.rolled_back", null, {})]);
    expect(ended.targets.find((t) => t.target === "eu")!.note).toBe("back on its previous version");
    expect(describeEvent(events[3]!)).toBe("restore pending (back to v1abcdef): ERR_CF_UNAVAILABLE: region out");
  });

  it("a rollback is one step per target, done when rollback.completed arrives", () => {
    const rb = release({
      kind: "rollback",
      plan: {
        kind: "rollback",
        targets: [
          { name: "eu", versionId: "v1" },
          { name: "us", versionId: "v2" },
        ],
      },
    });
    expect(releaseProgress(rb, []).targets.map((t) => [t.target, t.versionId, t.steps.map((s) => s.percent)])).toEqual([
      ["eu", "v1", [100]],
      ["us", "v2", [100]],
    ]);
    const done = releaseProgress({ ...rb, status: "succeeded" }, [ev("rollback.started", null), ev("rollback.completed", null)]);
    expect(done.targets.flatMap((t) => t.steps.map((s) => s.state))).toEqual(["passed", "passed"]);
    expect(done.ended).toBe(true);
  });

  it("describes events in a few words", () => {
    expect(describeEvent(ev("release.step.failed", "eu", { percent: 50, reason: "error rate 20%" }))).toBe(
      "step 50% FAILED: error rate 20%",
    );
    expect(describeEvent(ev("release.rolled_back", null, {}))).toBe("rolled back");
    expect(
      describeEvent(
        ev("release.continued", null, {
          reason: "daemon restarted while the release waited; it goes on where it was: eu after its 50% step",
          targets: [],
        }),
      ),
    ).toBe("goes on after a restart: daemon restarted while the release waited; it goes on where it was: eu after its 50% step");
    const held = { kind: "manual", percent: 0, until: null, reason: "paused: cbo release resume r1" };
    expect(describeEvent(ev("release.waiting", "eu", held))).toBe("waiting before its first step: paused: cbo release resume r1");
    expect(describeEvent(ev("release.wait.ended", "eu", { kind: "manual", percent: 0, by: "ops" }))).toBe(
      "manual before its first step ended by ops",
    );
    expect(describeEvent(ev("release.waiting", "eu", { ...held, kind: "approval", percent: 10 }))).toBe(
      "waiting at 10%: paused: cbo release resume r1",
    );
  });

  it("places the plan's pause steps after their step; a wait shows on its target until it ends, a pause until resume", () => {
    const r = release({
      plan: {
        ...release().plan,
        pauses: [
          { after: 10, pause: "approve" },
          { after: 50, pause: { ms: 90_000 } },
        ],
      },
    });
    const before = releaseProgress(r, []);
    expect(before.targets.find((t) => t.target === "eu")!.pauses).toEqual([
      { after: 10, kind: "approval", label: "approval", state: "pending" },
      { after: 50, kind: "timer", label: "pause 1m30s", state: "pending" },
    ]);
    // ap goes straight to 100% (a first deploy): no pause applies there.
    expect(before.targets.find((t) => t.target === "ap")!.pauses).toEqual([]);
    const waiting = [
      ev("release.step.passed", "eu", { percent: 10 }),
      ev("release.waiting", "eu", { kind: "approval", percent: 10, until: null, reason: "approval: cbo release promote r1" }),
      ev("release.paused", null, { by: "ops" }),
    ];
    const w = releaseProgress(r, waiting);
    const eu = w.targets.find((t) => t.target === "eu")!;
    expect(eu.waiting).toMatchObject({ kind: "approval", percent: 10, until: null });
    expect(eu.pauses[0]!.state).toBe("waiting");
    expect(w.paused).toBe(true);
    const promoted = releaseProgress(r, [
      ...waiting,
      ev("release.resumed", null, { by: "ops" }),
      ev("release.promoted", null, { by: "ops", targets: ["eu"] }),
      ev("release.wait.ended", "eu", { kind: "approval", percent: 10, by: null, waitedMs: 1200 }),
    ]);
    expect(promoted.targets.find((t) => t.target === "eu")!).toMatchObject({
      waiting: null,
      pauses: [{ state: "done" }, { state: "pending" }],
    });
    expect(promoted.paused).toBe(false);
    // Aborted while waiting: nothing waits once the release ended.
    const aborted = releaseProgress(release({ ...r, status: "aborted" }), waiting);
    expect(aborted.targets.every((t) => t.waiting === null)).toBe(true);
    expect(aborted.paused).toBe(false);
    expect(describeEvent(waiting[1]!)).toBe("waiting at 10%: approval: cbo release promote r1");
    expect(describeEvent(ev("release.promoted", null, { by: "ops", targets: ["eu", "us"] }))).toBe("promoted by ops (eu, us)");
    expect(describeEvent(ev("release.step.passed", "eu", { percent: 10, analysis: { verdict: "pass" } }))).toBe(
      "step 10% passed (canary analysis: pass)",
    );
  });
});
