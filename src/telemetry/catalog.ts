// Every metric the daemon serves at GET /metrics, in one list: name, help, labels, buckets. The
// layers that count (the Cloudflare transport, the audit log, the vault, the API) receive the
// handles they need from here; the rest is derived from the event log (event-metrics) or read at
// scrape time from the state it mirrors (budgets, open streams, the tunnel, checkpoints).
//
// Labels stay bounded: worker and target come from the spec, endpoint classes are a fixed list in
// src/cloudflare, routes are templates, reasons and outcomes are enums. Never a version id, a
// release id, a token name or anything a caller chooses freely.
import { createRegistry, type Counter, type Gauge, type Histogram, type Registry } from "./registry.ts";

const SECONDS_SHORT = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const SECONDS_LONG = [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

export function createCboMetrics(registry: Registry = createRegistry()) {
  const r = registry;
  return {
    registry,
    buildInfo: r.gauge("cbo_build_info", "The daemon's version and Node.js version; always 1.", ["version", "node"]),
    memoryReductions: r.counter(
      "cbo_memory_reductions_total",
      "Memory-reducing collections the daemon asked V8 for: once start-up settled, then when the young generation grew again.",
      ["reason"],
    ),

    // Releases (derived from the event log).
    releases: r.counter("cbo_releases_total", "Releases that ended, by worker and outcome.", ["worker", "outcome"]),
    gateVerdicts: r.counter("cbo_gate_verdicts_total", "Gate verdicts on release steps, by worker, target and verdict.", [
      "worker",
      "target",
      "verdict",
    ]),
    rollbacks: r.counter("cbo_rollbacks_total", "Rollbacks that completed: manual (cbo rollback) or automatic (a release rolled back).", [
      "worker",
      "kind",
    ]),
    stepDuration: r.histogram(
      "cbo_release_step_duration_seconds",
      "From a step's deployment to its gate's verdict.",
      ["worker", "target"],
      SECONDS_LONG,
    ),
    drift: r.gauge("cbo_drift", "1 while a worker's target drifts from what the orchestrator released, else 0.", ["worker", "target"]),
    configPublishes: r.counter("cbo_config_publishes_total", "Signed config versions published, by worker.", ["worker"]),

    // The Cloudflare API (counted by the transport, per attempt).
    cloudflareRequests: r.counter(
      "cbo_cloudflare_requests_total",
      "Cloudflare API attempts by endpoint class and HTTP status (error: no answer).",
      ["endpoint", "status"],
    ),
    cloudflareRateLimited: r.counter("cbo_cloudflare_rate_limited_total", "Cloudflare API answers with status 429, by endpoint class.", [
      "endpoint",
    ]),
    cloudflareRetries: r.counter("cbo_cloudflare_retries_total", "Cloudflare API attempts that were retried, by endpoint class.", [
      "endpoint",
    ]),
    cloudflareDuration: r.histogram(
      "cbo_cloudflare_request_duration_seconds",
      "Cloudflare API attempts, from the budget's grant to the answer's headers.",
      ["endpoint"],
      SECONDS_SHORT,
    ),
    budgetRemaining: r.gauge("cbo_cloudflare_budget_remaining", "Requests the API budget still allows in its window, per account.", [
      "account",
    ]),
    budgetQueued: r.gauge("cbo_cloudflare_budget_queued", "Requests waiting for the API budget, per account.", ["account"]),

    // Audit, vault, relay.
    auditAppends: r.counter("cbo_audit_appends_total", "Audit entries appended."),
    auditFailures: r.counter("cbo_audit_append_failures_total", "Audit appends that failed (the change they recorded was refused)."),
    checkpointAge: r.gauge("cbo_audit_checkpoint_age_seconds", "Age of the newest signed audit checkpoint (-1: none yet)."),
    auditEntries: r.gauge("cbo_audit_entries", "Entries in the audit log."),
    vaultReads: r.counter("cbo_vault_reads_total", "Secret values decrypted, by purpose (get, deliver, relay, rollback).", ["purpose"]),
    relayRequests: r.counter("cbo_relay_requests_total", "Relay requests from Workers that were answered with a sealed secret.", [
      "worker",
      "target",
    ]),
    relayRefusals: r.counter("cbo_relay_refusals_total", "Relay requests refused, by reason.", ["reason"]),

    // Agents and Workers.
    heartbeats: r.counter("cbo_heartbeats_total", "Agent heartbeats ingested, by worker and target.", ["worker", "target"]),
    heartbeatsRefused: r.counter("cbo_heartbeats_refused_total", "Agent heartbeats refused, by reason.", ["reason"]),
    workerRequests: r.counter("cbo_worker_requests_total", "Requests Workers served, as their agents report them in heartbeats.", [
      "worker",
      "target",
    ]),
    workerErrors: r.counter("cbo_worker_errors_total", "Requests Workers answered with a 5xx or a thrown error, from heartbeats.", [
      "worker",
      "target",
    ]),
    probeDuration: r.histogram(
      "cbo_worker_probe_duration_seconds",
      "Latency of the monitor's health probes of Workers, by worker, target and health verdict.",
      ["worker", "target", "result"],
      SECONDS_SHORT,
    ),

    // The daemon itself.
    httpRequests: r.counter("cbo_http_requests_total", "API requests by method, route template and status.", ["method", "route", "status"]),
    httpDuration: r.histogram(
      "cbo_http_request_duration_seconds",
      "API request durations by method and route template.",
      ["method", "route"],
      SECONDS_SHORT,
    ),
    wsClients: r.gauge("cbo_websocket_clients", "Open WebSocket clients: the event stream's and the fleet log stream's."),
    tunnelRestarts: r.gauge("cbo_tunnel_restarts", "Restarts of the supervised cloudflared since the daemon started."),
    tunnelState: r.gauge("cbo_tunnel_state", "1 for the supervised cloudflared's current state, 0 for the others.", ["state"]),
    spansExported: r.counter("cbo_trace_spans_exported_total", "Spans sent to the OTLP endpoint."),
    spansDropped: r.counter(
      "cbo_trace_spans_dropped_total",
      "Spans dropped (the exporter's queue was full, or the endpoint refused them).",
    ),
  };
}

export type CboMetrics = ReturnType<typeof createCboMetrics>;
export type { Counter, Gauge, Histogram, Registry };
