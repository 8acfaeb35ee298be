import { describe, expect, it } from "vitest";
import { EXIT, exitForOutcome, worseExit } from "./exit-codes.ts";
import { endStatus, exitCodeFor } from "./follow-release.ts";

describe("the end of a release", () => {
  it("maps the final status to the exit code", () => {
    expect(exitCodeFor({ status: "succeeded" })).toBe(0);
    expect(exitCodeFor({ status: "rolled_back" })).toBe(3);
    expect(exitCodeFor({ status: "aborted" })).toBe(3);
    expect(exitCodeFor({ status: "failed" })).toBe(2);
    // Not finished (the follow was cut short): not a success.
    expect(exitCodeFor({ status: "running" })).toBe(2);
    expect(exitCodeFor({ status: "rolling_back" })).toBe(2);
  });
  it("gives a rolled-back release the same code whatever stopped it and whoever finished it", () => {
    // The outcome alone decides: a rollback after an edge failure, or one a restarted daemon's
    // recovery finished, is "rolled back" like one after a failed gate (README: 3 rolled back).
    expect(exitForOutcome("rolled_back")).toBe(EXIT.rolledBack);
    expect(exitCodeFor({ status: "rolled_back" })).toBe(exitForOutcome("rolled_back"));
    expect(exitForOutcome("no-such-status")).toBe(EXIT.systemError);
    expect(exitForOutcome("toString")).toBe(EXIT.systemError);
  });
  it("keeps the five codes distinct, and takes the worst of several releases' outcomes", () => {
    expect(new Set(Object.values(EXIT)).size).toBe(5);
    expect(Object.values(EXIT)).toEqual([0, 1, 2, 3, 4]);
    // secrets deliver --wait: a failure outweighs a rollback, which outweighs a success.
    expect([0, 3, 0].reduce(worseExit, 0)).toBe(3);
    expect([3, 2, 0].reduce(worseExit, 0)).toBe(2);
    expect([0, 0].reduce(worseExit, 0)).toBe(0);
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
