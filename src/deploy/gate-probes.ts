// The gate's runner: probes the NEW version directly (pinned with
// `Cloudflare-Workers-Version-Overrides`, so a 10% step is judged on the new version's answers,
// not on the 90% still served by the previous one) every interval until the judge decides. The
// probes go through the one HTTP client for Workers (src/targets/worker-http.ts), on one
// keep-alive connection per gate.
import type http from "node:http";
import type { Gate } from "../config/schema.ts";
import type { AnalysisSpec } from "../contract/index.ts";
import type { AnalyzerRead, createStepAnalyzer } from "./analysis/step-analyzer.ts";
import { sleep } from "../kit/backoff.ts";
import type { Endpoint } from "../targets/types.ts";
import { callWorker, workerAgent } from "../targets/worker-http.ts";
import {
  explainGate,
  explainTraffic,
  judgeGate,
  judgeTraffic,
  summarize,
  type GateSummary,
  type Sample,
  type Traffic,
  type Verdict,
} from "./gate.ts";
import { span, type Span } from "../telemetry/index.ts";

export type GateResult = {
  verdict: Exclude<Verdict, "continue">;
  reason: string;
  summary: GateSummary;
  durationMs: number;
  traffic?: Traffic;
  /** The canary analysis' last read, when the step was analysed. */
  analysis?: AnalyzerRead;
};

/** A step's canary analysis as the gate drives it (analysis/step-analyzer.ts). */
export type GateAnalysis = {
  analyzer: ReturnType<typeof createStepAnalyzer>;
  spec: AnalysisSpec;
  /** The gate waits for analytics after its probes passed: shown as a `data` wait until the returned function is called. */
  onDataWait?: (until: string | null) => () => void;
};

export type ProbeRequest = { endpoint: Endpoint; path: string; worker: string; versionId: string; timeoutMs: number; agent?: http.Agent };

/** One probe; never throws: every way of not getting a 2xx–4xx answer in time is a failed sample. */
export async function probeOnce(req: ProbeRequest): Promise<Sample> {
  // A span per probe; the probe carries its traceparent to the Worker (targets/worker-http.ts).
  return span("gate.probe", { "cbo.worker": req.worker, "cbo.version_id": req.versionId }, (s) => probe(req, s), "client");
}

async function probe(req: ProbeRequest, s: Span): Promise<Sample> {
  const a = await callWorker({
    endpoint: req.endpoint,
    path: req.path,
    timeoutMs: req.timeoutMs,
    ...(req.agent ? { agent: req.agent } : {}),
    headers: { "cloudflare-workers-version-overrides": `${req.worker}="${req.versionId}"`, "user-agent": "cbo-gate" },
  });
  const latencyMs = Math.round(a.latencyMs);
  if (a.kind === "response") s.setAttribute("http.response.status_code", a.status);
  if (a.kind !== "response" || a.status >= 500) s.fail(a.kind === "response" ? `HTTP ${a.status}` : a.kind);
  switch (a.kind) {
    case "response":
      return a.status >= 500 || a.status === 0
        ? { ok: false, status: a.status, error: `HTTP ${a.status}`, latencyMs }
        : { ok: true, status: a.status, latencyMs };
    case "timeout":
      return { ok: false, status: 0, error: `timeout after ${req.timeoutMs} ms`, latencyMs };
    case "error":
      return {
        ok: false,
        status: 0,
        error: a.during === "response" ? `response error: ${a.message}` : `connection error: ${a.code ?? a.message}`,
        latencyMs,
      };
  }
}

/**
 * Probes until the judge passes or fails the step. `signal` stops it between probes (abort);
 * `onSample` lets the caller watch progress.
 */
export async function runGate(opts: {
  endpoint: Endpoint;
  worker: string;
  versionId: string;
  gate: Gate;
  signal?: AbortSignal;
  onSample?: (s: Sample) => void;
  /** The version's traffic reported by its agents since the step began (heartbeats), if any. */
  traffic?: () => Traffic;
  /** Canary vs baseline on real traffic (invocation analytics). */
  analysis?: GateAnalysis;
}): Promise<GateResult> {
  const { gate } = opts;
  const agent = workerAgent(opts.endpoint);
  const samples: Sample[] = [];
  const start = performance.now();
  let endDataWait: (() => void) | undefined;
  let inconclusiveSince: number | undefined;
  try {
    for (;;) {
      opts.signal?.throwIfAborted();
      const t0 = performance.now();
      const sample = await probeOnce({
        endpoint: opts.endpoint,
        path: gate.probe_path,
        worker: opts.worker,
        versionId: opts.versionId,
        timeoutMs: gate.timeout_ms,
        agent,
      });
      samples.push(sample);
      opts.onSample?.(sample);
      opts.signal?.throwIfAborted();
      const elapsed = performance.now() - start;
      const verdict = judgeGate(samples, gate, elapsed);
      // Probes can pass while real requests fail (another path, real data): the agents' reports
      // of this version's own traffic fail the step too, at every probe and before it passes.
      const traffic = verdict !== "fail" ? opts.traffic?.() : undefined;
      if (traffic && judgeTraffic(traffic, gate) === "fail") {
        return {
          verdict: "fail",
          reason: explainTraffic(traffic, gate),
          summary: summarize(samples),
          durationMs: Math.round(elapsed),
          traffic,
        };
      }
      const an = opts.analysis;
      const read = an ? (an.analyzer.due() ? await an.analyzer.read() : an.analyzer.latest()) : undefined;
      opts.signal?.throwIfAborted();
      const done = (v: "pass" | "fail", reason: string): GateResult => ({
        verdict: v,
        reason,
        summary: summarize(samples),
        durationMs: Math.round(performance.now() - start),
        ...(read ? { analysis: read } : {}),
      });
      // Real traffic beats probes both ways: a significantly worse canary fails at once, and a
      // step passes only once the analysis of its whole window passed (or its policy says so).
      if (verdict !== "fail" && read?.verdict === "fail") return done("fail", `canary analysis: ${read.reason}`);
      if (verdict === "fail" || !an || !read) {
        if (verdict !== "continue") return done(verdict, explainGate(verdict, samples, gate));
      } else if (verdict === "pass") {
        const probes = explainGate("pass", samples, gate);
        if (read.verdict === "pass") return done("pass", `${probes}; canary analysis: ${read.reason}`);
        const now = Date.now();
        const late = now > an.analyzer.visibleBy() + an.spec.max_wait_ms;
        if (read.verdict === "inconclusive" || late) {
          inconclusiveSince ??= now;
          const why = read.verdict === "inconclusive" ? read.reason : `no final analytics read: ${read.reason}`;
          if (an.spec.on_inconclusive === "pass")
            return done("pass", `${probes}; canary analysis inconclusive (on_inconclusive: pass): ${why}`);
          if (an.spec.on_inconclusive === "fail") return done("fail", `canary analysis inconclusive (on_inconclusive: fail): ${why}`);
          if (late || now - inconclusiveSince >= an.spec.max_wait_ms)
            return done(
              "fail",
              `canary analysis still inconclusive after waiting ${an.spec.max_wait_ms} ms (on_inconclusive: wait): ${why}`,
            );
        }
        endDataWait ??= an.onDataWait?.(new Date(an.analyzer.visibleBy() + an.spec.max_wait_ms).toISOString());
      }
      await sleep(Math.max(0, gate.interval_ms - (performance.now() - t0)), opts.signal);
    }
  } finally {
    endDataWait?.();
    agent.destroy();
  }
}
