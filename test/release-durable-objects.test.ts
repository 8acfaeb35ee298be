// Issue 14, acceptance 6, on a real three-region local edge: a release that adds a Durable Object
// class cannot be gradual. Without the opt-in it is refused before anything is recorded; with it,
// each target takes the version at 100% (the script PUT carrying the migration), one target at a
// time with its gate after each; the stored state of existing objects is intact; and a rollback
// past the migration is refused with Cloudflare's reason before any call. Deleting a class needs
// its own confirmation, which the rollout's opt-in does not give.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseSpec, resolveSpec, type ResolvedSpec } from "../src/config/load.ts";
import { createEngine } from "../src/deploy/index.ts";
import type { Engine } from "../src/deploy/types.ts";
import { createStore, type Store } from "../src/store/index.ts";
import type { TargetRuntime } from "../src/targets/types.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { httpGet } from "./support/http.ts";
import { countingObjectsSource } from "./support/worker-source.ts";
import { edgeInfo, liveOf, localRuntimes } from "./support/orchestrator.ts";
import { refusal } from "./support/refusal.ts";

const REGIONS = ["eu", "us", "ap"];
const GATE = {
  probe_path: "/health",
  interval_ms: 30,
  bake_ms: 150,
  min_samples: 3,
  failure_limit: 2,
  max_error_rate: 0.05,
  timeout_ms: 3000,
};

function specYaml(opts: { classes: Record<string, string>; migrations: unknown[]; allow?: boolean }): string {
  return [
    "targets:",
    "  - { name: eu, api: local }",
    "  - { name: us, api: local }",
    "  - { name: ap, api: local }",
    "rollout:",
    "  waves: [[eu], [us, ap]]",
    "  steps: [50, 100]",
    `  gate: ${JSON.stringify(GATE)}`,
    ...(opts.allow ? ["  allow_non_gradual: true"] : []),
    "workers:",
    "  - name: counter",
    "    main: counter.js",
    '    compatibility_date: "2025-01-01"',
    `    durable_objects: ${JSON.stringify(opts.classes)}`,
    `    migrations: ${JSON.stringify(opts.migrations)}`,
  ].join("\n");
}

