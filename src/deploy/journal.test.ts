import { describe, expect, it } from "vitest";
import type { JournalEntry } from "../store/index.ts";
import { J, replay, touched } from "./journal.ts";

let seq = 0;
const e = (kind: string, target: string | null, data: Record<string, unknown> = {}): JournalEntry => ({
  release_id: "r",
  seq: ++seq,
  kind,
  target,
  data,
  at: "",
});

describe("replay", () => {
  it("folds a target's entries into its progress", () => {
    const m = replay([
      e(J.uploadIntent, "eu", { previousVersionId: "old" }),
      e(J.uploaded, "eu", { versionId: "new", previousVersionId: "old" }),
      e(J.stepIntent, "eu", { percent: 10, versionId: "new", previousVersionId: "old" }),
      e(J.stepDeployed, "eu", { percent: 10 }),
      e(J.gatePassed, "eu", { percent: 10 }),
      e(J.stepIntent, "eu", { percent: 100, versionId: "new", previousVersionId: "old" }),
      e(J.gatePassed, "eu", { percent: 100 }),
      e(J.uploadIntent, "us", { previousVersionId: "u-old" }),
      e(J.finished, null, { status: "x" }),
    ]);
    expect(m.get("eu")).toMatchObject({
      versionId: "new",
      previousVersionId: "old",
      stepIntent: true,
      passed: [10, 100],
      rollbackDone: false,
    });
    expect(touched(m.get("eu")!)).toBe(true);
    expect(m.get("us")).toMatchObject({ uploadIntent: true, stepIntent: false, versionId: null, previousVersionId: "u-old" });
    expect(touched(m.get("us")!)).toBe(false);
  });

  it("a script PUT (Durable Object migrations) touches the target at its upload; phases keep their last intent and outcome", () => {
    const m = replay([
      e(J.phaseIntent, "eu", { phase: "resources", create: [{ kind: "d1", name: "sites" }] }),
      e(J.phaseDone, "eu", { phase: "resources", resources: [] }),
      e(J.uploadIntent, "eu", { previousVersionId: "old", put: true, migration: { oldTag: "v1", newTag: "v2" } }),
      e(J.phaseIntent, "eu", { phase: "settings", keys: ["crons"], before: { crons: [] } }),
      e(J.uploadIntent, "us", { previousVersionId: "u-old", put: false }),
    ]);
    const eu = m.get("eu")!;
    expect(eu).toMatchObject({ put: true, migrated: true, stepIntent: false });
    expect(touched(eu)).toBe(true);
    expect(eu.phases.resources).toEqual({
      intent: { phase: "resources", create: [{ kind: "d1", name: "sites" }] },
      done: { phase: "resources", resources: [] },
    });
    expect(eu.phases.settings).toEqual({ intent: { phase: "settings", keys: ["crons"], before: { crons: [] } } });
    expect(touched(m.get("us")!)).toBe(false);
  });

  it("treats a first upload (no previous version) as touching the target", () => {
    const m = replay([e(J.uploadIntent, "ap", { previousVersionId: null })]);
    expect(touched(m.get("ap")!)).toBe(true);
  });

  it("tracks rollbacks; a new intent after a done reopens it", () => {
    const m = replay([
      e(J.stepIntent, "eu", { percent: 10, versionId: "n", previousVersionId: "o" }),
      e(J.gateFailed, "eu", { percent: 10 }),
      e(J.rollbackIntent, "eu", { versionId: "o" }),
      e(J.rollbackDone, "eu", { versionId: "o" }),
    ]);
    expect(m.get("eu")).toMatchObject({ gateFailed: true, rollbackDone: true, rolledBackTo: "o" });
    const again = replay([e(J.rollbackDone, "eu", { versionId: "o" }), e(J.rollbackIntent, "eu", { versionId: "o" })]);
    expect(again.get("eu")!.rollbackDone).toBe(false);
  });

  it("reads entries in seq order whatever order they come in", () => {
    const a = e(J.uploadIntent, "eu", { previousVersionId: "o" });
    const b = e(J.stepIntent, "eu", { percent: 10, versionId: "n", previousVersionId: "o" });
    expect(replay([b, a]).get("eu")).toMatchObject({ stepIntent: true, versionId: "n" });
  });
});
