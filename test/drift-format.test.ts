// How `cbo status` and `cbo events` show drift (src/cli/format-status.ts, describe-event.ts).
import { describe, expect, it } from "vitest";
import type { DriftSummary, Status, TargetSummary } from "../src/contract/index.ts";
import { describeEvent } from "../src/cli/describe-event.ts";
import { formatStatus } from "../src/cli/format-status.ts";
import { createPaint } from "../src/cli/table.ts";

const plain = createPaint(false);
const NOW = Date.parse("2025-06-01T12:00:00Z");
const drift = (status: DriftSummary["status"], extra: Partial<DriftSummary> = {}): DriftSummary => ({
  status,
  drifted: status === "drifted",
  kinds: [],
  detail: "",
  desired: null,
  observed: null,
  differences: [],
  note: null,
  revert: null,
  since: null,
  checkedAt: "t",
  ...extra,
});
const target = (name: string): TargetSummary => ({ name, api: "local", accountId: null, region: null, jurisdiction: null });

describe("cbo status with drift", () => {
  const status: Status = {
    tenant: "default",
    targets: [target("eu"), target("us"), target("ap")],
    workers: [
      {
        name: "hello",
        targets: [
          {
            target: "eu",
            live: [{ versionId: "x", percentage: 100 }],
            liveError: null,
            health: null,
            drift: drift("drifted", {
              kinds: ["code", "unknown_version"],
              detail: "serves x 100% instead of v2 100%",
              since: "2025-06-01T11:58:00Z",
              revert: "not reverted: gone",
            }),
          },
          { target: "us", live: [{ versionId: "v2", percentage: 100 }], liveError: null, health: null, drift: drift("in_sync") },
          { target: "ap", live: [], liveError: null, health: null, drift: null },
        ],
        lastRelease: null,
      },
    ],
  };

  it("adds a DRIFT column and says what differs below the table", () => {
    const lines = formatStatus(status, plain, NOW).trimEnd().split("\n");
    expect(lines[2]).toMatch(/^WORKER\s+TARGET\s+LIVE\s+HEALTH\s+DRIFT$/);
    expect(lines[3]).toMatch(/^hello\s+eu\s+x 100%\s+unknown\s+DRIFT code,unknown_version$/);
    expect(lines[4]).toMatch(/^\s+us\s+v2 100%\s+unknown\s+in sync$/);
    expect(lines[5]).toMatch(/^\s+ap\s+\(not deployed\)\s+unknown\s+-$/);
    expect(lines.slice(7, 9)).toEqual(["drift:", "  hello/eu  serves x 100% instead of v2 100% (since 2 min ago; not reverted: gone)"]);
  });

  it("shows no DRIFT column for a daemon that sends no drift, and survives an unexpected shape", () => {
    const none: Status = {
      ...status,
      workers: [{ ...status.workers[0]!, targets: status.workers[0]!.targets.map(({ drift: _d, ...t }) => t) }],
    };
    expect(formatStatus(none, plain, NOW)).toMatch(/^WORKER\s+TARGET\s+LIVE\s+HEALTH$/m);
    // Not what the contract allows (the client would refuse it): formatting still prints, without a verdict.
    const odd = {
      ...status,
      workers: [{ ...status.workers[0]!, targets: [{ target: "eu", live: [], liveError: null, health: null, drift: { status: 7 } }] }],
    } as unknown as Status;
    expect(formatStatus(odd, plain, NOW)).toMatch(/^hello\s+eu\s+\(not deployed\)\s+unknown\s+-$/m);
  });
});

describe("cbo events with drift", () => {
  it("tells each drift event in words", () => {
    expect(
      describeEvent({ type: "drift.detected", data: { kinds: ["code", "bindings"], reason: "serves x 100% instead of v2 100%" } }, plain),
    ).toBe("drift detected (code, bindings): serves x 100% instead of v2 100%");
    expect(describeEvent({ type: "drift.resolved", data: { reverted: true } }, plain)).toBe("drift resolved after a revert");
    expect(describeEvent({ type: "drift.resolved", data: {} }, plain)).toBe("drift resolved");
    expect(describeEvent({ type: "drift.reverted", data: { to: "v2 100%" } }, plain)).toBe("drift reverted: v2 100% deployed again");
    expect(describeEvent({ type: "drift.revert.failed", data: { reason: "the desired version v2 no longer exists" } }, plain)).toBe(
      "drift not reverted: the desired version v2 no longer exists",
    );
  });
});