describe("a release that adds a Durable Object class (three targets)", () => {
  let t: TestEdge;
  let dir: string;
  let store: Store;
  let spec: ResolvedSpec;
  let runtimes: Map<string, TargetRuntime>;
  let engine: Engine;
  let first: string;
  const get = async (region: string, path: string) => {
    const r = await httpGet(t.edge.region(region).port, "counter.localhost", { path });
    expect(r.status, r.body).toBe(200);
    return JSON.parse(r.body) as { v: string; n?: number };
  };
  const setSpec = async (yaml: string, source: string) => {
    await writeFile(join(dir, "counter.js"), source);
    await writeFile(join(dir, "orchestrator.yaml"), yaml);
    spec = resolveSpec(parseSpec(yaml, join(dir, "orchestrator.yaml")), join(dir, "orchestrator.yaml"));
  };
  const V1 = [{ tag: "v1", new_sqlite_classes: ["Counter"] }];
  const V2 = [...V1, { tag: "v2", new_sqlite_classes: ["Limiter"] }];

  beforeAll(async () => {
    t = await startTestEdge({ regions: REGIONS });
    dir = await makeTempDir("do-release");
    await setSpec(specYaml({ classes: { COUNTER: "Counter" }, migrations: V1 }), countingObjectsSource("v1", ["Counter"]));
    runtimes = localRuntimes(edgeInfo(t.edge), spec);
    store = createStore(join(dir, "state.db"));
    engine = createEngine({ store, spec: () => spec, targets: () => runtimes });
    // A first deploy with its class needs no opt-in: nothing served before.
    const r = await engine.wait((await engine.release("counter")).id);
    expect(r.status, r.reason ?? "").toBe("succeeded");
    first = r.id;
    for (const region of REGIONS) {
      await get(region, "/count");
      expect((await get(region, "/count")).n).toBe(2);
    }
  }, 120_000);
  afterAll(async () => {
    await engine?.close();
    store?.close();
    await t?.dispose();
  });

  it("is refused without the opt-in, before anything is recorded", { timeout: 60_000 }, async () => {
    await setSpec(
      specYaml({ classes: { COUNTER: "Counter", LIMITER: "Limiter" }, migrations: V2 }),
      countingObjectsSource("v2", ["Counter", "Limiter"]),
    );
    const p = await engine.plan("counter");
    expect(p.nonGradual).toMatchObject({ targets: ["eu", "us", "ap"], deletesClasses: [] });
    expect(p.waves).toEqual([["eu"], ["us"], ["ap"]]);
    expect(p.targets[0]!.durableObjectMigration).toMatchObject({ oldTag: "v1", newTag: "v2", classes: { added: ["Limiter"] } });
    const count = store.releases.list({ worker: "counter", limit: 100 }).length;
    const e = await refusal(engine.release("counter"));
    expect(e.code).toBe("ERR_CONFIRMATION_REQUIRED");
    expect(e.message).toMatch(/cannot be gradual on eu, us, ap/);
    expect(e.hint).toMatch(/--allow-non-gradual/);
    expect(store.releases.list({ worker: "counter", limit: 100 })).toHaveLength(count);
    for (const region of REGIONS) expect((await get(region, "/")).v).toBe("v1");
  });

  it("with it: 100% target by target, gated after each; existing objects keep their state", { timeout: 120_000 }, async () => {
    const r = await engine.wait((await engine.release("counter", { allowNonGradual: true })).id);
    expect(r.status, r.reason ?? "").toBe("succeeded");
    const entries = store.releases.entries(r.id);
    const seq = (target: string, kind: string) => entries.find((e) => e.target === target && e.kind === kind)!.seq;
    for (const region of REGIONS) {
      const kinds = entries.filter((e) => e.target === region).map((e) => e.kind);
      expect(kinds).toEqual(["upload.intent", "uploaded", "step.intent", "step.deployed", "gate.passed"]);
      expect(entries.find((e) => e.target === region && e.kind === "upload.intent")!.data).toMatchObject({
        put: true,
        migration: { oldTag: "v1", newTag: "v2" },
      });
      expect(entries.find((e) => e.target === region && e.kind === "step.intent")!.data).toMatchObject({ percent: 100 });
    }
    // One target at a time: each starts after the previous one's gate passed.
    expect(seq("us", "upload.intent")).toBeGreaterThan(seq("eu", "gate.passed"));
    expect(seq("ap", "upload.intent")).toBeGreaterThan(seq("us", "gate.passed"));
    for (const region of REGIONS) {
      expect(await get(region, "/count")).toEqual({ v: "v2", n: 3 });
      expect(await get(region, "/limit")).toEqual({ v: "v2", n: 1 });
    }
  });

  it("a rollback past the migration is refused with Cloudflare's reason, before any call", { timeout: 60_000 }, async () => {
    const preview = await engine.previewRollback("counter", { to: first });
    expect(preview.refused).toMatch(/10238/);
    expect(preview.targets.map((x) => x.durableObjectBarrier?.newTag)).toEqual(["v2", "v2", "v2"]);
    const before = await Promise.all(REGIONS.map((x) => liveOf(runtimes.get(x)!, "counter")));
    const count = store.releases.list({ worker: "counter", limit: 100 }).length;
    const e = await refusal(engine.rollback("counter", { to: first }));
    expect(e.code).toBe("ERR_CONFLICT");
    expect(e.message).toMatch(/code 10238/);
    expect(e.message).toMatch(/Durable Object migration v1 -> v2/);
    // The default target (the release before the one being undone) is the same first release.
    expect((await refusal(engine.rollback("counter"))).message).toMatch(/code 10238/);
    expect(store.releases.list({ worker: "counter", limit: 100 })).toHaveLength(count);
    expect(await Promise.all(REGIONS.map((x) => liveOf(runtimes.get(x)!, "counter")))).toEqual(before);
  });

  it("deleting a class needs its own confirmation, even with the rollout's opt-in", { timeout: 120_000 }, async () => {
    const V3 = [...V2, { tag: "v3", deleted_classes: ["Limiter"] }];
    await setSpec(specYaml({ classes: { COUNTER: "Counter" }, migrations: V3, allow: true }), countingObjectsSource("v3", ["Counter"]));
    const e = await refusal(engine.release("counter"));
    expect(e.code).toBe("ERR_CONFIRMATION_REQUIRED");
    expect(e.message).toMatch(/deletes or renames Durable Object class\(es\) Limiter/);
    expect(e.hint).toMatch(/--confirm-class-deletion/);
    const r = await engine.wait((await engine.release("counter", { confirmClassDeletion: true })).id);
    expect(r.status, r.reason ?? "").toBe("succeeded");
    for (const region of REGIONS) expect(await get(region, "/count")).toEqual({ v: "v3", n: 4 });
  });
});
