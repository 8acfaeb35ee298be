// The daemon that the crash test kills: the real one (startDaemon) over the given edge, starting
// one release and waiting for it. Prints one JSON line when the release
// record exists (`{"started": id}`) and one when it ends (`{"done": id, "status": …}`).
// Input: env CBO_TEST_CHILD = JSON {edge: EdgeInfo, specFile, storeFile, worker}.
import { dirname, join } from "node:path";
import { startDaemon } from "../../src/daemon.ts";
import type { RegionInfo } from "../../src/local-edge/types.ts";
import type { EdgeInfo } from "./orchestrator.ts";

type Input = { edge: EdgeInfo; specFile: string; storeFile: string; worker: string };

const input = JSON.parse(process.env["CBO_TEST_CHILD"] ?? "null") as Input | null;
if (!input) throw new Error("CBO_TEST_CHILD is not set");
// The real daemon (engine, API on a loopback port, monitor), its data directory holding the store.
const daemon = await startDaemon({
  dataDir: dirname(input.storeFile),
  configFile: input.specFile,
  port: 0,
  edge: { apiUrl: input.edge.apiUrl, token: input.edge.token, regions: input.edge.regions as RegionInfo[] },
  log: () => {},
  // The same key file as the test's restart of the daemon on this data directory.
  fallbackMasterKeyFile: join(dirname(input.storeFile), "master.key"),
});
const started = await daemon.engine.release(input.worker, { by: "crash-test" });
process.stdout.write(JSON.stringify({ started: started.id }) + "\n");
const done = await daemon.engine.wait(started.id);
process.stdout.write(JSON.stringify({ done: done.id, status: done.status }) + "\n");
await daemon.close();
