// kill -9 of the daemon (a real child process, test/support/migration-child.ts) at exact moments of
// a release that carries D1 migrations, on a real two-region local edge: before the migration
// phase (its bookmark journaled, nothing applied), with a file landed but its answer not yet
// journaled, right after the last file (the phase not closed), in the canary's step, and after
// the canary's gate passed (the second wave not begun). After each, the restarted daemon recovers
// the release, and: nothing is left unfinished; the journal of every release equals each
// database's d1_migrations table; each file ran once (it logs itself into a table without a
// unique key); no target serves code whose schema is missing; `cbo audit verify` passes; and a
// release afterwards applies what is pending and succeeds.
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { d1Replay } from "../src/deploy/journal.ts";
import { createStore, type Store } from "../src/store/index.ts";
import type { TargetRuntime } from "../src/targets/types.ts";
import { releaseOnce, seedMigratedFleet, restartDaemon } from "./support/seed-release.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { httpGet } from "./support/http.ts";
import { edgeInfo, liveOf, type EdgeInfo, type Fleet, fleetYaml } from "./support/orchestrator.ts";
import { runCbo } from "./support/run-cbo.ts";
import { runMigrationChild } from "./support/run-migration-child.ts";
import { schemaNeedingSource } from "./support/worker-source.ts";

const REGIONS = ["eu", "us"];
const WORKER = "moments";
const YAML = fleetYaml({
  regions: REGIONS,
  waves: [["eu"], ["us"]],
  steps: [50, 100],
  gate: { probe_path: "/health", interval_ms: 30, bake_ms: 100, min_samples: 2, failure_limit: 2, timeout_ms: 3000 },
  // About kill moments, not canary analysis: on a loaded 2-core machine the probes' own p99 drifts
  // past ×2 (+68 ms seen), and the analysis rolled back the release after the kill.
  rollout: { analysis: { enabled: false } },
  workers: [WORKER],
  perWorker: { [WORKER]: { d1: { DB: { name: "moments", migrations_dir: "migrations" } } } },
});
const source = schemaNeedingSource;
const MOMENTS = [
  { kind: "d1.intent", target: "eu", why: "before the migration phase sends a file (bookmark journaled)" },
  { kind: "d1.applied", target: "eu", why: "with a file landed, its answer not journaled" },
  { kind: "phase.done", target: "eu", why: "after the last file, the phase not closed" },
  { kind: "step.deployed", target: "eu", why: "in the canary's 50% step" },
  { kind: "gate.passed", target: "eu", why: "as the canary's last gate passes (us not begun)" },
];

describe("kill -9 at exact moments of a release with D1 migrations", () => {
  let t: TestEdge;
  let dir: string;
  let fleet: Fleet;
  let info: EdgeInfo;
  let runtimes: Map<string, TargetRuntime>;
  let storeFile: string;
  const files = ["000_init.sql"];
  let n = 0;

  const dbId = (store: Store, target: string) =>
    store.resources.list("default", target).find((r) => r.kind === "d1" && r.name === "moments")!.resource_id;
  const names = async (store: Store, target: string, sql: string) =>
    ((await runtimes.get(target)!.client.queryD1(dbId(store, target), sql))[0]?.results ?? []).map((r) =>
      String((r as { name: unknown }).name),
    );
  async function checkAgreement(where: string): Promise<void> {
    const store = createStore(storeFile);
    try {
      expect(store.releases.unfinished(), where).toEqual([]);
      const records = store.releases.list({ worker: WORKER, limit: 1000 });
      for (const region of REGIONS) {
        const table = await names(store, region, "SELECT name FROM d1_migrations ORDER BY id");
        const journaled = records.flatMap((r) =>
          d1Replay(store.releases.entries(r.id))
            .filter((x) => x.target === region)
            .flatMap((x) => x.applied),
        );
        expect([...journaled].sort(), `${where}; ${region}: journal vs d1_migrations`).toEqual([...table].sort());
        expect((await names(store, region, "SELECT name FROM applied_log")).sort(), `${where}; ${region}: each file once`).toEqual(
          [...table].sort(),
        );
        const live = await liveOf(runtimes.get(region)!, WORKER);
        expect(live, `${where}; ${region}`).toHaveLength(1);
        const r = await httpGet(t.edge.region(region).port, `${WORKER}.localhost`, { path: "/" });
        expect(JSON.parse(r.body), `${where}; ${region}: code ahead of its schema`).toMatchObject({ ok: true });
      }
    } finally {
      store.close();
    }
  }
  async function restart(): Promise<void> {
    const daemon = await restartDaemon(dir, fleet.file, t.edge);
    for (const r of daemon.store.releases.unfinished()) await daemon.engine.wait(r.id);
    await daemon.close();
  }
  async function nextFiles(): Promise<void> {
    n++;
    for (const part of ["a", "b"]) {
      const name = `${String(n).padStart(3, "0")}_${part}.sql`;
      await writeFile(
        join(dir, "migrations", name),
        `CREATE TABLE t_${n}_${part} (x);\nINSERT INTO applied_log (name) VALUES ('${name}');\n`,
      );
      files.push(name);
    }
    await fleet.setSource(WORKER, source(`r${n}`, [...files]));
  }

  beforeAll(async () => {
    t = await startTestEdge({ regions: REGIONS });
    info = edgeInfo(t.edge);
    dir = await makeTempDir("d1-kill-moments");
    ({ fleet, runtimes, storeFile } = await seedMigratedFleet(dir, YAML, WORKER, source("seed", ["000_init.sql"]), info));
  }, 120_000);
  afterAll(async () => {
    await t?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const moment of MOMENTS) {
    it(`killed ${moment.why}: recovered, journal = tables, nothing twice, no code ahead of its schema; the next release completes`, {
      timeout: 120_000,
    }, async () => {
      await nextFiles();
      const child = await runMigrationChild(info, fleet.file, storeFile, WORKER, { killAt: { kind: moment.kind, target: moment.target } });
      const exit = await child.exited;
      expect(exit.signal, `the child reached ${moment.kind}`).toBe("SIGKILL");
      await restart();
      const store = createStore(storeFile);
      const record = store.releases.get(child.id)!;
      store.close();
      expect(["rolled_back", "succeeded"], record.reason ?? "").toContain(record.status);
      await checkAgreement(`after the kill ${moment.why} (${record.status}: ${record.reason})`);
      const verify = await runCbo(["audit", "verify", "--data", join(dir, "data")], { cwd: dir });
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);

      const again = await releaseOnce(storeFile, fleet.spec, runtimes, WORKER);
      expect(["succeeded", "unchanged"], again.reason ?? "").toContain(again.status);
      await checkAgreement(`after the release following the kill ${moment.why}`);
    });
  }
});
