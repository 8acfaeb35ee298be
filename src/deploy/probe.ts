// The gate's runner: probes the NEW version directly (pinned with
// `Cloudflare-Workers-Version-Overrides`, so a 10% step is judged on the new version's answers,
// not on the 90% still served by the previous one) every interval until the judge decides.
// node:http rather than fetch: undici drops the Host header the local edge routes on.
import http from "node:http";
import https from "node:https";
import type { Gate } from "../config/schema.ts";
import { sleep } from "../kit/backoff.ts";
import { explainGate, explainTraffic, judgeGate, judgeTraffic, summarize, type GateSummary, type Sample, type Traffic, type Verdict } from "./gate.ts";
import type { Endpoint } from "./types.ts";

export type GateResult = { verdict: Exclude<Verdict, "continue">; reason: string; summary: GateSummary; durationMs: number; traffic?: Traffic };

export type ProbeRequest = { endpoint: Endpoint; path: string; worker: string; versionId: string; timeoutMs: number; agent?: http.Agent };

/** One probe; never throws: every way of not getting a 2xx–4xx answer is a failed sample. */
export function probeOnce(req: ProbeRequest): Promise<Sample> {
  const started = performance.now();
  const url = new URL(req.path, req.endpoint.url);
  const lib = url.protocol === "https:" ? https : http;
  return new Promise<Sample>((resolve) => {
    let done = false;
    const finish = (s: Omit<Sample, "latencyMs">) => {
      if (done) return;
      done = true;
      resolve({ ...s, latencyMs: Math.round(performance.now() - started) });
    };
    const headers: Record<string, string> = {
      "cloudflare-workers-version-overrides": `${req.worker}="${req.versionId}"`,
      "user-agent": "cbo-gate",
    };
    if (req.endpoint.host) headers.host = req.endpoint.host;
    const r = lib.request(url, { method: "GET", headers, agent: req.agent ?? false, timeout: req.timeoutMs }, (res) => {
      const status = res.statusCode ?? 0;
      // Drain the body: the answer counts once it is complete (a reset mid-body is a failure).
      res.resume();
      res.on("end", () => finish(status >= 500 || status === 0 ? { ok: false, status, error: `HTTP ${status}` } : { ok: true, status }));
      res.on("error", (e) => finish({ ok: false, status: 0, error: `response error: ${e.message}` }));
    });
    r.on("timeout", () => {
      finish({ ok: false, status: 0, error: `timeout after ${req.timeoutMs} ms` });
      r.destroy();
    });
    r.on("error", (e) => finish({ ok: false, status: 0, error: `connection error: ${(e as NodeJS.ErrnoException).code ?? e.message}` }));
    r.end();
  });
}

/**
 * Probes until the judge passes or fails the step. `signal` stops it between probes (abort);
 * `onSample` lets the caller watch progress.
 */
export async function runGate(
  opts: {
    endpoint: Endpoint; worker: string; versionId: string; gate: Gate; signal?: AbortSignal; onSample?: (s: Sample) => void;
    /** The version's traffic reported by its agents since the step began (heartbeats), if any. */
    traffic?: () => Traffic;
  },
): Promise<GateResult> {
  const { gate } = opts;
  const agent = new (opts.endpoint.url.startsWith("https:") ? https.Agent : http.Agent)({ keepAlive: true, maxSockets: 1 });
  const samples: Sample[] = [];
  const start = performance.now();
  try {
    for (;;) {
      opts.signal?.throwIfAborted();
      const t0 = performance.now();
      const sample = await probeOnce({ endpoint: opts.endpoint, path: gate.probe_path, worker: opts.worker, versionId: opts.versionId, timeoutMs: gate.timeout_ms, agent });
      samples.push(sample);
      opts.onSample?.(sample);
      opts.signal?.throwIfAborted();
      const elapsed = performance.now() - start;
      const verdict = judgeGate(samples, gate, elapsed);
      // Probes can pass while real requests fail (another path, real data): the agents' reports
      // of this version's own traffic fail the step too, at every probe and before it passes.
      const traffic = verdict !== "fail" ? opts.traffic?.() : undefined;
      if (traffic && judgeTraffic(traffic, gate) === "fail") {
        return { verdict: "fail", reason: explainTraffic(traffic, gate), summary: summarize(samples), durationMs: Math.round(elapsed), traffic };
      }
      if (verdict !== "continue") {
        return { verdict, reason: explainGate(verdict, samples, gate), summary: summarize(samples), durationMs: Math.round(elapsed) };
      }
      await sleep(Math.max(0, gate.interval_ms - (performance.now() - t0)), opts.signal);
    }
  } finally {
    agent.destroy();
  }
}
