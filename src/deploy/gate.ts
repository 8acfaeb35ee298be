// The gate's judge: pure, so every rule below is unit-tested without a clock or a network.
//
//   fail      the last `failure_limit` probes all failed (a dead version is caught within
//             failure_limit × interval, not after the bake), or
//             at least `min_samples` probes and their error rate is above `max_error_rate`, or
//             the bake is over and too few probes came back even after a grace period
//             (probes hanging until their timeout count as failures, so this is a slow edge)
//   pass      the bake is over with at least `min_samples` probes and neither rule above fired
//   continue  otherwise: probe again after `interval_ms`
import type { Gate } from "../config/schema.ts";

export type Sample = {
  ok: boolean;
  /** HTTP status, 0 when no answer came (timeout, connection refused or reset). */
  status: number;
  latencyMs: number;
  /** Why it failed (e.g. `HTTP 500`, `timeout after 2000 ms`). */
  error?: string;
};

export type Verdict = "pass" | "fail" | "continue";

export type GateSummary = {
  samples: number;
  failures: number;
  errorRate: number;
  consecutiveFailures: number;
  /** The most recent failure's description. */
  lastError: string | null;
};

export function summarize(samples: Sample[]): GateSummary {
  let failures = 0;
  let lastError: string | null = null;
  for (const s of samples) {
    if (!s.ok) {
      failures++;
      lastError = s.error ?? `HTTP ${s.status}`;
    }
  }
  let consecutiveFailures = 0;
  for (let i = samples.length - 1; i >= 0 && !samples[i]!.ok; i--) consecutiveFailures++;
  return {
    samples: samples.length,
    failures,
    errorRate: samples.length === 0 ? 0 : failures / samples.length,
    consecutiveFailures,
    lastError,
  };
}

/** How long after the bake a gate may wait for `min_samples` before it gives up. */
export function graceMs(gate: Gate): number {
  return gate.min_samples * (gate.interval_ms + gate.timeout_ms);
}

export function judgeGate(samples: Sample[], gate: Gate, elapsedMs: number): Verdict {
  const s = summarize(samples);
  if (s.consecutiveFailures >= gate.failure_limit) return "fail";
  if (s.samples >= gate.min_samples && s.errorRate > gate.max_error_rate) return "fail";
  if (elapsedMs >= gate.bake_ms) {
    if (s.samples >= gate.min_samples) return "pass";
    if (elapsedMs >= gate.bake_ms + graceMs(gate)) return "fail";
  }
  return "continue";
}

/** One line for the release record and the events: why the gate ended as it did. */
export function explainGate(verdict: Verdict, samples: Sample[], gate: Gate): string {
  const s = summarize(samples);
  const rate = `${s.failures}/${s.samples} probes failed (${(s.errorRate * 100).toFixed(1)}%)`;
  if (verdict === "pass") return `${rate}; within ${(gate.max_error_rate * 100).toFixed(1)}% over ${gate.bake_ms} ms`;
  if (verdict === "continue") return `${rate} so far`;
  if (s.consecutiveFailures >= gate.failure_limit) return `${s.consecutiveFailures} consecutive probes failed (last: ${s.lastError})`;
  if (s.samples >= gate.min_samples && s.errorRate > gate.max_error_rate) {
    return `error rate ${(s.errorRate * 100).toFixed(1)}% above ${(gate.max_error_rate * 100).toFixed(1)}%: ${rate} (last: ${s.lastError})`;
  }
  return `only ${s.samples} of ${gate.min_samples} probes answered after the bake`;
}

/** What the edge agents of one version reported since the step began (heartbeats). */
export type Traffic = { requests: number; errors: number };

/**
 * The version's own traffic, as its agents report it: the same error-rate rule as the probes, on
 * real requests. Too few requests says nothing (a Worker without the agent reports none), so it
 * only ever fails a gate, never passes one.
 */
export function judgeTraffic(t: Traffic, gate: Gate): "fail" | "ok" {
  return t.requests >= gate.min_samples && t.errors / t.requests > gate.max_error_rate ? "fail" : "ok";
}

export function explainTraffic(t: Traffic, gate: Gate): string {
  const rate = t.requests === 0 ? 0 : t.errors / t.requests;
  return `its own traffic (agent heartbeats): ${t.errors}/${t.requests} requests failed (${(rate * 100).toFixed(1)}%), above ${(gate.max_error_rate * 100).toFixed(1)}%`;
}
