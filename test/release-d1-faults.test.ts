// Faults inside a release's D1 migration phase, on a real two-region local edge (its own fault
// injection, as `cbo edge fault` sets it), with a real engine and a real store file:
//   1. the region's API goes down (outage) just as a migration file is sent: the release stops
//      with ERR_CF_UNAVAILABLE (not ERR_D1_MIGRATION: the file is fine), says whether it landed is
//      unknown, no traffic moved, and a release once the region answers applies it once;
//   2. a migration's answer is lost after it committed (the region answers slower than the
//      client's attempt timeout, so the client retries a file that already landed and D1 refuses
//      the copy): the file is journaled applied, not failed, and the release goes on;
//   3. the disk holding the orchestrator's database fills as a file is sent (SQLite's real
//      SQLITE_FULL: the store's connection capped at its file's size, its free pages taken): the
//      file lands, the release stops at its next write that needs room before any traffic moved,
//      ends once there is room with the journal holding what the table holds, and the next
//      release does not send the file again;
//   4. a file's answer lost after it landed, then the region out (the retries and the table read
//      unanswered): the release rolls back but stays unfinished, reading the table again until
//      the region answers, and then journals the file applied, so the journal agrees.
// Each file's SQL logs its own name into a table without a unique key, so "applied once" is read
// from the database itself; the journal of every release must equal the d1_migrations table.
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCloudflareClient } from "../src/cloudflare/index.ts";
import { parseSpec, resolveSpec, type ResolvedSpec } from "../src/config/load.ts";
import { createEngine } from "../src/deploy/index.ts";
import { d1Replay } from "../src/deploy/journal.ts";
import type { Engine } from "../src/deploy/types.ts";
import { createStore, type Release, type Store } from "../src/store/index.ts";
import type { TargetRuntime } from "../src/targets/types.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { httpGet } from "./support/http.ts";
import { edgeInfo, liveOf, fleetYaml } from "./support/orchestrator.ts";
import { schemaNeedingSource } from "./support/worker-source.ts";
import { restoreSummary } from "../src/api/status-view.ts";
import { restoreText } from "../src/cli/format-status.ts";
import { createPaint } from "../src/cli/table.ts";
import { writeInitMigration } from "./support/seed-release.ts";

const REGIONS = ["eu", "us"];
const WORKER = "faulty";
const YAML = fleetYaml({
  regions: REGIONS,
  waves: [["eu"], ["us"]],
  steps: [100],
  gate: { probe_path: "/health", interval_ms: 30, bake_ms: 100, min_samples: 2, failure_limit: 2, timeout_ms: 3000 },
  workers: [WORKER],
  perWorker: { [WORKER]: { d1: { DB: { name: "faulty", migrations_dir: "migrations" } } } },
});
// The client's attempt timeout, and the latency that outlasts it (the answer is lost, the file
// lands); the retry comes a fixed backoff later, well after the first attempt committed.
const ATTEMPT_MS = 1_500;
const LATENCY_MS = 2_000;
const BACKOFF_MS = 2_500;

const source = schemaNeedingSource;
const logged = (name: string, table: string) => `CREATE TABLE ${table} (n INTEGER);\nINSERT INTO applied_log (name) VALUES ('${name}');\n`;

