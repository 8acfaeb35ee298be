// The crash tests' seed: one release run to its end by an engine of its own on the test's store
// file, closed again before the test starts the engines it kills and restarts; and the D1 crash
// suites' fleet with its first migration, seeded so.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ResolvedSpec } from "../../src/config/load.ts";
import { startDaemon, type Daemon, type DaemonOptions } from "../../src/daemon.ts";
import { createEngine } from "../../src/deploy/index.ts";
import { createStore, type Release } from "../../src/store/index.ts";
import type { TargetRuntime } from "../../src/targets/types.ts";
import { localRuntimes, writeFleet, type EdgeInfo, type Fleet } from "./orchestrator.ts";

export async function releaseOnce(
  storeFile: string,
  spec: ResolvedSpec,
  targets: Map<string, TargetRuntime>,
  worker: string,
): Promise<Release> {
  const store = createStore(storeFile);
  const engine = createEngine({ store, spec: () => spec, targets: () => targets });
  const r = await engine.wait((await engine.release(worker)).id);
  await engine.close();
  store.close();
  return r;
}

/** The D1 fault suites' first migration: the table each later file logs its own name into. */
export async function writeInitMigration(dir: string): Promise<void> {
  await mkdir(join(dir, "migrations"), { recursive: true });
  await writeFile(
    join(dir, "migrations", "000_init.sql"),
    "CREATE TABLE applied_log (name TEXT);\nINSERT INTO applied_log (name) VALUES ('000_init.sql');\n",
  );
}

/**
 * The D1 crash suites' start: `yaml` and `worker`'s `source` written to `dir` with the first
 * migration, and released once to its end on the store file in `dir`/data.
 */
export async function seedMigratedFleet(
  dir: string,
  yaml: string,
  worker: string,
  source: string,
  info: EdgeInfo,
): Promise<{ fleet: Fleet; runtimes: Map<string, TargetRuntime>; storeFile: string }> {
  const storeFile = join(dir, "data", "orchestrator.sqlite");
  await mkdir(join(dir, "data"), { recursive: true });
  await writeInitMigration(dir);
  const fleet = await writeFleet(dir, yaml, { [worker]: source });
  const runtimes = localRuntimes(info, fleet.spec);
  const r = await releaseOnce(storeFile, fleet.spec, runtimes, worker);
  if (r.status !== "succeeded") throw new Error(`the seed release of ${worker} ended ${r.status}: ${r.reason}`);
  return { fleet, runtimes, storeFile };
}

/**
 * The crash suites' recovery: the real daemon started on `dir`/data (startDaemon runs
 * engine.recover() before it serves), with the master key file it made on its first start.
 */
export function restartDaemon(dir: string, configFile: string, edge: DaemonOptions["edge"]): Promise<Daemon> {
  return startDaemon({
    dataDir: join(dir, "data"),
    configFile,
    port: 0,
    edge,
    log: () => {},
    fallbackMasterKeyFile: join(dir, "data", "master.key"),
  });
}
