// Issue 14, acceptance 7: kill -9 of the daemon at 10 random moments inside D1 migration phases.
// The real daemon runs in a child process (test/support/migration-child.ts) against a real
// three-region local edge and says when each D1 phase begins; the test kills it a random time into
// one (the canary's expand phase, a later wave's, or the contract phase after the last gate),
// restarts the daemon on the same data directory (which recovers), and checks after each restart:
//   - no migration applied twice: each file's SQL logs its own name into a table without a unique
//     key, and that log holds every name of d1_migrations exactly once;
//   - no target serves code ahead of its schema: every region's live code finds every migration it
//     needs in d1_migrations (the code asks the database itself);
//   - the record agrees with the edge: every region serves exactly the version the record names,
//     at 100%, and the files the journal records as applied there (all releases) are exactly the
//     rows of its d1_migrations.
// Kills go on until 10 have landed inside a phase (one may land just after a short phase ended;
// those are checked the same way). Each release adds two expand files (each inserting enough rows to take a while) and every third
// also a contract file, so kills land between and inside files.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { replay } from "../src/deploy/index.ts";
import { d1Replay } from "../src/deploy/journal.ts";
import type { ReleasePlan } from "../src/deploy/types.ts";
import { createStore, type Store } from "../src/store/index.ts";
import type { TargetRuntime } from "../src/targets/types.ts";
import { seedMigratedFleet, restartDaemon } from "./support/seed-release.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { httpGet } from "./support/http.ts";
import { edgeInfo, liveOf, type EdgeInfo, type Fleet, fleetYaml } from "./support/orchestrator.ts";
import { runMigrationChild } from "./support/run-migration-child.ts";
import { schemaNeedingSource } from "./support/worker-source.ts";

const REGIONS = ["eu", "us", "ap"];
const WORKER = "migr";
const KILLS = 10;
const ROWS = 30_000;

const YAML = fleetYaml({
  regions: REGIONS,
  waves: [["eu"], ["us", "ap"]],
  steps: [100],
  gate: { probe_path: "/health", interval_ms: 30, bake_ms: 100, min_samples: 2, failure_limit: 2, timeout_ms: 2000 },
  workers: [WORKER],
  perWorker: { [WORKER]: { d1: { DB: { name: "migr", migrations_dir: "migrations" } } } },
});

const source = schemaNeedingSource;

const bulk = (name: string, table: string) =>
  `CREATE TABLE ${table} (n INTEGER);
INSERT INTO ${table} WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < ${ROWS}) SELECT n FROM c;
INSERT INTO applied_log (name) VALUES ('${name}');
`;

