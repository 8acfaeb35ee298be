// kill -9 at 20 random moments of a release. The real daemon runs in a child process
// (test/support/release-child.ts) against a real 3-region local edge; after each SIGKILL the
// daemon is started again on the same data directory and recovers, and then every region must serve exactly one
// version at 100%, the one the release record says, for the reason it gives.
import { spawn } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { replay } from "../src/deploy/index.ts";
import type { ReleasePlan } from "../src/deploy/types.ts";
import type { TargetRuntime } from "../src/targets/types.ts";
import { createStore } from "../src/store/index.ts";
import { releaseOnce, restartDaemon } from "./support/seed-release.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import {
  edgeInfo,
  fleetYaml,
  liveOf,
  localRuntimes,
  versionSource,
  writeFleet,
  type EdgeInfo,
  type Fleet,
} from "./support/orchestrator.ts";

const REGIONS = ["eu", "us", "ap"];
const WORKER = "crashy";
const KILLS = 20;
const CHILD = fileURLToPath(new URL("./support/release-child.ts", import.meta.url));
const GATE = { interval_ms: 30, bake_ms: 150, min_samples: 3, failure_limit: 2, max_error_rate: 0.05, timeout_ms: 2000 };

type ChildRun = {
  id: string;
  startedAt: number;
  exited: Promise<{ code: number | null; signal: string | null }>;
  done: Promise<number>;
  kill(): void;
  stderr(): string;
};

function runChild(info: EdgeInfo, specFile: string, storeFile: string): Promise<ChildRun> {
  const child = spawn(process.execPath, [CHILD], {
    env: { ...process.env, CBO_TEST_CHILD: JSON.stringify({ edge: info, specFile, storeFile, worker: WORKER }) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr.on("data", (c: Buffer) => (err = (err + c.toString()).slice(-4000)));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  const lines = createInterface({ input: child.stdout });
  let onDone: (t: number) => void = () => {};
  const done = new Promise<number>((resolve) => (onDone = resolve));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the child did not start a release in 30 s: ${err}`)), 30_000);
    lines.on("line", (line) => {
      const msg = JSON.parse(line) as { started?: string; done?: string };
      if (msg.started) {
        clearTimeout(timer);
        resolve({ id: msg.started, startedAt: performance.now(), exited, done, kill: () => child.kill("SIGKILL"), stderr: () => err });
      }
      if (msg.done) onDone(performance.now());
    });
    void exited.then((x) => {
      clearTimeout(timer);
      reject(new Error(`the child exited (${x.code ?? x.signal}) before starting a release: ${err}`));
    });
  });
}

describe("kill -9 during a release", () => {
  let t: TestEdge;
  let dir: string;
  let fleet: Fleet;
  let runtimes: Map<string, TargetRuntime>;
  let info: EdgeInfo;
  let storeFile: string;

  beforeAll(async () => {
    t = await startTestEdge({ regions: REGIONS });
    dir = await makeTempDir("crash");
    storeFile = join(dir, "data", "orchestrator.sqlite");
    await mkdir(join(dir, "data"), { recursive: true });
    fleet = await writeFleet(dir, fleetYaml({ workers: [WORKER], steps: [50, 100], gate: GATE }), { [WORKER]: versionSource("seed") });
    info = edgeInfo(t.edge);
    runtimes = localRuntimes(info, fleet.spec);
    // Seed: the first release creates the Worker in every region.
    const r = await releaseOnce(storeFile, fleet.spec, runtimes, WORKER);
    expect(r.status, r.reason ?? "").toBe("succeeded");
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it(`after each of ${KILLS} SIGKILLs, recovery leaves every region on exactly one version at 100%, the one the record names`, {
    timeout: 180_000,
  }, async () => {
    // How long a whole release takes in a child, to spread the kills over it.
    await fleet.setSource(WORKER, versionSource("calibrate"));
    const cal = await runChild(info, fleet.file, storeFile);
    const duration = (await cal.done) - cal.startedAt;
    await cal.exited;
    expect(duration).toBeGreaterThan(0);

    let recovered = 0;
    for (let i = 0; i < KILLS; i++) {
      // Every fourth version is broken, so that kills also land while a release rolls back.
      const bad = i % 4 === 3;
      await fleet.setSource(WORKER, versionSource(`c${i}`, bad ? { failRate: 1 } : {}));
      const child = await runChild(info, fleet.file, storeFile);
      const delay = Math.random() * duration * 1.1;
      await new Promise((r) => setTimeout(r, delay));
      child.kill();
      const exit = await child.exited;

      let store = createStore(storeFile);
      try {
        const wasUnfinished = store.releases.unfinished().some((r) => r.id === child.id);
        store.close();
        // Restarting the daemon is what recovers: startDaemon runs engine.recover() before serving.
        const daemon = await restartDaemon(dir, fleet.file, t.edge);
        await daemon.close();
        store = createStore(storeFile);
        if (wasUnfinished) recovered++;

        const record = store.releases.get(child.id)!;
        const where = `kill ${i} after ${delay.toFixed(0)} ms (${exit.signal ?? exit.code}, ${wasUnfinished ? "mid-release" : "after it ended"}): ${record.status}: ${record.reason}`;
        expect(["succeeded", "rolled_back"], where).toContain(record.status);
        expect(record.reason, where).toBeTruthy();
        expect(store.releases.unfinished(), where).toEqual([]);

        const plan = record.plan as unknown as ReleasePlan;
        const journal = replay(store.releases.entries(record.id));
        for (const region of REGIONS) {
          const live = await liveOf(runtimes.get(region)!, WORKER);
          expect(live, `${where}; ${region} serves one version at 100%`).toHaveLength(1);
          expect(live[0]!.percentage, where).toBe(100);
          const expected =
            record.status === "succeeded" ? journal.get(region)!.versionId : plan.targets.find((x) => x.name === region)!.previousVersionId;
          expect(live[0]!.versionId, `${where}; ${region}`).toBe(expected);
          // The record says which version each region serves after a recovery, and each touched
          // one after a rollback.
          const touched = journal.get(region)?.stepIntent ?? false;
          if (wasUnfinished && record.status === "rolled_back") expect(record.reason, `${where}; ${region}`).toContain(live[0]!.versionId);
          if (!wasUnfinished && record.status === "rolled_back" && touched)
            expect(record.reason, `${where}; ${region}`).toContain(live[0]!.versionId);
        }
        if (wasUnfinished) {
          expect(record.reason, where).toMatch(/^(.*; )?daemon restarted/);
          expect(
            store.events.list({ releaseId: record.id }).some((e) => e.type === "release.recovered"),
            where,
          ).toBe(true);
        }
      } finally {
        store.close();
      }
    }
    // Most kills must land inside the release, or the loop tests nothing.
    expect(recovered).toBeGreaterThanOrEqual(KILLS / 4);
  });
});
