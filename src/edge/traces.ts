// The agent's half of tracing. A request that arrives with a W3C `traceparent` (the orchestrator's
// gate probes and pokes carry one, and so may any traced client) is continued: the agent's handling
// of it becomes a span of its own, a child of the caller's, kept here until the next heartbeat
// takes it back to the orchestrator (which exports it with its own spans). A request without one
// costs a header lookup and nothing else.
//
// Workers' clocks do not advance while code runs (only across I/O), so an edge span's duration is
// what the platform lets a Worker see: the time spent waiting, not the CPU time.
import { type EdgeSpan, MAX_HEARTBEAT_SPANS } from "../kit/protocol/heartbeat.ts";
import { formatTraceparent, newSpanId, parseTraceparent, TRACEPARENT_HEADER } from "../kit/trace-context.ts";

export type TraceLog = {
  /** Starts the span of a traced request; the function ends it with the answer's status (0: thrown). Undefined when untraced. */
  start(request: Request, name: EdgeSpan["name"]): ((status: number) => void) | undefined;
  /** The spans finished since the last take (for a heartbeat). */
  take(): EdgeSpan[];
  /** Puts spans of a heartbeat that was not delivered back (newest kept within the bound). */
  restore(spans: EdgeSpan[]): void;
  /** The `traceparent` of the newest span since it was last asked for: the next heartbeat request's own. */
  takeLatest(): string | undefined;
  /** The traceparent naming this request's span as the parent (for a relay fetch made while serving it). */
  childOf(request: Request | undefined): string | undefined;
  /** Did the orchestrator say it takes spans? */
  accepted: boolean;
};

export function createTraceLog(now: () => number): TraceLog {
  let pending: EdgeSpan[] = [];
  let newest: string | undefined;
  const ids = new WeakMap<Request, { traceId: string; spanId: string; sampled: boolean }>();
  return {
    accepted: false,
    start(request, name) {
      const parent = parseTraceparent(request.headers.get(TRACEPARENT_HEADER));
      if (!parent) return undefined;
      const span = { traceId: parent.traceId, spanId: newSpanId(), sampled: parent.sampled };
      ids.set(request, span);
      newest = formatTraceparent(span);
      const startMs = now();
      return (status) => {
        if (!parent.sampled) return;
        pending.push({
          traceId: span.traceId,
          spanId: span.spanId,
          parentSpanId: parent.spanId,
          name,
          startMs,
          durationMs: Math.max(0, now() - startMs),
          status,
        });
        if (pending.length > MAX_HEARTBEAT_SPANS) pending.shift();
      };
    },
    take() {
      const out = pending;
      pending = [];
      return out;
    },
    restore(spans) {
      pending = [...spans, ...pending].slice(-MAX_HEARTBEAT_SPANS);
    },
    takeLatest() {
      const out = newest;
      newest = undefined;
      return out;
    },
    childOf(request) {
      const span = request ? ids.get(request) : undefined;
      return span ? formatTraceparent(span) : undefined;
    },
  };
}
