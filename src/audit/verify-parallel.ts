// The parallel pass over a stored log: the main thread and worker threads each read and check
// batches of entries (verify-reader.ts) on their own read-only connection to the database file,
// then the main thread joins the batches: each batch's first prev_hash against the previous batch's
// last hash, and the Merkle subtrees into the roots at the requested tree sizes.
//
// One snapshot. Separate connections each read their own snapshot, so the pass only counts if all
// of them are the one the main thread reads the checkpoints in. A connection's data_version changes
// when another connection has committed since its last read transaction began: the main thread
// takes it in its snapshot, the workers start theirs, the main thread begins a new transaction and
// takes it again. Unchanged means nothing was committed in between, so every snapshot, old and new,
// is the same (and the heads the workers read must then be the main thread's). Changed (the daemon
// appended meanwhile) means try again, in fresh snapshots; the window is the workers' start-up.
//
//   spawn; main checks batches ─▶ workers started ─▶ main: new transaction, same data_version?
//        ─no─▶ drop main's batches, workers "begin" again (≤ 3 times)
//        ─yes─▶ "go": all threads check the remaining batches ─▶ results ─▶ join ─▶ PassResult | undefined
//
// It proves a log intact or gives up (undefined). It never names a fault; the sequential verifier
// does that (verify-stored.ts, which also makes sure that the batches 1..count are every row the
// sequential verifier would read).
import type { DatabaseSync } from "node:sqlite";
import { Worker } from "node:worker_threads";
import { createFrontier } from "./merkle.ts";
import { GENESIS_HASH } from "./schema.ts";
import type { BatchResult } from "./verify-batch.ts";
import { FAILED, headRow, NEXT_BATCH, rangeStatement, runBatches, SHARED_BYTES, type BatchPlan } from "./verify-reader.ts";
import type { FromWorker, ToWorker, WorkerData } from "./verify-worker.ts";

export type PassResult = {
  count: number;
  headHash: string;
  /** Merkle root and head hash at each requested tree size. */
  at: Map<number, { root: string; head: string }>;
};

const WORKER_FILE = new URL("./verify-worker.ts", import.meta.url);
const SNAPSHOT_TRIES = 3;

/** What the main thread reads of the log in its snapshot; data_version says whether it moved. */
export type Snapshot = { dataVersion: number; head: { seq: unknown; hash: unknown } | null };

export function takeSnapshot(db: DatabaseSync): Snapshot {
  const head = headRow(db);
  const { data_version } = db.prepare("PRAGMA data_version").get() as { data_version: number };
  return { dataVersion: data_version, head };
}

/**
 * Runs the pass with `workers` worker threads beside the main thread. `db` is inside the read
 * transaction `first` was taken in; `restart` ends it, begins a new one and takes the snapshot again
 * (re-reading whatever the caller read in it). `plan(snapshot)` is the work in a snapshot, or
 * undefined when the log cannot pass. Returns undefined when it cannot prove the log intact.
 */
