// What one release's apply (apply.ts) and its rollback (rollback-touched.ts) share: the release
// being driven and everything it is driven with, and how far each target got.
import type { ResolvedWorker } from "../config/load.ts";
import type { BackoffOptions } from "../kit/backoff.ts";
import type { Release, Store } from "../store/index.ts";
import type { TargetRuntime } from "../targets/types.ts";
import type { Bundle } from "./bundle.ts";
import type { RestoreBoard } from "./owed.ts";
import type { Recorder } from "./record.ts";
import type { EngineDeps, ReleasePlan, SecretSource } from "./types.ts";

export type ApplyContext = {
  store: Store;
  rec: Recorder;
  release: Release;
  plan: ReleasePlan;
  worker: ResolvedWorker;
  bundle: Bundle;
  runtimes: Map<string, TargetRuntime>;
  /** The spec's targets (for each target's config namespace title). */
  spec?: { targets: Array<{ name: string; kv_namespace?: string | undefined }> };
  secrets?: SecretSource;
  orchestratorUrl?: string;
  publicKey?: string;
  agentTraffic?: EngineDeps["agentTraffic"];
  /** Aborted with a ReleaseStop of kind "abort" (rolls back) or "halt" (leaves it to recovery). */
  signal: AbortSignal;
  /** The daemon stopping (a part of `signal`): the only thing that interrupts a rollback. */
  halt: AbortSignal;
  /** Restores owed while rolling back ("restore pending"). */
  board: RestoreBoard;
  restoreBackoff?: BackoffOptions;
};

export type Progress = { previousVersionId: string | null; versionId: string | null; workerKey?: number };
