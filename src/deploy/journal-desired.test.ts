// desiredState: what each target should serve, from release records and their journals as the
// engine writes them (apply.ts, rollback.ts, recover.ts).
import { describe, expect, it } from "vitest";
import type { JournalEntry, Release } from "../store/index.ts";
import { desiredState, leftOn } from "./journal.ts";

type Step = [kind: string, target: string | null, data?: Record<string, unknown>];

function record(id: string, status: Release["status"], kind: Release["kind"] = "release"): Release {
  return { id, tenant: "default", worker: "w", kind, status, reason: null, plan: {}, created_by: null, created_at: "t", updated_at: "t" };
}
function journal(id: string, steps: Step[]): JournalEntry[] {
  return steps.map(([kind, target, data], i) => ({ release_id: id, seq: i + 1, kind, target, data: data ?? {}, at: "t" }));
}
const full = (versionId: string) => [{ versionId, percentage: 100 }];

/** A release's journal on one target as apply.ts writes it, through the given steps. */
function released(target: string, prev: string | null, next: string, steps: number[], opts: { gateFails?: number } = {}): Step[] {
  const out: Step[] = [
    ["upload.intent", target, { previousVersionId: prev }],
    ["uploaded", target, { versionId: next, previousVersionId: prev, created: prev === null }],
  ];
  for (const percent of steps) {
    const split =
      prev === null || percent >= 100
        ? full(next)
        : [
            { versionId: prev, percentage: 100 - percent },
            { versionId: next, percentage: percent },
          ];
    out.push(
      ["step.intent", target, { percent, versionId: next, previousVersionId: prev, split }],
      ["step.deployed", target, { percent, versionId: next }],
    );
    if (opts.gateFails === percent) {
      out.push(["gate.failed", target, { percent }]);
      break;
    }
    out.push(["gate.passed", target, { percent }]);
  }
  return out;
}

function desired(records: Array<[Release, Step[]]>, targets = ["eu", "us", "ap"]) {
  const entries = new Map(records.map(([r, steps]) => [r.id, journal(r.id, steps)]));
  const read: string[] = [];
  const out = desiredState(
    records.map(([r]) => r),
    (id) => (read.push(id), entries.get(id)!),
    targets,
  );
  return {
    out,
    read,
    split: (t: string) => {
      const d = out.get(t);
      return d?.state === "known" ? d.split : d;
    },
  };
}

