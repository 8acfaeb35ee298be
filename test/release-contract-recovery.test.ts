// A daemon killed (SIGKILL) inside a release's D1 contract phase, after every target passed its
// last gate: the restarted daemon finishes the phase. It re-reads the project's migration files,
// runs each pending contract file whose content is still what the release planned (once: the
// table is read again, and each file logs its own name into a table without a unique key), and
// holds back a file that changed or vanished, naming it and the command that finishes the job.
// Real parts: the daemon in a child process (test/support/migration-child.ts), a real two-region
// local edge, the restart through startDaemon on the same data directory (which recovers).
import { rm, writeFile, appendFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDaemon } from "../src/daemon.ts";
import { d1Replay } from "../src/deploy/journal.ts";
import { createStore, type Release } from "../src/store/index.ts";
import type { TargetRuntime } from "../src/targets/types.ts";
import { seedMigratedFleet } from "./support/seed-release.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { edgeInfo, type EdgeInfo, type Fleet, fleetYaml } from "./support/orchestrator.ts";
import { runMigrationChild } from "./support/run-migration-child.ts";

const REGIONS = ["eu", "us"];
const WORKER = "migr";
const ROWS = 40_000;

const YAML = fleetYaml({
  regions: REGIONS,
  waves: [["eu"], ["us"]],
  steps: [100],
  gate: { probe_path: "/", interval_ms: 30, bake_ms: 50, min_samples: 1, failure_limit: 2, timeout_ms: 2000 },
  workers: [WORKER],
  perWorker: { [WORKER]: { d1: { DB: { name: "migr", migrations_dir: "migrations" } } } },
});

const code = (tag: string) => `export default { fetch() { return new Response(${JSON.stringify(tag)}); } };`;

/** A contract file slow enough (a bulk insert) that a kill at its phase's start lands before it commits. */
const contractSql = (name: string, id: string) =>
  `-- cbo:contract
CREATE TABLE slow_${id} (n INTEGER);
INSERT INTO slow_${id} WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < ${ROWS}) SELECT n FROM c;
DROP TABLE slow_${id};
INSERT INTO applied_log (name) VALUES ('${name}');
`;

