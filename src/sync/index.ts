// Config sync and agent reports (issue 5): what the daemon and the API use.
export {
  createConfigSync,
  type ConfigSync,
  type ConfigSyncDeps,
  type DiffEntry,
  type PublishResult,
  type TargetOutcome,
} from "./service.ts";
export { createHeartbeatSink, type HeartbeatSink } from "./heartbeats.ts";
export { configFor, configsFor, deepMerge } from "./merge.ts";
export { maskSecretValues } from "./config-changes.ts";
