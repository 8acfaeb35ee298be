// The daemon that the migration crash test kills: release-child.ts's real daemon (startDaemon) over
// the given edge, starting one release and waiting for it, that also says when a D1 phase begins,
// so that the kill can land inside one. Lines on stdout: `{"started": id}` when the record exists,
// `{"phase": "d1-migrations", "target": "eu"}` right after each D1 phase's intent is journaled (the
// store's own write, seen through a wrapper; pipes are synchronous on Linux, so the line is out
// before the phase's first request), and `{"done": id, "status": …}` at the end.
// Input: env CBO_TEST_CHILD = JSON {edge: EdgeInfo, specFile, storeFile, worker, killAt?}. killAt
// {kind, target}: the child SIGKILLs itself as it is about to journal that entry (the step before it
// done on the edge, its record never written): a kill -9 at an exact moment.
import { dirname, join } from "node:path";
import { startDaemon } from "../../src/daemon.ts";
import type { RegionInfo } from "../../src/local-edge/types.ts";
import type { EdgeInfo } from "./orchestrator.ts";

type Input = { edge: EdgeInfo; specFile: string; storeFile: string; worker: string; killAt?: { kind: string; target: string } };

const input = JSON.parse(process.env["CBO_TEST_CHILD"] ?? "null") as Input | null;
if (!input) throw new Error("CBO_TEST_CHILD is not set");
const daemon = await startDaemon({
  dataDir: dirname(input.storeFile),
  configFile: input.specFile,
  port: 0,
  edge: { apiUrl: input.edge.apiUrl, token: input.edge.token, regions: input.edge.regions as RegionInfo[] },
  log: () => {},
  fallbackMasterKeyFile: join(dirname(input.storeFile), "master.key"),
});
const releases = daemon.store.releases;
const journal = releases.journal.bind(releases);
releases.journal = (id, kind, target, data = {}) => {
  if (input.killAt && kind === input.killAt.kind && target === input.killAt.target) process.kill(process.pid, "SIGKILL");
  const entry = journal(id, kind, target, data);
  if (kind === "phase.intent" && typeof data.phase === "string" && data.phase.startsWith("d1-"))
    process.stdout.write(`${JSON.stringify({ phase: data.phase, target })}\n`);
  return entry;
};
const started = await daemon.engine.release(input.worker, { by: "crash-test" });
process.stdout.write(`${JSON.stringify({ started: started.id })}\n`);
const done = await daemon.engine.wait(started.id);
process.stdout.write(`${JSON.stringify({ done: done.id, status: done.status })}\n`);
await daemon.close();