describe("recovery finishes a D1 contract phase a SIGKILL cut short", () => {
  let t: TestEdge;
  let dir: string;
  let fleet: Fleet;
  let info: EdgeInfo;
  let runtimes: Map<string, TargetRuntime>;
  let storeFile: string;
  let n = 0;

  const dataDir = () => join(dir, "data");
  const dbId = (target: string) => {
    const store = createStore(storeFile);
    try {
      return store.resources.list("default", target).find((r) => r.kind === "d1" && r.name === "migr")!.resource_id;
    } finally {
      store.close();
    }
  };
  const names = async (target: string, sql: string) =>
    ((await runtimes.get(target)!.client.queryD1(dbId(target), sql))[0]?.results ?? []).map((r) => String((r as { name: unknown }).name));
  const table = (target: string) => names(target, "SELECT name FROM d1_migrations ORDER BY id");
  const logged = (target: string) => names(target, "SELECT name FROM applied_log ORDER BY rowid");

  /** A release adding the contract file `name` (and new code), killed with SIGKILL as eu's contract phase begins. */
  async function crashInContract(name: string): Promise<string> {
    n++;
    await writeFile(join(dir, "migrations", name), contractSql(name, String(n)));
    await fleet.setSource(WORKER, code(`r${n}`));
    const child = await runMigrationChild(info, fleet.file, storeFile, WORKER);
    let inContract = false;
    child.onLine((l) => {
      if (l.phase === "d1-contract" && l.target === "eu") {
        inContract = true;
        child.kill();
      }
    });
    // The child may have passed the phase line before the listener was added.
    if (child.lines.some((l) => l.phase === "d1-contract")) (inContract = true), child.kill();
    const exit = await child.exited;
    expect({ inContract, signal: exit.signal }).toEqual({ inContract: true, signal: "SIGKILL" });
    return child.id;
  }

  /** Restarts the daemon on the same data directory (it recovers at start), then stops it; the release as recorded. */
  async function restart(id: string): Promise<{ release: Release; kinds: string[] }> {
    const daemon = await startDaemon({
      dataDir: dataDir(),
      configFile: fleet.file,
      port: 0,
      edge: t.edge,
      log: () => {},
      fallbackMasterKeyFile: join(dataDir(), "master.key"),
    });
    await daemon.close();
    const store = createStore(storeFile);
    try {
      return { release: store.releases.get(id)!, kinds: store.events.list({ releaseId: id, limit: 1000 }).map((e) => e.type) };
    } finally {
      store.close();
    }
  }

  /** The journal's applied files there (every release) are the table's rows, and every file logged itself once. */
  async function recordAgreesWithEdge(target: string): Promise<void> {
    const store = createStore(storeFile);
    const journaled = store.releases
      .list({ worker: WORKER, limit: 1000 })
      .flatMap((r) => d1Replay(store.releases.entries(r.id)).filter((x) => x.target === target))
      .flatMap((x) => x.applied);
    store.close();
    const rows = await table(target);
    expect([...journaled].sort(), `${target}: journal vs d1_migrations`).toEqual([...rows].sort());
    expect([...(await logged(target))].sort(), `${target}: each file ran once`).toEqual([...rows].sort());
  }

  beforeAll(async () => {
    t = await startTestEdge({ regions: REGIONS });
    dir = await makeTempDir("contract-recovery");
    info = edgeInfo(t.edge);
    ({ fleet, runtimes, storeFile } = await seedMigratedFleet(dir, YAML, WORKER, code("seed"), info));
  }, 120_000);
  afterAll(async () => {
    await t?.dispose();
  });

  it("runs the contract files left pending, each once, and the release succeeds", { timeout: 120_000 }, async () => {
    const id = await crashInContract("001_c.sql");
    // us's contract phase comes after eu's: the kill left it undone there.
    expect(await table("us")).not.toContain("001_c.sql");
    const { release, kinds } = await restart(id);
    expect(release.status, release.reason ?? "").toBe("succeeded");
    expect(release.reason).toMatch(/contract phase finished by recovery: .*us applied 001_c\.sql to D1 migr/);
    expect(kinds).toContain("release.phase.done");
    for (const region of REGIONS) {
      expect(await table(region), region).toContain("001_c.sql");
      await recordAgreesWithEdge(region);
    }
    // Idempotent: a second restart finds nothing left and changes nothing.
    const again = await restart(id);
    expect(again.release.reason).toBe(release.reason);
    for (const region of REGIONS) await recordAgreesWithEdge(region);
  });

  it("does not run a file that changed since the release planned it: succeeded, naming it and `cbo release`", {
    timeout: 120_000,
  }, async () => {
    const id = await crashInContract("002_c.sql");
    await appendFile(join(dir, "migrations", "002_c.sql"), "-- edited after the release planned it\n");
    const { release } = await restart(id);
    expect(release.status, release.reason ?? "").toBe("succeeded");
    expect(release.reason).toMatch(
      /contract migrations not run: 002_c\.sql on (eu|us) \(D1 migr\): it changed since the release planned it/,
    );
    expect(release.reason).toContain(`review with cbo plan ${WORKER}, then finish with cbo release ${WORKER}`);
    expect(await table("us")).not.toContain("002_c.sql");
    for (const region of REGIONS) await recordAgreesWithEdge(region);

    // The command it names finishes the job, with the file as it is now.
    const daemon = await startDaemon({
      dataDir: dataDir(),
      configFile: fleet.file,
      port: 0,
      edge: t.edge,
      log: () => {},
      fallbackMasterKeyFile: join(dataDir(), "master.key"),
    });
    try {
      const next = await daemon.engine.wait((await daemon.engine.release(WORKER)).id);
      expect(next.status, next.reason ?? "").toBe("succeeded");
    } finally {
      await daemon.close();
    }
    for (const region of REGIONS) {
      expect(await table(region), region).toContain("002_c.sql");
      await recordAgreesWithEdge(region);
    }
  });

  it("does not run a file that vanished from the project", { timeout: 120_000 }, async () => {
    const id = await crashInContract("003_c.sql");
    await rm(join(dir, "migrations", "003_c.sql"));
    const { release } = await restart(id);
    expect(release.status, release.reason ?? "").toBe("succeeded");
    expect(release.reason).toMatch(/003_c\.sql on (eu|us) \(D1 migr\): it is no longer in the project/);
    expect(await table("us")).not.toContain("003_c.sql");
    for (const region of REGIONS) await recordAgreesWithEdge(region);
  });
});
