import { describe, expect, it } from "vitest";
import { endStatus, exitCodeFor } from "./follow-release.ts";

describe("the end of a release", () => {
  it("maps the final status to the exit code", () => {
    expect(exitCodeFor({ status: "succeeded" })).toBe(0);
    expect(exitCodeFor({ status: "rolled_back" })).toBe(1);
    expect(exitCodeFor({ status: "aborted" })).toBe(1);
    expect(exitCodeFor({ status: "failed" })).toBe(2);
    // Rolled back because the edge failed (not the version's gate): a system failure.
    const rollingBack = (kind: string) => [{ type: "release.rolling_back", data: { kind, reason: "r" } }, { type: "release.rolled_back", data: {} }];
    expect(exitCodeFor({ status: "rolled_back" }, rollingBack("gate"))).toBe(1);
    expect(exitCodeFor({ status: "rolled_back" }, rollingBack("edge"))).toBe(2);
    // Not finished (the follow was cut short): not a success.
    expect(exitCodeFor({ status: "running" })).toBe(2);
  });
  it("knows which events end which kind of record", () => {
    expect(endStatus("release", "release.rolled_back")).toBe("rolled_back");
    expect(endStatus("release", "release.step.failed")).toBeUndefined();
    // An automatic rollback inside a release does not end the release.
    expect(endStatus("release", "rollback.completed")).toBeUndefined();
    expect(endStatus("rollback", "rollback.completed")).toBe("succeeded");
    expect(endStatus("rollback", "rollback.failed")).toBe("failed");
  });
});
