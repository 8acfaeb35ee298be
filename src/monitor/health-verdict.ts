// The pure half of a probe: what one probe's outcome says about a Worker's health. Kept apart
// from the HTTP and the loop so that the rule is unit-tested on its own.
import type { HealthStatus } from "../store/index.ts";

/** What one probe saw, before any judgement. */
export type ProbeResult =
  | { kind: "response"; httpStatus: number; latencyMs: number }
  | { kind: "timeout"; timeoutMs: number }
  | { kind: "error"; code: string | undefined; message: string };

export type HealthVerdict = { status: HealthStatus; latencyMs: number | null; detail: string };

/**
 * Healthy = a 2xx answer within the timeout; anything else is unhealthy. A Worker the
 * orchestrator has never put on this target (`known: false`) that does not answer 2xx is
 * `unknown` rather than unhealthy: a probe cannot tell "not deployed yet" from "broken", and a
 * fleet before its first release should not read as an outage.
 */
export function decideHealth(result: ProbeResult, opts: { known: boolean }): HealthVerdict {
  const verdict = judge(result);
  if (verdict.status === "unhealthy" && !opts.known)
    return { ...verdict, status: "unknown", detail: `${verdict.detail} (no version recorded for this target)` };
  return verdict;
}

function judge(result: ProbeResult): HealthVerdict {
  switch (result.kind) {
    case "response": {
      const ok = result.httpStatus >= 200 && result.httpStatus < 300;
      return { status: ok ? "healthy" : "unhealthy", latencyMs: round(result.latencyMs), detail: `HTTP ${result.httpStatus}` };
    }
    case "timeout":
      return { status: "unhealthy", latencyMs: null, detail: `timeout after ${result.timeoutMs} ms` };
    case "error":
      return { status: "unhealthy", latencyMs: null, detail: describeError(result.code, result.message) };
  }
}

const ERROR_WORDS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "DNS lookup failed",
  EPIPE: "connection closed",
};

/** Short, stable words for the health row: details are shown in `cbo status`, not stack traces. */
function describeError(code: string | undefined, message: string): string {
  if (code !== undefined && ERROR_WORDS[code]) return ERROR_WORDS[code];
  const short = message.split("\n")[0]!.slice(0, 120);
  return code === undefined ? short : `${code}: ${short}`;
}

const round = (ms: number) => Math.round(ms * 10) / 10;
