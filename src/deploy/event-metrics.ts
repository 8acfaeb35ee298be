// The release metrics, read off the event log as events are appended (store.events.subscribe):
// the events are already the one record of what the engine, the drift checker and config sync did,
// so counting them here keeps the counters and the record from telling different stories.
//
//   release.succeeded | rolled_back | failed | aborted  -> cbo_releases_total{worker, outcome}
//   release.step.passed | release.step.failed (a gate's) -> cbo_gate_verdicts_total{worker, target, verdict}
//   release.step.started -> .passed | .failed            -> cbo_release_step_duration_seconds{worker, target}
//   rollback.completed (manual), release.rolled_back (automatic) -> cbo_rollbacks_total{worker, kind}
//   drift.detected / drift.resolved | drift.reverted     -> cbo_drift{worker, target} 1 / 0
//   config.published                                     -> cbo_config_publishes_total{worker}
import type { StoredEvent } from "../contract/index.ts";
import type { CboMetrics } from "../telemetry/index.ts";

const ENDS = new Set(["release.succeeded", "release.rolled_back", "release.failed", "release.aborted"]);

export function createEventMetrics(metrics: CboMetrics): (e: StoredEvent) => void {
  // When each running step started, by release and target (dropped when the step ends).
  const steps = new Map<string, number>();
  return (e) => {
    const worker = e.worker ?? "";
    const target = e.target ?? "";
    if (ENDS.has(e.type)) {
      metrics.releases.inc({ worker, outcome: e.type.slice("release.".length) });
      if (e.type === "release.rolled_back") metrics.rollbacks.inc({ worker, kind: "automatic" });
      for (const k of steps.keys()) if (k.startsWith(`${e.release_id}/`)) steps.delete(k);
      return;
    }
    switch (e.type) {
      case "release.step.started":
        steps.set(`${e.release_id}/${target}`, Date.parse(e.at));
        return;
      case "release.step.passed":
      case "release.step.failed": {
        const key = `${e.release_id}/${target}`;
        const started = steps.get(key);
        steps.delete(key);
        if (started !== undefined) metrics.stepDuration.observe({ worker, target }, Math.max(0, Date.parse(e.at) - started) / 1000);
        // A step stopped by the edge or the store is not a gate's verdict.
        if (e.type === "release.step.passed" || "samples" in e.data)
          metrics.gateVerdicts.inc({ worker, target, verdict: e.type === "release.step.passed" ? "pass" : "fail" });
        return;
      }
      case "rollback.completed":
        metrics.rollbacks.inc({ worker, kind: "manual" });
        return;
      case "drift.detected":
        metrics.drift.set({ worker, target }, 1);
        return;
      case "drift.resolved":
      case "drift.reverted":
        metrics.drift.set({ worker, target }, 0);
        return;
      case "config.published":
        metrics.configPublishes.inc({ worker });
        return;
    }
  };
}
