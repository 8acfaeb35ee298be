// One HTTP probe with node:http(s): undici's fetch drops the Host header, and on the local edge
// (and behind any shared ingress) Host is what picks the Worker. No keep-alive: a reused socket
// that the server closed in between would read as a failed probe.
import http from "node:http";
import https from "node:https";
import type { Endpoint } from "../deploy/types.ts";
import type { ProbeResult } from "./status.ts";

/** GETs `path` at the endpoint; never throws: every outcome is a ProbeResult. */
export function probe(endpoint: Endpoint, path: string, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const started = performance.now();
    let url: URL;
    try {
      url = new URL(path.replace(/^\/+/, ""), endpoint.url.endsWith("/") ? endpoint.url : `${endpoint.url}/`);
    } catch (e) {
      resolve({ kind: "error", code: undefined, message: `bad endpoint ${endpoint.url}: ${(e as Error).message}` });
      return;
    }
    let settled = false;
    const finish = (r: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const get = url.protocol === "https:" ? https.get : http.get;
    const req = get(
      url,
      {
        agent: false,
        headers: { ...(endpoint.host ? { host: endpoint.host } : {}), "user-agent": "cbo-monitor", accept: "*/*" },
        // Probes of a TLS endpoint reached by IP verify the certificate against the Worker's host.
        ...(endpoint.host && url.protocol === "https:" ? { servername: endpoint.host } : {}),
      },
      (res) => {
        // The verdict needs the status only, but the body is drained so that the answer is whole.
        res.resume();
        res.on("end", () => finish({ kind: "response", httpStatus: res.statusCode ?? 0, latencyMs: performance.now() - started }));
        res.on("error", (e: NodeJS.ErrnoException) => finish({ kind: "error", code: e.code, message: e.message }));
      },
    );
    // A deadline for the whole exchange (socket timeouts only measure idle time).
    const timer = setTimeout(() => {
      finish({ kind: "timeout", timeoutMs });
      req.destroy();
    }, timeoutMs);
    req.on("error", (e: NodeJS.ErrnoException) => finish({ kind: "error", code: e.code, message: e.message }));
  });
}
