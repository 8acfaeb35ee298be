// One health probe of a Worker, through the one HTTP client for Workers
// (src/targets/worker-http.ts): the endpoint's Host header, a deadline for the whole exchange. No
// keep-alive: a reused socket that the server closed in between would read as a failed probe.
import type { Endpoint } from "../targets/types.ts";
import { callWorker } from "../targets/worker-http.ts";
import type { ProbeResult } from "./health-verdict.ts";

/** GETs `path` at the endpoint; never throws: every outcome is a ProbeResult. */
export async function probe(endpoint: Endpoint, path: string, timeoutMs: number): Promise<ProbeResult> {
  const a = await callWorker({ endpoint, path, timeoutMs, headers: { "user-agent": "cbo-monitor", accept: "*/*" } });
  switch (a.kind) {
    case "response":
      return { kind: "response", httpStatus: a.status, latencyMs: a.latencyMs };
    case "timeout":
      return { kind: "timeout", timeoutMs };
    case "error":
      return { kind: "error", code: a.code, message: a.message };
  }
}
