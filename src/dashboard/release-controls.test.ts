import { describe, expect, it } from "vitest";
import type { ReleaseControl } from "../contract/index.ts";
import { controlActions, waitingWords } from "./release-controls.ts";
import type { Release } from "./types.ts";

const release = (over: Partial<Release> = {}): Release => ({
  id: "r1",
  tenant: "default",
  worker: "shop",
  kind: "release",
  status: "running",
  reason: null,
  plan: {},
  created_by: "ops",
  created_at: "2025-01-01T00:00:00Z",
  updated_at: "2025-01-01T00:00:00Z",
  ...over,
});
const control = (over: Partial<ReleaseControl> = {}): ReleaseControl => ({
  releaseId: "r1",
  paused: false,
  pausedBy: null,
  waiting: [],
  ...over,
});
const wait = (kind: ReleaseControl["waiting"][number]["kind"], until: string | null = null, percent = 50) => ({
  target: "eu",
  kind,
  percent,
  since: "2025-01-01T00:00:01Z",
  until,
});

describe("release control buttons", () => {
  it("a running release can be paused and aborted; promoted only while a target waits at an approval or a timer", () => {
    expect(controlActions(release(), control(), true)).toEqual(["pause", "abort"]);
    expect(controlActions(release(), control({ waiting: [wait("data")] }), true)).toEqual(["pause", "abort"]);
    expect(controlActions(release(), control({ waiting: [wait("approval")] }), true)).toEqual(["promote", "pause", "abort"]);
    expect(controlActions(release(), control({ waiting: [wait("timer")] }), true)).toEqual(["promote", "pause", "abort"]);
  });

  it("a paused release offers resume instead of pause", () => {
    expect(controlActions(release(), control({ paused: true, waiting: [wait("manual")] }), true)).toEqual(["resume", "abort"]);
  });

  it("nothing for a viewer, an ended release or a rollback; abort alone while rolling back or without the control state", () => {
    expect(controlActions(release(), control({ waiting: [wait("approval")] }), false)).toEqual([]);
    for (const status of ["succeeded", "rolled_back", "aborted", "failed", "unchanged"] as const)
      expect(controlActions(release({ status }), control(), true)).toEqual([]);
    expect(controlActions(release({ kind: "rollback" }), control(), true)).toEqual([]);
    expect(controlActions(release({ status: "rolling_back" }), control(), true)).toEqual(["abort"]);
    expect(controlActions(release(), undefined, true)).toEqual(["abort"]);
  });

  it("says what each target waits for", () => {
    expect(waitingWords(control({ waiting: [wait("approval")] }))).toEqual(["eu: waits for approval (promote) at 50%"]);
    expect(waitingWords(control({ waiting: [wait("timer", "2025-01-01T00:10:00Z")] }))[0]).toMatch(
      /^eu: timed pause at 50% until \d\d:\d\d:\d\d$/,
    );
    // Paused before eu's first step: no step ran, so no "at 0%".
    expect(waitingWords(control({ paused: true, waiting: [wait("manual", null, 0)] }))).toEqual([
      "eu: held by the pause before its first step",
    ]);
  });
});
