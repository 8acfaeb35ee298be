// kill -9 of the daemon (a real child process, test/support/migration-child.ts) during a release
// that carries a Durable Object migration (non-gradual: the script PUT serves it at 100% at once),
// at exact moments: just before the upload is journaled sent (nothing on the edge yet) and just
// after the PUT landed but before its answer was journaled (the migration applied, its record
// never written). The restarted daemon recovers: the release ends (nothing left unfinished, no
// restore retried for ever), a target the migration reached keeps the new code (Cloudflare deploys
// nothing from before a Durable Object migration, 10238), the others serve what they served, the
// objects' stored state is intact, and the record names what each target serves. And without a
// kill: the PUT's answer lost (the region slower than the client's attempt timeout) while its
// migration landed: the release's own rollback keeps the new code instead of asking Cloudflare for
// a deployment it refuses for good (10238).
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCloudflareClient } from "../src/cloudflare/index.ts";
import { parseSpec, resolveSpec } from "../src/config/load.ts";
import { startDaemon } from "../src/daemon.ts";
import { createEngine } from "../src/deploy/index.ts";
import { createStore } from "../src/store/index.ts";
import type { TargetRuntime } from "../src/targets/types.ts";
import { releaseOnce } from "./support/seed-release.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { httpGet } from "./support/http.ts";
import { countingObjectsSource } from "./support/worker-source.ts";
import { edgeInfo, liveOf, localRuntimes, writeFleet, type EdgeInfo, type Fleet, fleetYaml } from "./support/orchestrator.ts";
import { runMigrationChild } from "./support/run-migration-child.ts";

const REGIONS = ["eu", "us"];
const WORKER = "counter";
const yaml = (classes: Record<string, string>, migrations: unknown[]) =>
  fleetYaml({
    regions: REGIONS,
    waves: [["eu"], ["us"]],
    steps: [100],
    gate: { probe_path: "/health", interval_ms: 30, bake_ms: 100, min_samples: 2, failure_limit: 2, timeout_ms: 3000 },
    rollout: { allow_non_gradual: true },
    workers: [WORKER],
    perWorker: { [WORKER]: { durable_objects: classes, migrations } },
  });