export async function parallelPass(
  db: DatabaseSync,
  workers: number,
  first: Snapshot,
  restart: () => Snapshot,
  plan: (s: Snapshot) => BatchPlan | undefined,
): Promise<PassResult | undefined> {
  const file = db.location();
  const firstWork = plan(first);
  if (!file || !firstWork) return undefined;
  const crew = startCrew(file, workers);
  try {
    const rows = rangeStatement(db);
    // While the workers start, this thread checks batches in its snapshot: they stand if the
    // workers' snapshots turn out to be the same one.
    let early: BatchResult[] = [];
    while (!crew.hasStarted() && !crew.broken()) {
      const one = runBatches(rows, crew.shared, firstWork, 1);
      if (Atomics.load(crew.shared, FAILED) !== 0) return undefined;
      if (one.length === 0) break; // none left: the workers will only confirm the snapshot
      early.push(...one);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    let snapshot = first;
    for (let attempt = 1; ; attempt++) {
      const heads = await crew.started();
      const again = restart();
      const same = again.dataVersion === snapshot.dataVersion && heads.every((h) => sameHead(h, again.head));
      snapshot = again;
      if (same) break;
      if (attempt === SNAPSHOT_TRIES) return undefined;
      early = []; // read in a snapshot that is gone
      Atomics.store(crew.shared, NEXT_BATCH, 0);
      crew.send("begin");
    }
    const work = plan(snapshot);
    if (!work || work.count !== firstWork.count || work.marks.join() !== firstWork.marks.join()) {
      if (!work) return undefined;
      early = [];
      Atomics.store(crew.shared, NEXT_BATCH, 0);
    }
    const results = await crew.run(work, () => [...early, ...runBatches(rows, crew.shared, work)]);
    return results && join(results, work);
  } finally {
    await crew.close();
  }
}

const sameHead = (a: Snapshot["head"], b: Snapshot["head"]) =>
  a === null ? b === null : b !== null && a.seq === b.seq && a.hash === b.hash;

function join(results: BatchResult[], plan: BatchPlan): PassResult | undefined {
  const { count, batch } = plan;
  const byId: BatchResult[] = [];
  for (const r of results) byId[r.id] = r;
  const tree = createFrontier();
  const at = new Map<number, { root: string; head: string }>();
  let last = GENESIS_HASH;
  for (let id = 0; id * batch < count; id++) {
    const r = byId[id];
    if (!r?.ok || r.firstPrev !== last) return undefined;
    const base = id * batch;
    for (const mark of r.marks) {
      const upToMark = createFrontier(tree.snapshot());
      upToMark.append({ size: mark.size - base, nodes: mark.nodes });
      at.set(mark.size, { root: upToMark.root(), head: mark.head });
    }
    tree.append({ size: Math.min(batch, count - base), nodes: r.nodes });
    last = r.lastHash;
  }
  return tree.size === count ? { count, headHash: last, at } : undefined;
}

/** Worker threads, each holding a read transaction; any error, exit or failed batch fails the pass. */
function startCrew(file: string, size: number) {
  const shared = new Int32Array(new SharedArrayBuffer(SHARED_BYTES));
  const inbox: FromWorker[][] = [];
  let broken = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const fail = () => {
    broken = true;
    Atomics.store(shared, FAILED, 1);
    notify();
  };
  const workers = Array.from({ length: size }, (_, i) => {
    inbox.push([]);
    const w = new Worker(WORKER_FILE, { workerData: { file, shared: shared.buffer } satisfies WorkerData });
    w.on("message", (m: FromWorker) => {
      if (m.type === "failed") return fail();
      inbox[i]!.push(m);
      notify();
    });
    w.on("error", fail);
    // Workers stay until close() terminates them: an exit before that is a crash.
    w.on("exit", fail);
    return w;
  });

  /** One message of `type` from every worker, oldest first; undefined once the crew is broken. */
  async function collect<T extends FromWorker["type"]>(type: T): Promise<Array<Extract<FromWorker, { type: T }>> | undefined> {
    for (;;) {
      if (broken) return undefined;
      if (inbox.every((box) => box.some((m) => m.type === type))) {
        return inbox.map(
          (box) =>
            box.splice(
              box.findIndex((m) => m.type === type),
              1,
            )[0] as Extract<FromWorker, { type: T }>,
        );
      }
      await new Promise<void>((resolve) => (wake = resolve));
    }
  }

  return {
    shared,
    broken: () => broken,
    hasStarted: () => inbox.every((box) => box.some((m) => m.type === "started")),
    send: (m: ToWorker) => workers.forEach((w) => w.postMessage(m)),
    /** The heads the workers read at the start of their snapshots. */
    async started(): Promise<Snapshot["head"][]> {
      const got = await collect("started");
      if (!got) throw new Error("a verifier worker failed");
      return got.map((m) => m.head);
    },
    /** Every thread checks batches until none are left; undefined if any failed. */
    async run(plan: BatchPlan, mine: () => BatchResult[]): Promise<BatchResult[] | undefined> {
      workers.forEach((w) => w.postMessage({ go: plan } satisfies ToWorker));
      const own = mine();
      const theirs = await collect("done");
      if (!theirs || Atomics.load(shared, FAILED) !== 0) return undefined;
      return [...own, ...theirs.flatMap((m) => m.results)];
    },
    async close(): Promise<void> {
      broken = true;
      Atomics.store(shared, FAILED, 1);
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
