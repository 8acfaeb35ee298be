// The drift table (005_drift.sql, src/store/drift.ts): definite verdicts, passes without one, and
// what a restart reads back.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createStore } from "../src/store/index.ts";

const key = { tenant: "default", worker: "w", target: "eu" };
const verdict = (drifted: boolean, signature: string | null = drifted ? "x@100|code" : null) => ({
  ...key,
  drifted,
  kinds: drifted ? ["code"] : [],
  detail: drifted ? "serves x" : "serves the desired versions",
  desired: [{ versionId: "v1", percentage: 100 }],
  observed: [{ versionId: drifted ? "x" : "v1", percentage: 100 }],
  differences: drifted ? [{ kind: "code" }] : [],
  signature,
});

describe("drift store", () => {
  it("records verdicts with the row they replaced, keeps a drift's start and revert note, and clears them when it ends", () => {
    const dir = mkdtempSync(join(tmpdir(), "cbo-drift-"));
    const s = createStore(join(dir, "o.sqlite"));
    expect(s.drift.record(verdict(false)).previous).toBeUndefined();
    const first = s.drift.record(verdict(true));
    expect(first.previous).toMatchObject({ status: "in_sync", drifted: false });
    expect(first.row).toMatchObject({ status: "drifted", drifted: true, note: null, revert: null });
    expect(first.row.since).toBe(first.row.checked_at);
    s.drift.noteRevert(key, "not reverted: gone");
    const again = s.drift.record(verdict(true));
    expect(again.row).toMatchObject({ since: first.row.since, revert: "not reverted: gone", changed_at: first.row.changed_at });

    // A pass without a verdict keeps the last one and says why.
    const pending = s.drift.mark(key, "pending", "release r2 is running");
    expect(pending).toMatchObject({
      status: "pending",
      drifted: true,
      kinds: ["code"],
      note: "release r2 is running",
      since: first.row.since,
    });
    s.close();

    // A restart reads the same row back.
    const reopened = createStore(join(dir, "o.sqlite"));
    expect(reopened.drift.get(key)).toEqual(pending);
    const resolved = reopened.drift.record(verdict(false));
    expect(resolved.previous).toMatchObject({ drifted: true });
    expect(resolved.row).toMatchObject({ status: "in_sync", drifted: false, since: null, revert: null, note: null });
    expect(reopened.drift.list()).toHaveLength(1);
    reopened.close();
  });

  it("a pass without a verdict on a new row starts it as not drifted", () => {
    const s = createStore(":memory:");
    expect(s.drift.mark(key, "unknown", "no release yet")).toMatchObject({
      status: "unknown",
      drifted: false,
      kinds: [],
      desired: null,
      note: "no release yet",
    });
    expect(s.drift.list("other")).toEqual([]);
    s.close();
  });
});
