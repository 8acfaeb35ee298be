// What the router counts for Cloudflare's `workersInvocationsAdaptive` dataset: per (script,
// version, minute, invocation status) the requests, their wall time (as a histogram, for
// quantiles) and the subrequests. Counting is a few in-memory increments per invocation; the edge
// drains the cells in batches (POST /__cbo/analytics), never one round trip per request.
import { record, type Histogram } from "./latency-histogram.ts";

/**
 * Cloudflare's invocation statuses (workers/observability/metrics-and-analytics). Its `errors`
 * sum counts the last three; a Worker that returns a 5xx response has status `success`.
 */
export type InvocationStatus = "success" | "clientDisconnected" | "scriptThrewException" | "exceededResources" | "internalError";

export const ERROR_STATUSES: ReadonlySet<string> = new Set(["scriptThrewException", "exceededResources", "internalError"]);

export type Cell = {
  script: string;
  version: string;
  /** Start of the minute, epoch ms. */
  minute: number;
  status: InvocationStatus;
  requests: number;
  subrequests: number;
  /** Sum of wall times, ms. */
  wallMs: number;
  wall: Histogram;
};

const MINUTE = 60_000;
const cells = new Map<string, Cell>();
/** Subrequests by script, version and minute: a Worker's outbound fetch() is not tied to one invocation. */
const subrequests = new Map<string, { script: string; version: string; minute: number; n: number }>();

export function countInvocation(script: string, version: string, startMs: number, wallMs: number, status: InvocationStatus): void {
  const minute = startMs - (startMs % MINUTE);
  const key = `${script}\n${version}\n${minute}\n${status}`;
  let c = cells.get(key);
  if (c === undefined) {
    c = { script, version, minute, status, requests: 0, subrequests: 0, wallMs: 0, wall: {} };
    cells.set(key, c);
  }
  c.requests++;
  c.wallMs += wallMs;
  record(c.wall, wallMs);
}

export function countSubrequest(script: string, version: string, atMs: number): void {
  const minute = atMs - (atMs % MINUTE);
  const key = `${script}\n${version}\n${minute}`;
  const s = subrequests.get(key);
  if (s === undefined) subrequests.set(key, { script, version, minute, n: 1 });
  else s.n++;
}

/**
 * Everything counted since the last drain, then forgotten. Subrequests go to the cell of their
 * script, version and minute with the most invocations (most subrequests come from ordinary,
 * successful invocations), else to a `success` cell of their own.
 */
export function drainCells(): Cell[] {
  const out = [...cells.values()];
  cells.clear();
  for (const s of subrequests.values()) {
    let best: Cell | undefined;
    for (const c of out) {
      if (c.script === s.script && c.version === s.version && c.minute === s.minute && (best === undefined || c.requests > best.requests))
        best = c;
    }
    if (best === undefined) {
      best = {
        script: s.script,
        version: s.version,
        minute: s.minute,
        status: "success",
        requests: 0,
        subrequests: 0,
        wallMs: 0,
        wall: {},
      };
      out.push(best);
    }
    best.subrequests += s.n;
  }
  subrequests.clear();
  return out;
}

/**
 * The status of an invocation that threw: workerd's limit errors are "exceeded resources", a
 * version the edge could not load is an internal error, anything else the Worker threw.
 */
export function statusOfError(e: unknown): InvocationStatus {
  const message = e instanceof Error ? e.message : String(e);
  if (/could not be loaded/.test(message) && message.startsWith("version ")) return "internalError";
  if (/exceeded (its )?(CPU|memory|resource)|(CPU time|memory) limit/i.test(message)) return "exceededResources";
  return "scriptThrewException";
}

/** The status of a queue or scheduled event from the outcome workerd reports for it. */
export function statusOfOutcome(outcome: unknown): InvocationStatus {
  if (outcome === "ok") return "success";
  if (outcome === "exception") return "scriptThrewException";
  if (outcome === "canceled") return "clientDisconnected";
  if (typeof outcome === "string" && outcome.startsWith("exceeded")) return "exceededResources";
  return "internalError";
}