describe("desiredState", () => {
  it("a succeeded release: its uploaded version at 100% on every target; older records are not read", () => {
    const r1 = record("r1", "succeeded");
    const r2 = record("r2", "succeeded");
    const { split, read, out } = desired([
      [
        r2,
        [
          ...released("eu", "v1", "v2", [10, 100]),
          ...released("us", "u1", "u2", [10, 100]),
          ...released("ap", null, "a2", [100]),
          ["finished", null, { status: "succeeded" }],
        ],
      ],
      [r1, released("eu", null, "v1", [100])],
    ]);
    expect(split("eu")).toEqual(full("v2"));
    expect(split("us")).toEqual(full("u2"));
    expect(split("ap")).toEqual(full("a2"));
    expect(out.get("eu")).toMatchObject({ source: { releaseId: "r2", kind: "release", status: "succeeded" } });
    expect(read).toEqual(["r2"]);
  });

  it("a rolled back release: touched targets on their previous version, untouched ones decided by the record before", () => {
    const { split, out } = desired([
      [
        record("r2", "rolled_back"),
        [
          ...released("eu", "v1", "v2", [10, 100], { gateFails: 10 }),
          ["rollback.intent", "eu", { versionId: "v1", from: "v2" }],
          ["rollback.done", "eu", { versionId: "v1" }],
          ["finished", null, { status: "rolled_back" }],
        ],
      ],
      [
        record("r1", "succeeded"),
        [...released("eu", null, "v1", [100]), ...released("us", null, "u1", [100]), ...released("ap", null, "a1", [100])],
      ],
    ]);
    expect(split("eu")).toEqual(full("v1"));
    expect(out.get("eu")!.source.releaseId).toBe("r2");
    expect(split("us")).toEqual(full("u1"));
    expect(out.get("us")!.source.releaseId).toBe("r1");
  });

  it("a failed release: what the journal says each target was left on, uncertain when the last call's outcome is unknown", () => {
    const { split, out } = desired([
      [
        record("r2", "failed"),
        [
          ...released("eu", "v1", "v2", [10, 100], { gateFails: 10 }),
          ["rollback.intent", "eu", { versionId: "v1" }],
          ["rollback.failed", "eu", { versionId: "v1", error: "ERR_CF_UNAVAILABLE: down" }],
          ...released("us", "u1", "u2", [10, 100], { gateFails: 10 }),
          ["rollback.intent", "us", { versionId: "u1" }],
          ["rollback.done", "us", { versionId: "u1" }],
          // The first deploy that failed its gate keeps the one version it has.
          ...released("ap", null, "a2", [100], { gateFails: 100 }),
          ["rollback.intent", "ap", { versionId: "a2", from: "a2" }],
          ["rollback.done", "ap", { versionId: "a2", note: "no previous version" }],
        ],
      ],
    ]);
    expect(out.get("eu")).toMatchObject({ state: "uncertain" });
    expect((out.get("eu") as { why: string }).why).toMatch(/release r2 \(failed\) left it unknown: the rollback to v1 failed/);
    expect(split("us")).toEqual(full("u1"));
    expect(split("ap")).toEqual(full("a2"));
  });

  it("a release that failed mid-step without a rollback: the split it left", () => {
    const { split } = desired([[record("r2", "failed"), released("eu", "v1", "v2", [10])]], ["eu"]);
    expect(split("eu")).toEqual([
      { versionId: "v1", percentage: 90 },
      { versionId: "v2", percentage: 10 },
    ]);
  });

  it("a step whose deployment was sent but never confirmed is uncertain", () => {
    const { out } = desired(
      [
        [
          record("r2", "failed"),
          [
            ["upload.intent", "eu", { previousVersionId: "v1" }],
            ["uploaded", "eu", { versionId: "v2", previousVersionId: "v1", created: false }],
            [
              "step.intent",
              "eu",
              {
                percent: 10,
                split: [
                  { versionId: "v1", percentage: 90 },
                  { versionId: "v2", percentage: 10 },
                ],
              },
            ],
          ],
        ],
      ],
      ["eu"],
    );
    expect(out.get("eu")).toMatchObject({ state: "uncertain" });
  });

  it("an upload alone changes nothing on a target that served before, but a first upload serves at once", () => {
    const { out, split } = desired(
      [
        [
          record("r2", "failed"),
          [
            ["upload.intent", "eu", { previousVersionId: "v1" }],
            ["uploaded", "eu", { versionId: "v2", previousVersionId: "v1", created: false }],
            ["upload.intent", "us", { previousVersionId: null }],
            ["uploaded", "us", { versionId: "u1", previousVersionId: null, created: true }],
          ],
        ],
      ],
      ["eu", "us"],
    );
    expect(out.has("eu")).toBe(false);
    expect(split("us")).toEqual(full("u1"));
  });

  it("a rollback: each planned target's version; a skipped target is decided by an older record", () => {
    const { split, out } = desired(
      [
        [
          record("rb", "succeeded", "rollback"),
          [
            ["rollback.intent", "eu", { versionId: "v1" }],
            ["rollback.done", "eu", { versionId: "v1", changed: true }],
            ["finished", null, {}],
          ],
        ],
        [record("r2", "succeeded"), [...released("eu", "v1", "v2", [100]), ...released("us", null, "u2", [100])]],
      ],
      ["eu", "us"],
    );
    expect(split("eu")).toEqual(full("v1"));
    expect(out.get("eu")!.source).toEqual({ releaseId: "rb", kind: "rollback", status: "succeeded" });
    expect(split("us")).toEqual(full("u2"));
  });

  it("recovery after a restart: what the recovered entry says each target serves", () => {
    const { split, out } = desired([
      [
        record("r2", "rolled_back"),
        [
          ...released("eu", "v1", "v2", [10, 100]).slice(0, 4),
          [
            "recovered",
            null,
            {
              status: "rolled_back",
              targets: [
                { target: "eu", action: "already", serving: "v1" },
                { target: "us", action: "untouched", serving: "u1" },
              ],
              failures: [{ target: "ap", error: "ERR_CF_UNAVAILABLE: down" }],
            },
          ],
        ],
      ],
    ]);
    expect(split("eu")).toEqual(full("v1"));
    expect(out.has("us")).toBe(false); // untouched: what it served was observed, not decided
    expect(out.get("ap")).toMatchObject({ state: "uncertain" });
  });

  it("skips unfinished records and knows nothing where no record changed a target", () => {
    const { out } = desired([[record("r3", "running"), released("eu", "v2", "v3", [10])]], ["eu"]);
    expect(out.size).toBe(0);
  });

  it("a script PUT (Durable Object migrations) serves the new version at 100% from its upload", () => {
    const left = leftOn(journal("r", [["uploaded", "eu", { versionId: "v2", previousVersionId: "v1", created: false, put: true }]]));
    expect(left.get("eu")).toEqual({ split: [{ versionId: "v2", percentage: 100 }] });
    const version = leftOn(journal("r", [["uploaded", "eu", { versionId: "v2", previousVersionId: "v1", created: false, put: false }]]));
    expect(version.has("eu")).toBe(false);
  });

  it("an entry whose data does not parse leaves the target uncertain, never guessed", () => {
    const left = leftOn(
      journal("r", [
        ["step.intent", "eu", { split: "garbage" }],
        ["step.deployed", "eu", { percent: 10 }],
      ]),
    );
    expect(left.get("eu")).toEqual({ uncertain: "a step was deployed whose split the journal does not hold" });
  });
});
