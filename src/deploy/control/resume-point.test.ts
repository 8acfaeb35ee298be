import { describe, expect, it } from "vitest";
import type { JournalEntry } from "../../store/index.ts";
import { J } from "../journal.ts";
import { resumePoints } from "./resume-point.ts";

let seq = 0;
const e = (kind: string, target: string | null, data: Record<string, unknown> = {}): JournalEntry => ({
  release_id: "r",
  seq: ++seq,
  kind,
  target,
  data,
  at: "",
});
const uploaded = (t: string, extra: Record<string, unknown> = {}) => [
  e(J.uploadIntent, t, { previousVersionId: `${t}-old`, put: false, ...extra }),
  e(J.uploaded, t, { versionId: `${t}-new`, previousVersionId: `${t}-old`, put: false, ...extra }),
];
const step = (t: string, percent: number, verdict: "passed" | "failed" | null) => [
  e(J.stepIntent, t, { percent, versionId: `${t}-new`, previousVersionId: `${t}-old` }),
  e(J.stepDeployed, t, { percent, versionId: `${t}-new` }),
  ...(verdict === "passed" ? [e(J.gatePassed, t, { percent })] : verdict === "failed" ? [e(J.gateFailed, t, { percent })] : []),
];

describe("where a release that waited goes on after a restart", () => {
  it("each target from the step whose gate it passed; a target not begun from the start; one done stays done", () => {
    const entries = [
      ...uploaded("eu"),
      ...step("eu", 10, "passed"),
      ...step("eu", 100, "passed"),
      e(J.phaseIntent, "eu", { phase: "settings" }),
      e(J.phaseDone, "eu", { phase: "settings" }),
      ...uploaded("us"),
      ...step("us", 10, "passed"),
      ...uploaded("jp"),
    ];
    const r = resumePoints(["eu", "us", "jp", "ap"], entries, 1);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(Object.fromEntries(r.points)).toEqual({
      eu: { versionId: "eu-new", previousVersionId: "eu-old", after: 100, put: false, settled: true },
      us: { versionId: "us-new", previousVersionId: "us-old", after: 10, put: false, settled: false },
      jp: { versionId: "jp-new", previousVersionId: "jp-old", after: 0, put: false, settled: false },
    });
  });

  it("keeps a Durable Object migration's tags, so a later stop keeps the target on the new code", () => {
    const migration = { oldTag: "v1", newTag: "v2" };
    const r = resumePoints(["eu"], [...uploaded("eu", { put: true, migration }), ...step("eu", 100, "passed")], 1);
    expect(r.ok && r.points.get("eu")).toMatchObject({ put: true, migrated: migration, after: 100 });
  });

  it("refuses what the journal cannot place: no wait, a step without its verdict, an upload in flight, a failed gate, settings half-written", () => {
    expect(resumePoints(["eu"], [...uploaded("eu"), ...step("eu", 10, "passed")], 0)).toEqual({ ok: false, why: "no target was waiting" });
    expect(
      resumePoints(["eu", "us"], [...uploaded("eu"), ...step("eu", 10, "passed"), ...uploaded("us"), ...step("us", 10, null)], 1),
    ).toEqual({
      ok: false,
      why: "us had its 10% step under way",
    });
    expect(resumePoints(["eu"], [e(J.uploadIntent, "eu", { previousVersionId: "old" })], 1)).toEqual({
      ok: false,
      why: "eu was not uploaded yet",
    });
    expect(resumePoints(["eu"], [e(J.phaseIntent, "eu", { phase: "d1-migrations", database: "notes" })], 1)).toEqual({
      ok: false,
      why: "eu was not uploaded yet",
    });
    expect(resumePoints(["eu"], [...uploaded("eu"), ...step("eu", 10, "failed")], 1)).toEqual({ ok: false, why: "eu had stopped" });
    expect(
      resumePoints(["eu"], [...uploaded("eu"), ...step("eu", 100, "passed"), e(J.phaseIntent, "eu", { phase: "settings" })], 1),
    ).toEqual({ ok: false, why: "eu was writing its script settings" });
  });
});