describe("kill -9 during a release that carries a Durable Object migration", () => {
  let t: TestEdge;
  let info: EdgeInfo;
  let runtimes: Map<string, TargetRuntime>;

  beforeAll(async () => {
    t = await startTestEdge({ regions: REGIONS });
    info = edgeInfo(t.edge);
  }, 60_000);
  const dirs: string[] = [];
  const tempDir = async (prefix: string) => {
    const d = await makeTempDir(prefix);
    dirs.push(d);
    return d;
  };
  afterAll(async () => {
    await t?.dispose();
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  const count = async (region: string) => {
    const r = await httpGet(t.edge.region(region).port, `${WORKER}.localhost`, { path: "/count" });
    expect(r.status, r.body).toBe(200);
    return JSON.parse(r.body) as { v: string; n: number };
  };

  for (const moment of [
    { kind: "upload.intent", landed: false, why: "before the PUT is sent" },
    { kind: "uploaded", landed: true, why: "after the PUT landed, before its answer is journaled" },
  ]) {
    it(`killed ${moment.why} on eu: the release ends, eu ${moment.landed ? "keeps the migrated code" : "serves what it served"}, us untouched`, {
      timeout: 120_000,
    }, async () => {
      const dir = await tempDir("do-crash");
      const dataDir = join(dir, "data");
      const storeFile = join(dataDir, "orchestrator.sqlite");
      await mkdir(dataDir, { recursive: true });
      const worker = `${WORKER}`;
      // Each case on its own script state: the seed deploys v1 (one class) to both regions.
      for (const region of REGIONS) await t.edge.setFault(region, null);
      const fleet: Fleet = await writeFleet(dir, yaml({ COUNTER: "Counter" }, [{ tag: "v1", new_sqlite_classes: ["Counter"] }]), {
        [worker]: countingObjectsSource(`v1-${moment.kind}`, ["Counter"]),
      });
      runtimes = localRuntimes(info, fleet.spec);
      const seed = await releaseOnce(storeFile, fleet.spec, runtimes, worker);
      expect(seed.status, seed.reason ?? "").toBe("succeeded");
      const before = Object.fromEntries(
        await Promise.all(REGIONS.map(async (r) => [r, (await liveOf(runtimes.get(r)!, worker))[0]!.versionId] as const)),
      );
      const stored = (await count("eu")).n;

      // v2 adds a class: a non-gradual release.
      await writeFile(
        fleet.file,
        yaml({ COUNTER: "Counter", LIMITER: "Limiter" }, [
          { tag: "v1", new_sqlite_classes: ["Counter"] },
          { tag: "v2", new_sqlite_classes: ["Limiter"] },
        ]),
      );
      await fleet.setSource(worker, countingObjectsSource(`v2-${moment.kind}`, ["Counter", "Limiter"]));
      const child = await runMigrationChild(info, fleet.file, storeFile, worker, { killAt: { kind: moment.kind, target: "eu" } });
      const exit = await child.exited;
      expect(exit.signal).toBe("SIGKILL");

      const daemon = await startDaemon({
        dataDir,
        configFile: fleet.file,
        port: 0,
        edge: t.edge,
        log: () => {},
        fallbackMasterKeyFile: join(dataDir, "master.key"),
      });
      // Recovery ends the release (startDaemon waits for it unless a restore is owed: none may be).
      const record = await daemon.engine.wait(child.id);
      await daemon.close();
      const store = createStore(storeFile);
      try {
        expect(store.releases.unfinished()).toEqual([]);
        // A target kept on the new code ends the release `failed`, as the release's own rollback
        // does: `rolled_back` would promise eu serves what it served before.
        expect(record.status, record.reason ?? "").toBe(moment.landed ? "failed" : "rolled_back");
        const recovered = store.releases.entries(child.id).find((e) => e.kind === "recovered");
        expect(recovered?.data.status).toBe(record.status);
        const eu = await liveOf(runtimes.get("eu")!, worker);
        expect(eu).toHaveLength(1);
        expect(eu[0]!.percentage).toBe(100);
        const now = await count("eu");
        if (moment.landed) {
          expect(eu[0]!.versionId).not.toBe(before.eu);
          expect(now.v).toBe(`v2-${moment.kind}`);
          expect(record.reason).toMatch(
            /not rolled back where the new code stays \(eu\): eu keeps .*Durable Object migration to v2 landed/,
          );
        } else {
          expect(eu[0]!.versionId).toBe(before.eu);
          expect(now.v).toBe(`v1-${moment.kind}`);
        }
        // The objects' state survived whatever code serves.
        expect(now.n).toBe(stored + 1);
        expect(await liveOf(runtimes.get("us")!, worker)).toEqual([{ versionId: before.us, percentage: 100 }]);
      } finally {
        store.close();
      }
    });
  }

  it("the PUT's answer lost after its migration landed: the release keeps the new code there, no rollback is tried", {
    timeout: 120_000,
  }, async () => {
    const dir = await tempDir("do-lost");
    const worker = "lost";
    const v1 = yaml({ COUNTER: "Counter" }, [{ tag: "v1", new_sqlite_classes: ["Counter"] }]).replaceAll(WORKER, worker);
    const fleet = await writeFleet(dir, v1, { [worker]: countingObjectsSource("v1", ["Counter"]) });
    // Attempts time out after 1.5 s; the edge answers the first PUT after 2 s (it lands), and the
    // retry comes 2.5 s later, when the script already carries the migration (and is refused).
    const lost = new Map(
      REGIONS.map((name) => {
        const region = info.regions.find((r) => r.name === name)!;
        const client = createCloudflareClient({
          baseUrl: info.apiUrl,
          apiToken: info.token,
          accountId: region.accountId,
          timeoutMs: 1_500,
          maxRetries: 2,
          baseDelayMs: 2_500,
          maxDelayMs: 2_500,
          random: () => 1,
        });
        const runtime: TargetRuntime = {
          name,
          accountId: region.accountId,
          client,
          endpoint: (w: string) => ({ url: `http://127.0.0.1:${region.port}/`, host: `${w}.localhost` }),
        };
        return [name, runtime] as const;
      }),
    );
    const store = createStore(join(dir, "orchestrator.sqlite"));
    let spec = fleet.spec;
    const engine = createEngine({ store, spec: () => spec, targets: () => lost });
    try {
      const seed = await engine.wait((await engine.release(worker)).id);
      expect(seed.status, seed.reason ?? "").toBe("succeeded");
      const before = (await liveOf(lost.get("us")!, worker))[0]!.versionId;
      const v2 = yaml({ COUNTER: "Counter", LIMITER: "Limiter" }, [
        { tag: "v1", new_sqlite_classes: ["Counter"] },
        { tag: "v2", new_sqlite_classes: ["Limiter"] },
      ]).replaceAll(WORKER, worker);
      await writeFile(fleet.file, v2);
      spec = resolveSpec(parseSpec(v2, fleet.file), fleet.file);
      await fleet.setSource(worker, countingObjectsSource("v2", ["Counter", "Limiter"]));
      const eu = t.edge.region("eu");
      const journal = store.releases.journal.bind(store.releases);
      let injected = false;
      store.releases.journal = (id, kind, target, data = {}) => {
        const entry = journal(id, kind, target, data);
        if (kind === "upload.intent" && target === "eu" && !injected) {
          injected = true;
          // Slow only the PUT's first attempt: cleared once the edge has taken that request.
          const seen = t.edge.apiRequestCount(eu.accountId);
          void t.edge.setFault("eu", { latencyMs: 2_000 });
          const timer = setInterval(() => {
            if (t.edge.apiRequestCount(eu.accountId) > seen) {
              clearInterval(timer);
              void t.edge.setFault("eu", null);
            }
          }, 5);
        }
        return entry;
      };
      const r = await engine.wait((await engine.release(worker)).id);
      await t.edge.setFault("eu", null);
      expect(injected).toBe(true);
      // A target kept on the new code: the release cannot say every target is back (failed, as documented).
      expect(r.status, r.reason ?? "").toBe("failed");
      expect(r.reason).toMatch(/eu stays on .*landed though its answer was lost/);
      expect(r.reason).not.toMatch(/10238/);
      expect(store.releases.entries(r.id).filter((e) => e.kind === "rollback.intent" && e.target === "eu")).toEqual([]);
      const now = await httpGet(eu.port, `${worker}.localhost`, { path: "/" });
      expect(JSON.parse(now.body)).toMatchObject({ v: "v2" });
      expect(await liveOf(lost.get("us")!, worker)).toEqual([{ versionId: before, percentage: 100 }]);
    } finally {
      await engine.close();
      store.close();
    }
  });
});
