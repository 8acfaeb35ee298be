import { describe, expect, it } from "vitest";
import type { ResolvedWorker } from "../config/load.ts";
import { GateSchema } from "../config/schema.ts";
import { plan, plannedSteps, previousVersionOf, splitFor } from "./plan.ts";
import type { ObservedTarget } from "../targets/types.ts";
import { legacySource } from "./bundle.ts";
import type { TargetFacts } from "./observe.ts";

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

  it("counts what the release spends per phase: resources to create, D1 migrations, assets, a DO migration, settings", () => {
    const source = {
      ...legacySource(worker()),
      migrations: [{ tag: "v1", new_sqlite_classes: ["Limiter"] }],
      triggers: { crons: ["*/5 * * * *"] },
    };
    const w = worker({ source, sources: { eu: source, us: source, ap: source } });
    const kv = { ref: { kind: "kv" as const, name: "cache" }, usedBy: ["CACHE"] };
    const db = { ref: { kind: "d1" as const, name: "sites", jurisdiction: "eu" }, usedBy: ["DB"] };
    const files = [
      { name: "0001_init.sql", file: "/x/migrations/0001_init.sql", sql: "", sha256: "h1", contract: false, breaksRollback: false },
      { name: "0002_more.sql", file: "/x/migrations/0002_more.sql", sql: "", sha256: "h2", contract: false, breaksRollback: false },
      // Marked `-- cbo:contract`: the second phase, after the last gate.
      { name: "0003_drop.sql", file: "/x/migrations/0003_drop.sql", sql: "", sha256: "h3", contract: true, breaksRollback: false },
    ];
    const migrations = { binding: "DB", database: "sites", table: "d1_migrations", files };
    const eu: TargetFacts = {
      ...live("eu", "e1"),
      // Everything there: nothing to create, one migration pending, two asset buckets to send, tag v1 (nothing to migrate), crons as desired.
      resources: [
        { ...kv, found: { id: "k1", jurisdiction: null } },
        { ...db, found: { id: "d1", jurisdiction: "eu" } },
      ],
      d1: [{ migrations, applied: ["0001_init.sql"] }],
      migrationTag: "v1",
      assets: { session: { jwt: "t", buckets: [["a", "b"], ["c"]] }, bytes: { a: 1, b: 2, c: 3, d: 4 } },
      settings: { current: { crons: ["*/5 * * * *"] }, desired: { crons: ["*/5 * * * *"] } },
      reads: 6,
    };
    const us: TargetFacts = {
      ...live("us", "u1"),
      // Both resources missing (created: find again + create each), no tag (migrate: the script PUT, 100% at once), crons differ.
      resources: [
        { ...kv, found: null },
        { ...db, found: null },
      ],
      d1: [{ migrations, applied: null }],
      migrationTag: null,
      settings: { current: { crons: [] }, desired: { crons: ["*/5 * * * *"] } },
      reads: 4,
    };
    const p = plan(w, "h", accounts, [eu, us, live("ap", "p1")]);
    const phases = (t: string) => Object.fromEntries(p.targets.find((x) => x.name === t)!.phases!.map((ph) => [ph.phase, ph.apiCalls]));
    expect(phases("eu")).toEqual({ read: 7, "d1-migrations": 5, assets: 2, upload: 2, steps: 3, settings: 1, "d1-contract": 5 });
    expect(phases("us")).toEqual({ read: 5, resources: 4, "d1-migrations": 6, upload: 2, steps: 1, settings: 2, "d1-contract": 5 });
    expect(p.targets.find((t) => t.name === "eu")).toMatchObject({
      d1Migrations: [{ database: "sites", pending: ["0002_more.sql"] }],
      // The contract file's content hash as planned: what recovery checks before it runs the file.
      d1Contract: [{ database: "sites", pending: ["0003_drop.sql"], sha256: { "0003_drop.sql": "h3" } }],
    });
    expect(p.targets.find((t) => t.name === "eu")!.assets).toEqual({ files: 4, bytes: 10, upload: 3, uploadBytes: 6 });
    expect(p.targets.find((t) => t.name === "us")).toMatchObject({
      upload: "script",
      durableObjectMigration: { oldTag: null, newTag: "v1", steps: 1 },
      d1Migrations: [{ binding: "DB", database: "sites", pending: ["0001_init.sql", "0002_more.sql"] }],
      resources: [
        { kind: "kv", name: "cache", action: "create", usedBy: ["CACHE"] },
        { kind: "d1", name: "sites", jurisdiction: "eu", action: "create", usedBy: ["DB"] },
      ],
      settings: [{ setting: "crons", current: [], desired: ["*/5 * * * *"], change: true }],
    });
    expect(plannedSteps(p, "us")).toEqual([100]);
    expect(plannedSteps(p, "eu")).toEqual([10, 50, 100]);
    const total = (t: string) => Object.values(phases(t)).reduce((a, b) => a + b, 0);
    expect(p.apiCalls).toBe(total("eu") + total("us") + total("ap"));
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

describe("plan warnings", () => {
  it("carries the sources' warnings once, and names a secrets.required secret the vault does not ship", () => {
    const w = worker();
    const source = { ...legacySource(w), requiredSecrets: ["STRIPE_KEY", "SHOP_TOKEN"], warnings: ["top-level only binding"] };
    const p = plan({ ...w, secrets: ["SHOP_TOKEN"], source, sources: { eu: source, us: source, ap: source } }, "h", accounts, []);
    expect(p.warnings).toEqual([
      "top-level only binding",
      "secrets.required names STRIPE_KEY, which is not one of this worker's vault secrets: the release neither sets nor checks it (targets keep what they hold); add it to the worker's `secrets:` and `cbo secrets set STRIPE_KEY`",
    ]);
    expect(plan(w, "h", accounts, []).warnings).toBeUndefined();
  });
});
