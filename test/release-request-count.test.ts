// The plan's request count is what the release spends, counted where the requests land: the local
// edge's own per-account counter of Cloudflare API requests (not the client's), for a Worker with
// the edge agent (its config namespace created on the first release, found on the next), a vault
// binding secret, a KV binding, static assets and a cron, on two targets. A release of an
// unchanged Worker ends `unchanged`, uploads nothing, and spends exactly its plan's reads.
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseSpec, resolveSpec, type ResolvedSpec } from "../src/config/load.ts";
import type { ReleasePlan } from "../src/contract/index.ts";
import { createEngine, vaultSecretSource } from "../src/deploy/index.ts";
import type { Engine } from "../src/deploy/types.ts";
import { openSecurity, type Security } from "../src/security/index.ts";
import { createStore, type Release, type Store } from "../src/store/index.ts";
import type { TargetRuntime } from "../src/targets/types.ts";
import { MasterKey } from "../src/vault/index.ts";
import { silentLogger } from "../src/telemetry/logger.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { edgeInfo, localRuntimes } from "./support/orchestrator.ts";

const REGIONS = ["eu", "us"];
const GATE = { probe_path: "/", interval_ms: 20, bake_ms: 60, min_samples: 2, failure_limit: 3, max_error_rate: 0.05, timeout_ms: 3000 };

const code = (v: string) => `export default { fetch(req, env) { return Response.json({ v: "${v}", g: env.GREETING }); }, scheduled() {} };`;

describe("the plan's request count is what the edge receives", () => {
  let t: TestEdge;
  let dir: string;
  let store: Store;
  let security: Security;
  let spec: ResolvedSpec;
  let runtimes: Map<string, TargetRuntime>;
  let engine: Engine;
  const received = () => REGIONS.reduce((n, r) => n + t.edge.apiRequestCount(t.edge.region(r).accountId), 0);
  /** Releases and returns the record with the requests the edge received meanwhile. */
  const release = async (opts: { force?: boolean } = {}): Promise<{ r: Release; spent: number }> => {
    const before = received();
    const r = await engine.wait((await engine.release("counted", { by: "test", ...opts })).id);
    return { r, spent: received() - before };
  };

  beforeAll(async () => {
    t = await startTestEdge({ regions: REGIONS });
    dir = await makeTempDir("count");
    await mkdir(join(dir, "counted", "public"), { recursive: true });
    await writeFile(join(dir, "counted", "index.js"), code("v1"));
    await writeFile(join(dir, "counted", "public", "a.txt"), "asset a");
    await writeFile(join(dir, "counted", "public", "b.txt"), "asset b");
    await writeFile(
      join(dir, "counted", "wrangler.jsonc"),
      JSON.stringify({
        name: "counted",
        main: "index.js",
        compatibility_date: "2025-01-01",
        vars: { GREETING: "hello" },
        kv_namespaces: [{ binding: "CACHE", id: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" }],
        assets: { directory: "./public" },
        triggers: { crons: ["*/5 * * * *"] },
      }),
    );
    const yaml = [
      "targets:",
      ...REGIONS.map((r) => `  - { name: ${r}, api: local }`),
      "rollout:",
      "  steps: [50, 100]",
      `  gate: ${JSON.stringify(GATE)}`,
      // The canary analysis reads GraphQL analytics once per interval while a gate runs: time-based,
      // so not in the plan's count (README "Canary analysis"); off here so the count is exact.
      "  analysis: { enabled: false }",
      "workers:",
      "  - { wrangler: counted/wrangler.jsonc, agent: true, secrets: [API_KEY] }",
    ].join("\n");
    const file = join(dir, "orchestrator.yaml");
    await writeFile(file, yaml);
    spec = resolveSpec(parseSpec(yaml, file), file);
    runtimes = localRuntimes(edgeInfo(t.edge), spec);
    store = createStore(join(dir, "state.db"));
    security = await openSecurity({
      db: store.db,
      storage: store.storage,
      masterKey: new MasterKey(randomBytes(32), "bytes"),
      log: silentLogger,
    });
    security.vault.put("API_KEY", `key-${randomBytes(8).toString("hex")}`, { mode: "binding", by: "test" });
    engine = createEngine({
      store,
      spec: () => spec,
      targets: () => runtimes,
      secrets: vaultSecretSource(security.vault, security.workerKeys),
      publicKey: () => security.orchestratorKey.publicKey,
      orchestratorUrl: () => "http://127.0.0.1:9/",
    });
  }, 60_000);
  afterAll(async () => {
    await engine?.close();
    await security?.stop({ checkpoint: false });
    store?.close();
    await t?.dispose();
  });

  it("a first release (config namespace, KV namespace and schedules created, assets uploaded) spends what it planned", {
    timeout: 60_000,
  }, async () => {
    const { r, spent } = await release();
    expect(r.status, r.reason ?? "").toBe("succeeded");
    const plan = r.plan as unknown as ReleasePlan;
    expect(plan.targets.flatMap((x) => x.phases ?? []).map((p) => p.phase)).toContain("agent");
    expect(spent).toBe(plan.apiCalls);
  });

  it("a release of changed code (everything else found in place) spends what it planned", { timeout: 60_000 }, async () => {
    await writeFile(join(dir, "counted", "index.js"), code("v2"));
    const { r, spent } = await release();
    expect(r.status, r.reason ?? "").toBe("succeeded");
    const plan = r.plan as unknown as ReleasePlan;
    // The agent's namespace was found by the plan's read: no request for it now.
    expect(plan.targets.flatMap((x) => x.phases ?? []).map((p) => p.phase)).not.toContain("agent");
    expect(spent).toBe(plan.apiCalls);
  });

  it("releasing the unchanged Worker ends unchanged, uploads nothing, and spends only its reads", { timeout: 60_000 }, async () => {
    const versionsBefore = await Promise.all(REGIONS.map((n) => runtimes.get(n)!.client.listVersions("counted")));
    const { r, spent } = await release();
    expect(r.status).toBe("unchanged");
    expect(r.reason).toMatch(/nothing to release/);
    const plan = r.plan as unknown as ReleasePlan;
    expect(plan.diff).toMatchObject({ changed: false, drift: false });
    const reads = plan.targets
      .flatMap((x) => x.phases ?? [])
      .filter((p) => p.phase === "read")
      .reduce((n, p) => n + p.apiCalls, 0);
    expect(spent).toBe(reads);
    const versionsAfter = await Promise.all(REGIONS.map((n) => runtimes.get(n)!.client.listVersions("counted")));
    expect(versionsAfter.map((v) => v.length)).toEqual(versionsBefore.map((v) => v.length));
    expect(
      store.events
        .list({ after: 0 })
        .filter((e) => e.release_id === r.id)
        .map((e) => e.type),
    ).toEqual(["release.unchanged"]);

    // --force releases it anyway, and still spends what it planned.
    const forced = await release({ force: true });
    expect(forced.r.status, forced.r.reason ?? "").toBe("succeeded");
    expect(forced.spent).toBe((forced.r.plan as unknown as ReleasePlan).apiCalls);
  });
});
