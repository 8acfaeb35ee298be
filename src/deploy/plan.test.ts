import { describe, expect, it } from "vitest";
import type { ResolvedWorker } from "../config/load.ts";
import { GateSchema } from "../config/schema.ts";
import { plan, plannedSteps, previousVersionOf, splitFor } from "./plan.ts";
import type { ObservedTarget } from "../targets/types.ts";

const worker = (over: Partial<ResolvedWorker> = {}): ResolvedWorker => ({
  tenant: "default",
  name: "api",
  entry: "/x/index.js",
  root: "/x",
  compatibilityDate: "2025-01-01",
  compatibilityFlags: [],
  vars: {},
  kv: {},
  services: {},
  secrets: [],
  agent: false,
  drift: "report",
  targets: ["eu", "us", "ap"],
  waves: [["eu"], ["us", "ap"]],
  steps: [10, 50, 100],
  gate: GateSchema.parse({}),
  ...over,
});
const accounts = new Map([
  ["eu", { accountId: "a".repeat(32) }],
  ["us", { accountId: "b".repeat(32) }],
  ["ap", { accountId: "c".repeat(32) }],
]);
const live = (target: string, versionId: string): ObservedTarget => ({
  target,
  deployment: [{ versionId, percentage: 100 }],
  versions: [versionId],
});

describe("previousVersionOf", () => {
  it("is the version at 100%, else the largest share, else none", () => {
    expect(previousVersionOf([{ versionId: "v1", percentage: 100 }])).toBe("v1");
    expect(
      previousVersionOf([
        { versionId: "a", percentage: 30 },
        { versionId: "b", percentage: 70 },
      ]),
    ).toBe("b");
    expect(previousVersionOf([])).toBeNull();
  });
});

describe("splitFor", () => {
  it("gives the new version its step and the previous one the rest", () => {
    expect(splitFor("new", "old", 10)).toEqual([
      { versionId: "old", percentage: 90 },
      { versionId: "new", percentage: 10 },
    ]);
    expect(splitFor("new", "old", 100)).toEqual([{ versionId: "new", percentage: 100 }]);
    expect(splitFor("new", null, 10)).toEqual([{ versionId: "new", percentage: 100 }]);
  });
  it("keeps fractional shares adding up to 100", () => {
    const s = splitFor("new", "old", 0.1);
    expect(s[0]!.percentage + s[1]!.percentage).toBe(100);
    expect(s[0]!.percentage).toBe(99.9);
  });
});

describe("plan", () => {
  it("orders waves canary first, each target upload then deploy+gate per step", () => {
    const p = plan(worker(), "h", accounts, [live("eu", "e1"), live("us", "u1"), live("ap", "p1")]);
    expect(p.waves).toEqual([["eu"], ["us", "ap"]]);
    expect(p.targets.map((t) => [t.name, t.previousVersionId, t.accountId])).toEqual([
      ["eu", "e1", "a".repeat(32)],
      ["us", "u1", "b".repeat(32)],
      ["ap", "p1", "c".repeat(32)],
    ]);
    expect(p.actions.filter((a) => a.target === "eu")).toEqual([
      { kind: "upload", target: "eu" },
      { kind: "deploy", target: "eu", percent: 10 },
      { kind: "gate", target: "eu", percent: 10 },
      { kind: "deploy", target: "eu", percent: 50 },
      { kind: "gate", target: "eu", percent: 50 },
      { kind: "deploy", target: "eu", percent: 100 },
      { kind: "gate", target: "eu", percent: 100 },
    ]);
    expect(p.actions.findIndex((a) => a.target === "us")).toBeGreaterThan(p.actions.findLastIndex((a) => a.target === "eu"));
    // Per target: read the deployment, upload, 3 deployments.
    expect(p.apiCalls).toBe(3 * (1 + 1 + 3));
    expect(plannedSteps(p, "ap")).toEqual([10, 50, 100]);
  });

  it("gives a target that never ran the worker a single 100% step", () => {
    const p = plan(worker(), "h", accounts, [live("eu", "e1"), { target: "us", deployment: [], versions: [] }, live("ap", "p1")]);
    expect(p.targets.find((t) => t.name === "us")!.previousVersionId).toBeNull();
    expect(plannedSteps(p, "us")).toEqual([100]);
    expect(plannedSteps(p, "eu")).toEqual([10, 50, 100]);
    expect(p.apiCalls).toBe(5 + (1 + 1 + 1) + 5);
  });

  it("counts KV namespace calls: list plus create for each title missing", () => {
    const w = worker({ kv: { CACHE: "cache", CONF: "conf" } });
    const obs = [
      { ...live("eu", "e1"), kvNamespaces: ["cache", "conf"] },
      { ...live("us", "u1"), kvNamespaces: ["cache"] },
      live("ap", "p1"), // unknown: assume both must be created
    ];
    const p = plan(w, "h", accounts, obs);
    expect(p.apiCalls).toBe(5 + 1 + 5 + 2 + 5 + 3);
  });

  it("is pure: same input, same plan, inputs untouched", () => {
    const w = worker();
    const obs = [live("eu", "e1"), live("us", "u1"), live("ap", "p1")];
    const before = JSON.stringify([w, obs]);
    expect(plan(w, "h", accounts, obs)).toEqual(plan(w, "h", accounts, obs));
    expect(JSON.stringify([w, obs])).toBe(before);
  });

  it("refuses a worker naming a target without an account", () => {
    expect(() => plan(worker({ targets: ["eu", "mars"], waves: [["eu"], ["mars"]] }), "h", accounts, [])).toThrow(/mars/);
  });
});
