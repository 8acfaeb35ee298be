// The release engine's public surface: the factory the daemon calls, the pure planner and gate
// judge (for `cbo plan`, tests and benchmarks), and the contract types.
export { createEngine } from "./engine.ts";
export { plan, previousVersionOf, plannedSteps, splitFor, stepsFor } from "./plan.ts";
export { judgeGate, explainGate, summarize, graceMs, type Sample, type Verdict, type GateSummary } from "./gate.ts";
export { runGate, probeOnce, type GateResult } from "./gate-probes.ts";
export { bundleWorker, bundleHash, type Bundle } from "./bundle.ts";
export { desiredState, leftOn, replay, touched, type DesiredTarget, type TargetReplay } from "./journal.ts";
export { createDriftChecker, type DriftChecker, type DriftCheckerOptions } from "./drift/checker.ts";
export type { RollbackPlan } from "./stored.ts";
export type * from "./types.ts";
export { vaultSecretSource } from "./secret-source.ts";
export { allowedIn, planSecrets } from "./secret-plan.ts";
export { createEventMetrics } from "./event-metrics.ts";