describe("kill -9 inside D1 migration phases", () => {
  let t: TestEdge;
  let dir: string;
  let fleet: Fleet;
  let runtimes: Map<string, TargetRuntime>;
  let info: EdgeInfo;
  let storeFile: string;
  const expand: string[] = ["000_init.sql"];
  let n = 0;

  /** The next release's files and code: two expand files, and every third release a contract file. */
  async function nextRelease(): Promise<void> {
    n++;
    const id = String(n).padStart(3, "0");
    for (const part of ["a", "b"]) {
      const name = `${id}_${part}.sql`;
      await writeFile(join(dir, "migrations", name), bulk(name, `bulk_${id}_${part}`));
      expand.push(name);
    }
    if (n % 3 === 0) {
      const name = `${id}_c.sql`;
      await writeFile(
        join(dir, "migrations", name),
        `-- cbo:contract\nDROP TABLE bulk_${id}_a;\nINSERT INTO applied_log (name) VALUES ('${name}');\n`,
      );
    }
    await fleet.setSource(WORKER, source(`r${n}`, [...expand]));
  }

  const d1Id = (store: Store, target: string) =>
    store.resources.list("default", target).find((r) => r.kind === "d1" && r.name === "migr")!.resource_id;
  const rows = async (target: string, dbId: string, sql: string) =>
    ((await runtimes.get(target)!.client.queryD1(dbId, sql))[0]?.results ?? []).map((r) => String((r as { name: unknown }).name));

  beforeAll(async () => {
    t = await startTestEdge({ regions: REGIONS });
    dir = await makeTempDir("migration-crash");
    info = edgeInfo(t.edge);
    ({ fleet, runtimes, storeFile } = await seedMigratedFleet(dir, YAML, WORKER, source("seed", ["000_init.sql"]), info));
  }, 120_000);
  afterAll(async () => {
    await t?.dispose();
  });

  it(`after each of ${KILLS} SIGKILLs inside a migration phase: nothing applied twice, no code ahead of its schema, record = edge`, {
    timeout: 400_000,
  }, async () => {
    // How long one D1 phase takes here, to put the kills inside one.
    await nextRelease();
    const cal = await runMigrationChild(info, fleet.file, storeFile, WORKER);
    await cal.exited;
    const calStore = createStore(storeFile);
    const entries = calStore.releases.entries(cal.id);
    calStore.close();
    const at = (kind: string, phase: string) =>
      Date.parse(entries.find((e) => e.target === "eu" && e.kind === kind && e.data.phase === phase)!.at);
    const phaseMs = at("phase.done", "d1-migrations") - at("phase.intent", "d1-migrations");
    expect(phaseMs, "a D1 phase long enough to land a kill in").toBeGreaterThan(20);

    // Kill until KILLS kills have landed inside a D1 phase (one may land just after a short one ends).
    let inside = 0;
    for (let i = 0; inside < KILLS && i < KILLS * 2; i++) {
      await nextRelease();
      const child = await runMigrationChild(info, fleet.file, storeFile, WORKER);
      // Which phase start to kill in: the canary's, a later wave's, or (when there is one) a contract phase.
      const pick = Math.floor(Math.random() * (n % 3 === 0 ? 4 : 3));
      const delay = Math.random() * phaseMs * 0.9;
      let seen = 0;
      const killed = new Promise<void>((resolve) => {
        child.onLine((l) => {
          if (!l.phase) return;
          if (seen++ === pick) setTimeout(() => (child.kill(), resolve()), delay);
        });
        void child.exited.then(() => resolve());
      });
      await killed;
      child.kill();
      const exit = await child.exited;

      // Restarting the daemon is what recovers: startDaemon runs engine.recover() before serving.
      const daemon = await restartDaemon(dir, fleet.file, t.edge);
      await daemon.close();
      const store = createStore(storeFile);
      try {
        const record = store.releases.get(child.id)!;
        const recovered = store.releases.entries(record.id).find((e) => e.kind === "recovered");
        const interrupted = (recovered?.data.d1 as unknown[] | undefined)?.length ?? 0;
        if (interrupted > 0) inside++;
        const where = `kill ${i} (phase #${pick} + ${delay.toFixed(0)} ms, ${exit.signal ?? exit.code}): ${record.status}: ${record.reason}`;
        expect(["succeeded", "rolled_back"], where).toContain(record.status);
        expect(store.releases.unfinished(), where).toEqual([]);
        if (interrupted > 0) expect(record.reason, where).toMatch(/d1-(migrations|contract) of migr interrupted/);

        const plan = record.plan as unknown as ReleasePlan;
        const journal = replay(store.releases.entries(record.id));
        const records = store.releases.list({ worker: WORKER, limit: 1000 });
        for (const region of REGIONS) {
          // The record agrees with the edge: the version it names, alone at 100%...
          const live = await liveOf(runtimes.get(region)!, WORKER);
          expect(live, `${where}; ${region}`).toHaveLength(1);
          const expected =
            record.status === "succeeded" ? journal.get(region)!.versionId : plan.targets.find((x) => x.name === region)!.previousVersionId;
          expect(live[0], `${where}; ${region}`).toEqual({ versionId: expected, percentage: 100 });
          // ...and the files the journals say were applied there are exactly the table's rows.
          const db = d1Id(store, region);
          const table = await rows(region, db, "SELECT name FROM d1_migrations ORDER BY id");
          const journaled = records.flatMap((r) =>
            d1Replay(store.releases.entries(r.id))
              .filter((x) => x.target === region)
              .flatMap((x) => x.applied),
          );
          expect([...journaled].sort(), `${where}; ${region}: journal vs d1_migrations`).toEqual([...table].sort());
          // No migration applied twice: each file logged itself exactly once.
          const logged = await rows(region, db, "SELECT name FROM applied_log ORDER BY rowid");
          expect([...logged].sort(), `${where}; ${region}: applied_log`).toEqual([...table].sort());
          // No code ahead of its schema.
          const r = await httpGet(t.edge.region(region).port, `${WORKER}.localhost`, { path: "/" });
          expect(JSON.parse(r.body), `${where}; ${region}`).toMatchObject({ ok: true });
        }
      } finally {
        store.close();
      }
    }
    // The kills must land inside migration phases, or the loop tests nothing.
    expect(inside, `${inside} kills landed inside a D1 phase`).toBe(KILLS);
  });
});
