// What one release's apply (apply.ts) and its rollback (rollback-touched.ts) share: the release
// being driven and everything it is driven with, and how far each target got.
import type { ResolvedWorker } from "../config/load.ts";
import type { BackoffOptions } from "../kit/backoff.ts";
import type { Release, Store } from "../store/index.ts";
import type { TargetRuntime } from "../targets/types.ts";
import type { TargetFacts } from "./observe.ts";
import type { ReleaseBuild } from "./release-build.ts";
import type { SettingsChange } from "../targets/script-state.ts";
import type { RestoreBoard } from "./owed.ts";
import type { AnalysisBoard } from "./analysis/board.ts";
import type { ControlBoard } from "./control/board.ts";
import type { Recorder } from "./record.ts";
import type { ResumePoint } from "./control/resume-point.ts";
import type { EngineDeps, ReleasePlan, SecretSource } from "./types.ts";

export type ApplyContext = {
  store: Store;
  rec: Recorder;
  release: Release;
  plan: ReleasePlan;
  worker: ResolvedWorker;
  /** Per target, the build of the environment it releases. */
  build: ReleaseBuild;
  /** What the plan read from each target (its assets upload session among it): in memory only. */
  facts?: Map<string, TargetFacts>;
  runtimes: Map<string, TargetRuntime>;
  /** The spec's targets (each target's jurisdiction, and its config namespace title). */
  spec?: { targets: Array<{ name: string; kv_namespace?: string | undefined; jurisdiction?: string | undefined; api?: string }> };
  /** Paths no file read may reach (assets are read again at upload): the daemon's data, key files, the edge's state. */
  protect?: string[];
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
  /** Live canary analysis of the running steps (GET /v1/releases/:id/analysis). */
  analyses?: AnalysisBoard;
  /** Pauses, approvals and waits (cbo release pause|resume|promote). */
  control?: ControlBoard;
  /**
   * Told once every target passed its last step: the release only finishes from here (its D1
   * contract migrations cannot be undone), so an abort is refused rather than ignored.
   */
  finishing?: () => void;
  /** A release resumed after a restart: where each target it had begun stands (control/resume-point.ts). */
  resume?: Map<string, ResumePoint>;
};

export type Progress = {
  previousVersionId: string | null;
  versionId: string | null;
  workerKey?: number;
  /** The upload carried Durable Object migrations: the target cannot be rolled back past them. */
  migrated?: { oldTag: string | null; newTag: string };
  /** Script settings the release changed there (restored with a rollback). */
  settings?: SettingsChange;
};
