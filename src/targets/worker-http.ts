// The one HTTP client for calling Workers on a target: gate probes (deploy), health probes
// (monitor), config pokes (sync) and the setup wizard's check all go through callWorker, so they
// behave alike:
//   - node:http(s), not fetch: undici drops the Host header, and on the local edge (and behind any
//     shared ingress) Host is what picks the Worker;
//   - the TLS server name is the Worker's host when the endpoint is reached by another name;
//   - one deadline for the whole exchange (connect, headers and body): socket timeouts measure only
//     idle time, and a body that trickles in would hold a probe for ever;
//   - at most `maxBodyBytes` of the body are kept; the rest is read and dropped, so that an answer
//     counts only once it is complete (a reset mid-body is a failure), within the deadline.
// It never throws: every outcome is a WorkerAnswer.
import http from "node:http";
import https from "node:https";
import type { Endpoint } from "./types.ts";
import { currentTraceparent } from "../telemetry/index.ts";

export type WorkerRequest = {
  endpoint: Endpoint;
  /** Joined to the endpoint's URL, keeping a path prefix it has (`/x` on `http://h/p/` is `/p/x`). */
  path: string;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
  /** For the whole exchange. */
  timeoutMs: number;
  /** Bytes of the answer's body kept in `body` (default 0: drained and dropped). */
  maxBodyBytes?: number;
  /** A keep-alive agent (workerAgent) for many calls in a row; default: one connection per call. */
  agent?: http.Agent;
};

export type WorkerAnswer =
  | { kind: "response"; status: number; latencyMs: number; body: string; truncated: boolean }
  | { kind: "timeout"; timeoutMs: number; latencyMs: number }
  /** `during`: the request (DNS, connect, TLS, sending) or the response (a reset mid-body). */
  | { kind: "error"; code: string | undefined; message: string; during: "request" | "response"; latencyMs: number };

/** The URL a request goes to: the path under the endpoint's URL (its path prefix kept). */
export function workerUrl(endpoint: Endpoint, path: string): URL {
  return new URL(path.replace(/^\/+/, ""), endpoint.url.endsWith("/") ? endpoint.url : `${endpoint.url}/`);
}

/** A keep-alive agent for the endpoint's scheme, one socket: a gate probes one version many times. */
export function workerAgent(endpoint: Endpoint): http.Agent {
  return new (endpoint.url.startsWith("https:") ? https.Agent : http.Agent)({ keepAlive: true, maxSockets: 1 });
}

export function callWorker(req: WorkerRequest): Promise<WorkerAnswer> {
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  let url: URL;
  try {
    url = workerUrl(req.endpoint, req.path);
  } catch (e) {
    return Promise.resolve({
      kind: "error",
      code: undefined,
      message: `bad endpoint ${req.endpoint.url}: ${(e as Error).message}`,
      during: "request",
      latencyMs: elapsed(),
    });
  }
  const https_ = url.protocol === "https:";
  const host = req.endpoint.host;
  const cap = req.maxBodyBytes ?? 0;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (a: WorkerAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(a);
    };
    // Inside a trace (a gate probe, a poke), the Worker's agent continues it (src/edge).
    const traceparent = currentTraceparent();
    const headers: Record<string, string> = { ...(traceparent ? { traceparent } : {}), ...req.headers, ...(host ? { host } : {}) };
    if (req.body !== undefined) headers["content-length"] = String(Buffer.byteLength(req.body));
    const r = (https_ ? https : http).request(
      url,
      {
        method: req.method ?? "GET",
        headers,
        agent: req.agent ?? false,
        // A TLS endpoint reached by another name verifies its certificate against the Worker's host.
        ...(host && https_ ? { servername: host } : {}),
      },
      (res) => {
        const status = res.statusCode ?? 0;
        const kept: Buffer[] = [];
        let size = 0;
        let truncated = false;
        res.on("data", (chunk: Buffer) => {
          if (size >= cap) {
            truncated ||= chunk.length > 0;
            return;
          }
          const room = cap - size;
          if (chunk.length > room) truncated = true;
          kept.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
          size += Math.min(chunk.length, room);
        });
        res.on("end", () =>
          finish({ kind: "response", status, latencyMs: elapsed(), body: Buffer.concat(kept).toString("utf8"), truncated }),
        );
        res.on("error", (e: NodeJS.ErrnoException) =>
          finish({ kind: "error", code: e.code, message: e.message, during: "response", latencyMs: elapsed() }),
        );
      },
    );
    const timer = setTimeout(() => {
      finish({ kind: "timeout", timeoutMs: req.timeoutMs, latencyMs: elapsed() });
      r.destroy();
    }, req.timeoutMs);
    r.on("error", (e: NodeJS.ErrnoException) =>
      finish({ kind: "error", code: e.code, message: e.message, during: "request", latencyMs: elapsed() }),
    );
    r.end(req.body);
  });
}
