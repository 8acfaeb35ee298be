// Assembling /v1/status from its inputs (pure).
import { describe, expect, it } from "vitest";
import { testSpec } from "../../test/support/api-fixtures.ts";
import type { Release } from "../store/index.ts";
import { buildStatus, targetSummaries } from "./status-view.ts";

describe("status", () => {
  it("shows each worker's targets in spec order with what they serve, their health and the last release", () => {
    const spec = testSpec();
    const release = { id: "r1", worker: "hello" } as Release;
    const status = buildStatus({
      spec,
      catalogTargets: [
        {
          tenant: "default",
          name: "us",
          api: "local",
          account_id: "a".repeat(32),
          region: "us",
          jurisdiction: null,
          kv_namespace: null,
          updated_at: "t",
        },
      ],
      health: [
        {
          tenant: "default",
          worker: "hello",
          target: "eu",
          status: "unhealthy",
          version_id: "v2",
          latency_ms: 12,
          detail: "HTTP 500",
          checked_at: "t1",
          changed_at: "t0",
        },
      ],
      lastRelease: (w) => (w === "hello" ? release : null),
      observations: new Map([
        [
          "hello",
          {
            live: new Map([
              [
                "eu",
                [
                  { versionId: "v2", percentage: 10 },
                  { versionId: "v1", percentage: 90 },
                ],
              ],
              ["us", []],
            ]),
            errors: new Map([["ap", "Region ap is unavailable."]]),
          },
        ],
      ]),
    });
    expect(status.targets.map((t) => [t.name, t.accountId])).toEqual([
      ["eu", null],
      ["us", "a".repeat(32)],
      ["ap", null],
    ]);
    const [eu, us, ap] = status.workers[0]!.targets;
    expect(eu).toEqual({
      target: "eu",
      live: [
        { versionId: "v2", percentage: 10 },
        { versionId: "v1", percentage: 90 },
      ],
      liveError: null,
      health: { status: "unhealthy", versionId: "v2", latencyMs: 12, checkedAt: "t1" },
    });
    expect(us).toEqual({ target: "us", live: [], liveError: null, health: null });
    expect(ap).toMatchObject({ live: [], liveError: "Region ap is unavailable." });
    expect(status.workers[0]!.lastRelease).toBe(release);
  });

  it("names a restore pending on the target that owes it, and null on the others", () => {
    const status = buildStatus({
      spec: testSpec(),
      catalogTargets: [],
      health: [],
      lastRelease: () => null,
      observations: new Map(),
      restores: [
        {
          releaseId: "r2",
          tenant: "default",
          worker: "hello",
          target: "us",
          versionId: "v1",
          since: "t0",
          attempts: 3,
          lastError: "ERR_CF_UNAVAILABLE: down",
          nextAttemptAt: "t9",
        },
      ],
    });
    const [eu, us] = status.workers[0]!.targets;
    expect(us!.restore).toEqual({
      releaseId: "r2",
      versionId: "v1",
      since: "t0",
      attempts: 3,
      lastError: "ERR_CF_UNAVAILABLE: down",
      nextAttemptAt: "t9",
    });
    expect(eu!.restore).toBeNull();
  });

  it("targets keep spec order and take the jurisdiction from the spec", () => {
    expect(targetSummaries(testSpec(), []).map((t) => `${t.name}:${t.jurisdiction}`)).toEqual(["eu:eu", "us:null", "ap:null"]);
  });
});
