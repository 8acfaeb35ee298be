// The real daemon (startDaemon) in a process of its own, so that a test can read everything it
// writes to stderr (its default log). Master key from CBO_MASTER_KEY like a deployment.
// Input: env CBO_TEST_DAEMON = JSON {dataDir, configFile, edge, checkpointEveryMs?, port?} (port:
// a fixed one, for a test that restarts the daemon where its clients expect it; default any).
// Prints one JSON line {url, adminTokenFile} once serving; on SIGTERM closes (signing a last
// audit checkpoint) and exits 0.
import { startDaemon } from "../../src/daemon.ts";
import type { RegionInfo } from "../../src/local-edge/types.ts";

type Input = {
  dataDir: string;
  configFile: string;
  edge: { apiUrl: string; token: string; regions: RegionInfo[] };
  checkpointEveryMs?: number;
  port?: number;
};

const input = JSON.parse(process.env["CBO_TEST_DAEMON"] ?? "null") as Input | null;
if (!input) throw new Error("CBO_TEST_DAEMON is not set");
const daemon = await startDaemon({
  dataDir: input.dataDir,
  configFile: input.configFile,
  port: input.port ?? 0,
  edge: input.edge,
  ...(input.checkpointEveryMs ? { auditCheckpointEvery: { ms: input.checkpointEveryMs } } : {}),
});
process.stdout.write(JSON.stringify({ url: daemon.url, adminTokenFile: daemon.adminTokenFile }) + "\n");
process.once("SIGTERM", () => {
  void daemon.close().then(
    () => process.exit(0),
    (e: unknown) => {
      process.stderr.write(`close failed: ${String(e)}\n`);
      process.exit(1);
    },
  );
});
