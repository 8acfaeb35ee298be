// Worker-thread entry of the parallel verifier (verify-parallel.ts). An entry point, so it does its
// work on load; nothing imports this file. Conversation with the main thread:
//
//   start                 open the database read-only, BEGIN, read the head: the snapshot starts
//                         ─▶ { started, head }
//   "begin" (again)       ROLLBACK, BEGIN, read the head: a fresh snapshot ─▶ { started, head }
//   { go: plan }          check batches (verify-reader.ts) in that snapshot, close ─▶ { done, results };
//                         then idle until the main thread terminates it
//
// Any error ─▶ { failed }, and the shared failed flag is set so that the other threads stop early.
import { DatabaseSync } from "node:sqlite";
import { parentPort, workerData } from "node:worker_threads";
import { FAILED, headRow, rangeStatement, runBatches, type BatchPlan } from "./verify-reader.ts";

export type WorkerData = { file: string; shared: SharedArrayBuffer };
export type ToWorker = "begin" | { go: BatchPlan };
export type FromWorker =
  | { type: "started"; head: { seq: unknown; hash: unknown } | null }
  | { type: "done"; results: ReturnType<typeof runBatches> }
  | { type: "failed" };

const port = parentPort;
if (!port) throw new Error("verify-worker.ts runs only as a worker thread");
const { file, shared: buffer } = workerData as WorkerData;
const shared = new Int32Array(buffer);
const send = (m: FromWorker) => port.postMessage(m);

let db: DatabaseSync | undefined;
function guarded(fn: () => void): void {
  try {
    fn();
  } catch {
    Atomics.store(shared, FAILED, 1);
    send({ type: "failed" });
    if (db?.isOpen) db.close();
  }
}

function begin(conn: DatabaseSync): void {
  if (conn.isTransaction) conn.exec("ROLLBACK");
  conn.exec("BEGIN");
  send({ type: "started", head: headRow(conn) });
}

guarded(() => {
  const conn = new DatabaseSync(file, { readOnly: true });
  db = conn;
  begin(conn);
  port.on("message", (m: ToWorker) =>
    guarded(() => {
      if (m === "begin") return begin(conn);
      const results = runBatches(rangeStatement(conn), shared, m.go);
      conn.close();
      send({ type: "done", results });
    }),
  );
});