describe("faults inside a D1 migration phase", () => {
  let t: TestEdge;
  let dir: string;
  let store: Store;
  let spec: ResolvedSpec;
  let runtimes: Map<string, TargetRuntime>;
  let engine: Engine;
  const files: string[] = [];
  /** Called as each journal entry is written (the engine's own write), to inject a fault at a moment. */
  let onJournal: (kind: string, target: string | null, data: Record<string, unknown>) => void = () => {};

  const release = async (): Promise<Release> => engine.wait((await engine.release(WORKER, { by: "test" })).id);
  /** A release whose eu fault is cleared once it rolls back (it waits for eu's tables to answer). */
  const releaseHealingOnRollback = async (whileWaiting?: (id: string) => Promise<void>): Promise<Release> => {
    const { id } = await engine.release(WORKER, { by: "test" });
    for (let i = 0; i < 1200; i++) {
      const now = store.releases.get(id)!;
      if (now.status !== "running") break;
      await new Promise((r) => setTimeout(r, 25));
    }
    // Still unfinished here: it reads the unanswered file's table until eu answers.
    expect(store.releases.get(id)!.status).toBe("rolling_back");
    await new Promise((r) => setTimeout(r, 500));
    expect(store.releases.get(id)!.status).toBe("rolling_back");
    await whileWaiting?.(id);
    await t.edge.setFault("eu", null);
    return engine.wait(id);
  };
  const addFile = async (name: string) => {
    await writeFile(join(dir, "migrations", name), logged(name, `t_${name.replace(/\W/g, "_")}`));
    files.push(name);
    await writeFile(join(dir, `${WORKER}.js`), source(name, files));
  };
  const dbId = (target: string) => store.resources.list("default", target).find((r) => r.kind === "d1" && r.name === "faulty")!.resource_id;
  const names = async (target: string, sql: string) =>
    ((await runtimes.get(target)!.client.queryD1(dbId(target), sql))[0]?.results ?? []).map((r) => String((r as { name: unknown }).name));

  /** The journal of every release, the d1_migrations table and the applied log agree, per region. */
  async function agree(target: string): Promise<string[]> {
    const table = await names(target, "SELECT name FROM d1_migrations ORDER BY id");
    const journaled = store.releases.list({ worker: WORKER, limit: 100 }).flatMap((r) =>
      d1Replay(store.releases.entries(r.id))
        .filter((x) => x.target === target)
        .flatMap((x) => x.applied),
    );
    expect([...journaled].sort(), `${target}: journal vs d1_migrations`).toEqual([...table].sort());
    expect((await names(target, "SELECT name FROM applied_log")).sort(), `${target}: each file ran once`).toEqual([...table].sort());
    return table;
  }

  beforeAll(async () => {
    t = await startTestEdge({ regions: REGIONS });
    dir = await makeTempDir("d1-faults");
    await writeInitMigration(dir);
    files.push("000_init.sql");
    await writeFile(join(dir, `${WORKER}.js`), source("seed", files));
    const file = join(dir, "orchestrator.yaml");
    await writeFile(file, YAML);
    spec = resolveSpec(parseSpec(YAML, file), file);
    const info = edgeInfo(t.edge);
    runtimes = new Map(
      REGIONS.map((name) => {
        const region = info.regions.find((r) => r.name === name)!;
        const client = createCloudflareClient({
          baseUrl: info.apiUrl,
          apiToken: info.token,
          accountId: region.accountId,
          timeoutMs: ATTEMPT_MS,
          maxRetries: 2,
          baseDelayMs: BACKOFF_MS,
          maxDelayMs: BACKOFF_MS,
          random: () => 1,
        });
        const runtime: TargetRuntime = {
          name,
          accountId: region.accountId,
          client,
          endpoint: (w: string) => ({ url: `http://127.0.0.1:${region.port}/`, host: `${w}.localhost` }),
        };
        return [name, runtime];
      }),
    );
    store = createStore(join(dir, "orchestrator.sqlite"));
    const journal = store.releases.journal.bind(store.releases);
    store.releases.journal = (id, kind, target, data = {}) => {
      const entry = journal(id, kind, target, data);
      onJournal(kind, target, data);
      return entry;
    };
    store.db.exec("CREATE TABLE test_filler (b BLOB)");
    engine = createEngine({ store, spec: () => spec, targets: () => runtimes, restoreBackoff: { baseMs: 200, maxMs: 500 } });
    const r = await release();
    expect(r.status, r.reason ?? "").toBe("succeeded");
  }, 120_000);
  afterAll(async () => {
    await engine?.close();
    store?.close();
    await t?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("an outage as a file is sent: ERR_CF_UNAVAILABLE naming the file, nothing moved, the retry applies it once", {
    timeout: 120_000,
  }, async () => {
    const before = await Promise.all(REGIONS.map(async (r) => (await liveOf(runtimes.get(r)!, WORKER))[0]!.versionId));
    await addFile("001_a.sql");
    await addFile("001_b.sql");
    let injected = false;
    onJournal = (kind, target, data) => {
      if (kind === "d1.intent" && target === "eu" && data.name === "001_b.sql" && !injected) {
        injected = true;
        void t.edge.setFault("eu", { outage: true });
      }
    };
    const r = await releaseHealingOnRollback();
    onJournal = () => {};
    await t.edge.setFault("eu", null);
    expect(injected).toBe(true);
    expect(r.status, r.reason ?? "").toBe("rolled_back");
    expect(r.reason).toMatch(/ERR_CF_UNAVAILABLE/);
    expect(r.reason).toMatch(/001_b\.sql/);
    expect(r.reason).not.toMatch(/ERR_D1_MIGRATION/);
    expect(r.reason).toMatch(/001_b\.sql on database faulty in eu got no answer: .*unavailable.*whether it landed is unknown/);
    // Not journaled as failed (D1 never refused it): the intent stays unanswered for the table to settle.
    expect(store.releases.entries(r.id).filter((e) => e.kind === "d1.failed")).toEqual([]);
    // Nothing moved: both regions serve what they served.
    for (const [i, region] of REGIONS.entries())
      expect(await liveOf(runtimes.get(region)!, WORKER)).toEqual([{ versionId: before[i], percentage: 100 }]);
    expect(await agree("eu")).toEqual(["000_init.sql", "001_a.sql"]);
    expect(await agree("us")).toEqual(["000_init.sql"]);

    const again = await release();
    expect(again.status, again.reason ?? "").toBe("succeeded");
    for (const region of REGIONS) {
      expect(await agree(region)).toEqual(["000_init.sql", "001_a.sql", "001_b.sql"]);
      const res = await httpGet(t.edge.region(region).port, `${WORKER}.localhost`, { path: "/" });
      expect(JSON.parse(res.body)).toMatchObject({ ok: true });
    }
  });

  it("a migration whose answer is lost after it landed is journaled applied, and the release goes on", { timeout: 120_000 }, async () => {
    await addFile("002_a.sql");
    const eu = t.edge.region("eu");
    let injected = false;
    onJournal = (kind, target, data) => {
      if (kind === "d1.intent" && target === "eu" && data.name === "002_a.sql" && !injected) {
        injected = true;
        // Slow only the first attempt: the fault is cleared once the edge has taken that request.
        const seen = t.edge.apiRequestCount(eu.accountId);
        void t.edge.setFault("eu", { latencyMs: LATENCY_MS });
        const timer = setInterval(() => {
          if (t.edge.apiRequestCount(eu.accountId) > seen) {
            clearInterval(timer);
            void t.edge.setFault("eu", null);
          }
        }, 5);
      }
    };
    const r = await release();
    onJournal = () => {};
    await t.edge.setFault("eu", null);
    expect(injected).toBe(true);
    expect(r.status, r.reason ?? "").toBe("succeeded");
    const entries = store.releases.entries(r.id);
    expect(entries.filter((e) => e.kind === "d1.failed")).toEqual([]);
    expect(entries.find((e) => e.kind === "d1.applied" && e.target === "eu" && e.data.name === "002_a.sql")).toBeDefined();
    for (const region of REGIONS) expect(await agree(region)).toEqual(["000_init.sql", "001_a.sql", "001_b.sql", "002_a.sql"]);
  });

  it("the disk fills as a file is sent: the release ends once there is room, its journal holding what the table holds", {
    timeout: 120_000,
  }, async () => {
    /** Caps the file at its size and takes every free page: SQLITE_FULL from here, as on a full disk. */
    const fillDisk = () => {
      store.db.exec("PRAGMA max_page_count = 1");
      const insert = store.db.prepare("INSERT INTO test_filler (b) VALUES (zeroblob(?))");
      for (const size of [65_536, 4_096, 1_024, 256, 64, 16, 1]) {
        for (;;) {
          try {
            insert.run(size);
          } catch (e) {
            expect(String(e)).toMatch(/database or disk is full|ERR_DISK_FULL/);
            break;
          }
        }
      }
    };
    const makeRoom = () => {
      store.db.exec("PRAGMA max_page_count = 1073741823");
      store.db.exec("DELETE FROM test_filler");
    };
    await addFile("003_a.sql");
    let injected = false;
    onJournal = (kind, target, data) => {
      if (kind === "d1.intent" && target === "eu" && data.name === "003_a.sql" && !injected) {
        injected = true;
        fillDisk();
        setTimeout(makeRoom, 1_500);
      }
    };
    const r = await release();
    onJournal = () => {};
    expect(injected).toBe(true);
    expect(r.status, r.reason ?? "").toBe("rolled_back");
    expect(r.reason).toMatch(/database or disk is full|ERR_DISK_FULL/);
    expect(await agree("eu")).toContain("003_a.sql");
    expect(await agree("us")).not.toContain("003_a.sql");
    const again = await release();
    expect(again.status, again.reason ?? "").toBe("succeeded");
    for (const region of REGIONS) expect(await agree(region)).toContain("003_a.sql");
  });

  it("an answer lost after the file landed while the table cannot be read: the release ends only once it can, journaling the file", {
    timeout: 120_000,
  }, async () => {
    await addFile("004_a.sql");
    const eu = t.edge.region("eu");
    let injected = false;
    onJournal = (kind, target, data) => {
      if (kind === "d1.intent" && target === "eu" && data.name === "004_a.sql" && !injected) {
        injected = true;
        // The first attempt slowed past the client's timeout (it lands); then the region goes out,
        // so the retries and the table read get no answer.
        const seen = t.edge.apiRequestCount(eu.accountId);
        void t.edge.setFault("eu", { latencyMs: LATENCY_MS });
        const timer = setInterval(() => {
          if (t.edge.apiRequestCount(eu.accountId) > seen) {
            clearInterval(timer);
            void t.edge.setFault("eu", { outage: true });
          }
        }, 5);
      }
    };
    // While it waits, the wait is where an operator looks: the target's restore in `cbo status`
    // (/v1/status), and a phase with its reason in the release's journal (GET /v1/releases/:id).
    let shown = "";
    const r = await releaseHealingOnRollback(async (id) => {
      // The first read of the table takes the client's attempts before it says it cannot.
      const pendingOf = () => engine.restores().find((p) => p.releaseId === id && p.target === "eu");
      for (let i = 0; i < 600 && !pendingOf(); i++) await new Promise((r) => setTimeout(r, 50));
      const pending = pendingOf();
      expect(pending?.waitingFor).toBe("D1 faulty: whether 004_a.sql landed (its migrations table cannot be read yet)");
      expect(pending?.lastError).toMatch(/^ERR_CF_UNAVAILABLE/);
      shown = restoreText(WORKER, "eu", restoreSummary(pending!), createPaint(false));
      const phase = store.releases.entries(id).find((e) => e.kind === "phase.intent" && e.data.phase === "rollback-d1-wait");
      expect(phase?.target).toBe("eu");
      expect(phase?.data).toMatchObject({ database: "faulty", files: ["004_a.sql"], reason: pending!.waitingFor });
      expect(store.events.list({ releaseId: id }).some((e) => e.type === "release.restore.pending" && e.target === "eu")).toBe(true);
    });
    onJournal = () => {};
    expect(injected).toBe(true);
    expect(shown).toMatch(
      new RegExp(
        `^  ${WORKER}/eu  rollback waits for D1 faulty: whether 004_a\\.sql landed \\(its migrations table cannot be read yet\\) for release ${r.id}: \\d+ attempts? since`,
      ),
    );
    expect(r.status, r.reason ?? "").toBe("rolled_back");
    expect(r.reason).toMatch(/004_a\.sql on database faulty in eu got no answer/);
    // Read at last: the wait is over everywhere.
    expect(engine.restores().filter((p) => p.releaseId === r.id)).toEqual([]);
    expect(store.releases.entries(r.id).some((e) => e.kind === "phase.done" && e.data.phase === "rollback-d1-wait")).toBe(true);
    const applied = store.releases.entries(r.id).find((e) => e.kind === "d1.applied" && e.data.name === "004_a.sql");
    expect(applied?.data).toMatchObject({ recovery: true });
    expect(await agree("eu")).toContain("004_a.sql");
    const again = await release();
    expect(again.status, again.reason ?? "").toBe("succeeded");
    for (const region of REGIONS) expect(await agree(region)).toContain("004_a.sql");
  });
  it("an abort during an expand migration stops the phase before its next file: aborted, no traffic shifted, and the reason names the schema it leaves", {
    timeout: 120_000,
  }, async () => {
    const before = await Promise.all(REGIONS.map(async (r) => (await liveOf(runtimes.get(r)!, WORKER))[0]!.versionId));
    await addFile("005_a.sql");
    await addFile("005_b.sql");
    let aborting: Promise<Release> | undefined;
    onJournal = (kind, target, data) => {
      if (kind === "d1.intent" && target === "eu" && data.name === "005_a.sql" && !aborting) {
        const id = store.releases.unfinished().find((x) => x.worker === WORKER)!.id;
        aborting = engine.abort(id, { by: "ops", reason: "wrong migration" });
      }
    };
    const { id } = await engine.release(WORKER, { by: "test" });
    const r = await engine.wait(id);
    onJournal = () => {};
    expect(aborting).toBeDefined();
    expect((await aborting)!.status).toBe("aborted");
    expect(r.status, r.reason ?? "").toBe("aborted");
    // The file under way landed (a file is never cut in half); the next one was never sent.
    const entries = store.releases.entries(r.id);
    expect(entries.filter((e) => e.kind === "d1.intent").map((e) => e.data.name)).toEqual(["005_a.sql"]);
    expect(entries.find((e) => e.kind === "phase.done" && e.data.phase === "d1-migrations")?.data).toMatchObject({
      applied: ["005_a.sql"],
      stopped: true,
    });
    expect(r.reason).toBe(
      `aborted by ops: wrong migration; no traffic was shifted; code untouched: eu, us; D1 schema stays as migrated (migrations are forward only; cbo d1 restore <binding> --target <target> --to-release ${r.id} undoes them): eu D1 faulty 005_a.sql`,
    );
    for (const [i, region] of REGIONS.entries())
      expect(await liveOf(runtimes.get(region)!, WORKER)).toEqual([{ versionId: before[i], percentage: 100 }]);
    expect((await agree("eu")).slice(-1)).toEqual(["005_a.sql"]);

    const again = await release();
    expect(again.status, again.reason ?? "").toBe("succeeded");
    for (const region of REGIONS) expect((await agree(region)).slice(-2)).toEqual(["005_a.sql", "005_b.sql"]);
  });
  it("an abort once every target passed its last step is refused (the contract migrations cannot be undone), and the release ends succeeded", {
    timeout: 120_000,
  }, async () => {
    const name = "006_contract.sql";
    await writeFile(join(dir, "migrations", name), `-- cbo:contract\n${logged(name, "t_006_contract")}`);
    // The code does not need a contract file (it runs before it): the gates pass without it.
    await writeFile(join(dir, `${WORKER}.js`), source(name, [...files]));
    files.push(name);
    let refused: unknown;
    onJournal = (kind, target, data) => {
      if (kind === "phase.intent" && target === "eu" && data.phase === "d1-contract" && refused === undefined) {
        const id = store.releases.unfinished().find((x) => x.worker === WORKER)!.id;
        refused = null;
        engine.abort(id, { by: "ops" }).then(
          () => (refused = "accepted"),
          (e: unknown) => (refused = e),
        );
      }
    };
    const r = await release();
    onJournal = () => {};
    expect(r.status, r.reason ?? "").toBe("succeeded");
    expect(refused).toMatchObject({
      code: "ERR_CONFLICT",
      message: `Release ${r.id} passed every step on every target and is finishing (its D1 contract migrations): it can no longer be rolled back.`,
    });
    for (const region of REGIONS) expect((await agree(region)).at(-1)).toBe(name);
  });
});
