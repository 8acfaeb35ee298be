// Public surface of the target port.
export type { Endpoint, ObservedTarget, Split, TargetRuntime } from "./types.ts";
export { buildTarget, buildTargets, type TargetSources } from "./build.ts";
export { observeTarget, readDeployment, readVersion, readVersionIds, sameSplit, servesOnly } from "./live-read.ts";
export { createReadReuse, createReadReuseRegistry, DEFAULT_REUSE_MS, type ReadReuse, type ReadReuseRegistry } from "./read-reuse.ts";
export { createObserver, NOT_OBSERVED, type Observation, type ObserverDeps } from "./live-cache.ts";
export { callWorker, workerAgent, workerUrl, type WorkerAnswer, type WorkerRequest } from "./worker-http.ts";
export { ownHost, workerEndpoint } from "./worker-endpoint.ts";
export { ensureConfigNamespace, DEFAULT_CONFIG_NAMESPACE, ensureKvNamespaces } from "./kv-namespaces.ts";
