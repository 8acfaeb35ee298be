// The audit log (src/audit), issue 4's figures:
//   audit.durable_appends_per_s — durable appends with group commit: the store's own connection with
//     PRAGMA synchronous=FULL (in WAL mode every commit is fsynced), entries appended through
//     appendMany in transactions of 1,000 (validation, details guard, hashing and insert included);
//     goal >= 50,000/s.
//   audit.verify_1m_s — `cbo audit verify`'s offline path (verifyDatabase: the SQLite file opened
//     read-only, every entry re-hashed and linked, Merkle roots and signatures of the checkpoints
//     checked) over 1,000,000 entries with a signed checkpoint every 100,000; goal <= 2 s. The
//     intact log takes the parallel pass (src/audit/verify-stored.ts; `path` says which ran);
//     audit.verify_1m_sequential_s is the sequential verifier alone on the same file, for comparison.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAuditLog, generateEd25519Signer, type NewAuditEntry } from "../src/audit/index.ts";
import { verifyDatabase } from "../src/cli/offline/audit-verify-db.ts";
import { createStore } from "../src/store/index.ts";
import { atLeast, atMost, info, median, round, type Benchmark, type BenchContext, type BenchResult } from "./types.ts";
import { silentLogger } from "../src/telemetry/index.ts";

const BATCH = 1_000;

/** A realistic entry: the shape the API appends for a secret write. */
const entry = (i: number): NewAuditEntry => ({
  actor: `token:deploy-bot#tk_${i % 16}`,
  action: i % 2 ? "secret.put" : "release.create",
  target: `secret:API_KEY_${i % 100}`,
  outcome: "ok",
  details: { version: i, valueHash: "ab".repeat(32), route: "PUT /v1/secrets/:name" },
});

async function withLog<T>(
  prefix: string,
  fn: (o: {
    dir: string;
    store: ReturnType<typeof createStore>;
    log: ReturnType<typeof createAuditLog>;
    publicKey: Uint8Array;
  }) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const signer = await generateEd25519Signer();
  const store = createStore(join(dir, "orchestrator.sqlite"));
  // Checkpoints only where the benchmark takes them.
  const log = createAuditLog({
    db: store.db,
    signer,
    log: silentLogger,
    checkpointEvery: { entries: Number.MAX_SAFE_INTEGER, ms: 3_600_000 },
  });
  try {
    return await fn({ dir, store, log, publicKey: signer.publicKey });
  } finally {
    await log.stop({ checkpoint: false });
    store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function durableAppends(ctx: BenchContext): Promise<BenchResult[]> {
  const TOTAL = 200_000;
  return withLog("cbo-bench-audit-append-", async ({ store, log }) => {
    store.db.exec("PRAGMA synchronous=FULL");
    const mode = (store.db.prepare("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode;
    const sync = (store.db.prepare("PRAGMA synchronous").get() as { synchronous: number }).synchronous;
    const batches = Array.from({ length: TOTAL / BATCH }, (_, b) => Array.from({ length: BATCH }, (_, k) => entry(b * BATCH + k)));
    log.appendMany(batches[0]!.slice(0, 10)); // warm-up: statements prepared, pages cached
    const started = performance.now();
    for (const batch of batches) log.appendMany(batch);
    const seconds = (performance.now() - started) / 1000;
    ctx.log(`appended ${TOTAL} in ${seconds.toFixed(2)} s (journal_mode=${mode}, synchronous=${sync})`);
    return [
      atLeast("audit.durable_appends_per_s", TOTAL / seconds, "entries/s", 50_000, {
        entries: TOTAL,
        batch: BATCH,
        journal_mode: mode,
        synchronous: sync === 2 ? "FULL" : sync,
        seconds: round(seconds),
      }),
    ];
  });
}

async function verifyMillion(ctx: BenchContext): Promise<BenchResult[]> {
  const TOTAL = 1_000_000;
  const EVERY = 100_000;
  return withLog("cbo-bench-audit-verify-", async ({ dir, store, log, publicKey }) => {
    store.db.exec("PRAGMA synchronous=OFF"); // building the fixture only
    const started = performance.now();
    for (let from = 0; from < TOTAL; from += BATCH) {
      log.appendMany(Array.from({ length: BATCH }, (_, k) => entry(from + k)));
      if ((from + BATCH) % EVERY === 0) await log.checkpoint();
    }
    store.db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    ctx.log(`built ${TOTAL} entries in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const dbFile = join(dir, "orchestrator.sqlite");
    const runs: number[] = [];
    let checked = 0;
    let checkpoints = 0;
    let path = "";
    for (let r = 0; r < 3; r++) {
      const t = performance.now();
      const run = await verifyDatabase({ dbFile, external: [], publicKey });
      runs.push((performance.now() - t) / 1000);
      if (!run.result.ok) throw new Error(`the intact log failed verification: ${JSON.stringify(run.result.firstBad)}`);
      ({ checked, checkpoints } = run.result);
      path = run.path;
    }
    ctx.log(`verify runs (${path}): ${runs.map((s) => s.toFixed(2)).join(", ")} s`);
    const t = performance.now();
    const sequential = await verifyDatabase({ dbFile, external: [], publicKey, parallel: { threads: 1 } });
    const sequentialSeconds = (performance.now() - t) / 1000;
    if (!sequential.result.ok || sequential.path !== "sequential") throw new Error("the sequential verifier did not pass the intact log");
    ctx.log(`sequential verifier: ${sequentialSeconds.toFixed(2)} s`);
    return [
      atMost("audit.verify_1m_s", median(runs), "s", 2, {
        entries: checked,
        checkpoints,
        runs: runs.map((s) => round(s)),
        path: `verifyDatabase (cbo audit verify, offline), ${path} pass`,
      }),
      info("audit.verify_1m_sequential_s", sequentialSeconds, "s", {
        entries: sequential.result.checked,
        path: "verifyDatabase with the parallel pass off",
      }),
    ];
  });
}

export const benchmarks: Benchmark[] = [
  { name: "audit.durable_appends_per_s", run: durableAppends },
  { name: "audit.verify_1m_s", run: verifyMillion },
];
