// A disk that fills during a release (issue 11, item 8, the release's part), on the real daemon and
// a real three-region local edge. The daemon's own SQLite connection is capped at the size its
// file has (`PRAGMA max_page_count`) and its free pages filled, the moment eu's 50% step is
// deployed: from there every write that needs a page fails with SQLite's real SQLITE_FULL
// ("database or disk is full"), as on a full disk. The release must stop shifting traffic (nothing
// moves on the edge that the journal does not announce), must not end while its rollback cannot
// be journaled, and must finish that rollback once there is room again: every region on exactly
// one version, the release rolled_back.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDaemon, type Daemon } from "../src/daemon.ts";
import { replay } from "../src/deploy/index.ts";
import type { TargetRuntime } from "../src/targets/types.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { eventually } from "./support/http.ts";
import { edgeInfo, fleetYaml, liveOf, localRuntimes, servedTags, versionSource, writeFleet, type Fleet } from "./support/orchestrator.ts";

const REGIONS = ["eu", "us", "ap"];
const GATE = { interval_ms: 50, bake_ms: 1500, min_samples: 5, failure_limit: 3, max_error_rate: 0.05, timeout_ms: 1000 };
const WORKER = "full";
/** SQLite's own words, or the named error the store gives them (ERR_DISK_FULL). */
const FULL = /database or disk is full|ERR_DISK_FULL/;

type Split = Array<{ versionId: string; percentage: number }>;
const same = (a: Split, b: Split) =>
  JSON.stringify([...a].sort((x, y) => x.versionId.localeCompare(y.versionId))) ===
  JSON.stringify([...b].sort((x, y) => x.versionId.localeCompare(y.versionId)));

describe("a disk that fills during a release", () => {
  let t: TestEdge;
  let dir: string;
  let fleet: Fleet;
  let runtimes: Map<string, TargetRuntime>;
  let daemon: Daemon;
  const logs: string[] = [];

  beforeAll(async () => {
    t = await startTestEdge({ regions: REGIONS });
    dir = await makeTempDir("diskfull");
    fleet = await writeFleet(dir, fleetYaml({ workers: [WORKER], steps: [50, 100], waves: [["eu"], ["us", "ap"]], gate: GATE }), {
      [WORKER]: versionSource("v0"),
    });
    runtimes = localRuntimes(edgeInfo(t.edge), fleet.spec);
    daemon = await startDaemon({
      dataDir: join(dir, "data"),
      configFile: fleet.file,
      port: 0,
      edge: t.edge,
      fallbackMasterKeyFile: join(dir, "data", "master.key"),
      monitorIntervalMs: 500,
      restoreBackoff: { baseMs: 200, maxMs: 1_000 },
      log: (l) => logs.push(l),
    });
    // What will fill the disk: created while there is room (a table needs a page of its own).
    daemon.store.db.exec("CREATE TABLE test_filler (b BLOB)");
  }, 60_000);
  afterAll(async () => {
    await daemon?.close();
    await t?.dispose();
  });

  /** Caps the file at its size and takes every free byte the filler can reach: SQLITE_FULL from here. */
  function fillDisk(): void {
    const db = daemon.store.db;
    db.exec("PRAGMA max_page_count = 1"); // cannot go below the file's size: it stops growing here
    const insert = db.prepare("INSERT INTO test_filler (b) VALUES (zeroblob(?))");
    for (const size of [65_536, 4_096, 1_024, 256, 64, 16, 1]) {
      for (;;) {
        try {
          insert.run(size);
        } catch (e) {
          expect(String(e)).toMatch(FULL);
          break;
        }
      }
    }
  }
  function makeRoom(): void {
    daemon.store.db.exec("PRAGMA max_page_count = 1073741823");
    daemon.store.db.exec("DELETE FROM test_filler");
  }

  it("stops shifting traffic, keeps the release open while its rollback cannot be journaled, and finishes it when there is room", {
    timeout: 120_000,
  }, async () => {
    await fleet.setSource(WORKER, versionSource("v1"));
    const seed = await daemon.engine.wait((await daemon.engine.release(WORKER)).id);
    expect(seed.status, seed.reason ?? "").toBe("succeeded");
    const v1 = Object.fromEntries(
      await Promise.all(REGIONS.map(async (r) => [r, (await liveOf(runtimes.get(r)!, WORKER))[0]!.versionId] as const)),
    );

    await fleet.setSource(WORKER, versionSource("v2"));
    let id = "";
    let full: Promise<void> | undefined;
    const off = daemon.store.events.subscribe((e) => {
      if (!full && e.release_id === id && e.type === "release.step.started" && e.target === "eu" && e.data.percent === 50)
        full = new Promise((r) => setImmediate(() => r(fillDisk())));
    });
    let ended = false;
    try {
      id = (await daemon.engine.release(WORKER, { by: "test" })).id;
      void daemon.engine.wait(id).then(() => (ended = true));
      await eventually(async () => full ?? Promise.reject(new Error("eu 50% not deployed yet")), 30_000);
      await full;

      // While the disk is full: the release stops, but does not end (its rollback is owed).
      await eventually(
        async () => (logs.some((l) => l.includes(id) && FULL.test(l)) ? true : Promise.reject(new Error("no write refused yet"))),
        15_000,
      );
      await new Promise((r) => setTimeout(r, 4_000));
      expect(ended, "the release ended while nothing could be recorded").toBe(false);
      expect(["running", "rolling_back"]).toContain(daemon.store.releases.get(id)!.status);
      // Nothing moved on the edge that the journal did not announce first, in any region.
      const journal = daemon.store.releases.entries(id);
      for (const region of REGIONS) {
        const announced: Split[] = [
          [{ versionId: v1[region]!, percentage: 100 }],
          ...journal.filter((e) => e.target === region && e.kind === "step.intent").map((e) => e.data.split as Split),
          ...journal
            .filter((e) => e.target === region && e.kind === "rollback.intent")
            .map((e) => [{ versionId: e.data.versionId as string, percentage: 100 }]),
        ];
        const live = await liveOf(runtimes.get(region)!, WORKER);
        expect(
          announced.some((s) => same(s, live)),
          `${region} serves ${JSON.stringify(live)}; the journal announced ${JSON.stringify(announced)}`,
        ).toBe(true);
      }
    } finally {
      off();
      makeRoom();
    }

    // Room again: the owed rollback lands, is journaled, and the release ends.
    const r = await daemon.engine.wait(id);
    expect(r.status, r.reason ?? "").toBe("rolled_back");
    expect(r.reason).toMatch(/could not record /);
    expect(r.reason).toMatch(FULL);
    for (const region of REGIONS) {
      expect(await liveOf(runtimes.get(region)!, WORKER), region).toEqual([{ versionId: v1[region], percentage: 100 }]);
      expect(await servedTags(t.edge.region(region).port, WORKER, 10), region).toEqual(new Set(["v1"]));
    }
    const eu = replay(daemon.store.releases.entries(id)).get("eu")!;
    expect(eu.rollbackDone, "eu's rollback is in the journal").toBe(true);
    expect(eu.rolledBackTo).toBe(v1.eu);
    expect(daemon.store.releases.entries(id).at(-1)).toMatchObject({ kind: "finished", data: { status: "rolled_back" } });
    expect(daemon.engine.restores()).toEqual([]);
  });
});
