// A stand-in for the daemon that the crash test kills: loads the spec, builds the runtimes over
// the given edge, starts one release and waits for it. Prints one JSON line when the release
// record exists (`{"started": id}`) and one when it ends (`{"done": id, "status": …}`).
// Input: env CBO_TEST_CHILD = JSON {edge: EdgeInfo, specFile, storeFile, worker}.
import { loadSpec } from "../../src/config/load.ts";
import { createEngine } from "../../src/deploy/index.ts";
import { createStore } from "../../src/store/index.ts";
import { localRuntimes, type EdgeInfo } from "./orchestrator.ts";

type Input = { edge: EdgeInfo; specFile: string; storeFile: string; worker: string };

const input = JSON.parse(process.env["CBO_TEST_CHILD"] ?? "null") as Input | null;
if (!input) throw new Error("CBO_TEST_CHILD is not set");
const spec = loadSpec(input.specFile);
const runtimes = localRuntimes(input.edge, spec);
const store = createStore(input.storeFile);
const engine = createEngine({ store, spec: () => spec, targets: () => runtimes });
const started = await engine.release(input.worker, { by: "crash-test" });
process.stdout.write(JSON.stringify({ started: started.id }) + "\n");
const done = await engine.wait(started.id);
process.stdout.write(JSON.stringify({ done: done.id, status: done.status }) + "\n");
await engine.close();
store.close();
