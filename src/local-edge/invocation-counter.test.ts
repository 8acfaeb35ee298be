import { describe, expect, it } from "vitest";
import { countInvocation, countSubrequest, drainCells, statusOfError, statusOfOutcome } from "./workers/invocation-counter.ts";

const T = Date.parse("2026-03-02T10:00:00Z");

describe("the router's invocation counter", () => {
  it("keeps one cell per script, version, minute and status, and forgets them once drained", () => {
    countInvocation("web", "v1", T + 1_000, 5, "success");
    countInvocation("web", "v1", T + 59_999, 7, "success");
    countInvocation("web", "v1", T + 60_000, 1, "success");
    countInvocation("web", "v1", T + 2_000, 3, "scriptThrewException");
    countInvocation("web", "v2", T + 2_000, 3, "success");
    const cells = drainCells();
    expect(cells.map((c) => [c.version, c.minute - T, c.status, c.requests, c.wallMs])).toEqual([
      ["v1", 0, "success", 2, 12],
      ["v1", 60_000, "success", 1, 1],
      ["v1", 0, "scriptThrewException", 1, 3],
      ["v2", 0, "success", 1, 3],
    ]);
    expect(cells[0]!.wall).toEqual({ 5: 1, 7: 1 });
    expect(drainCells()).toEqual([]);
  });

  it("gives subrequests to the busiest cell of their version and minute, else a success cell of their own", () => {
    countInvocation("web", "v1", T, 1, "scriptThrewException");
    countInvocation("web", "v1", T, 1, "success");
    countInvocation("web", "v1", T, 1, "success");
    countSubrequest("web", "v1", T + 10);
    countSubrequest("web", "v1", T + 20);
    countSubrequest("web", "v9", T + 20);
    const cells = drainCells();
    expect(cells.map((c) => [c.version, c.status, c.requests, c.subrequests])).toEqual([
      ["v1", "scriptThrewException", 1, 0],
      ["v1", "success", 2, 2],
      ["v9", "success", 0, 1],
    ]);
  });

  it("classifies failures as Cloudflare's invocation statuses", () => {
    expect(statusOfError(new Error("boom"))).toBe("scriptThrewException");
    expect(statusOfError(new Error("Worker exceeded CPU time limit."))).toBe("exceededResources");
    expect(statusOfError(new Error("Worker has exceeded memory limit."))).toBe("exceededResources");
    expect(statusOfError(new Error("version abc could not be loaded (404)"))).toBe("internalError");
    expect(statusOfOutcome("ok")).toBe("success");
    expect(statusOfOutcome("exception")).toBe("scriptThrewException");
    expect(statusOfOutcome("exceededCpu")).toBe("exceededResources");
    expect(statusOfOutcome("canceled")).toBe("clientDisconnected");
    expect(statusOfOutcome(undefined)).toBe("internalError");
  });
});
