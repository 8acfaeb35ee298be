// The ambient trace context: which span the code running now belongs to, and of which request.
// It follows async calls (AsyncLocalStorage), as OpenTelemetry's context manager does, so that a
// Cloudflare call made deep inside a release's step is a child of that step without every
// function between them passing a span along. The context carries its tracer: code that only
// continues a trace (the Cloudflare transport, the Workers HTTP client, gate probes) needs nothing
// passed in, and code outside any trace (the monitor's passes, the drift checker) makes no spans.
//
// The storage is made on first use, not at import.
import { AsyncLocalStorage } from "node:async_hooks";
import { formatTraceparent } from "../kit/trace-context.ts";

/** What the context holds: the active span's ids (the span itself: span.ts's SpanHandle). */
export type ActiveContext = {
  readonly traceId: string;
  readonly spanId: string;
  readonly sampled: boolean;
  /** The API request it belongs to (its x-request-id). */
  readonly requestId: string | undefined;
};

let storage: AsyncLocalStorage<ActiveContext> | undefined;

/** The span the running code belongs to, if any. */
export function activeContext(): ActiveContext | undefined {
  return storage?.getStore();
}

/** Runs `fn` with `span` as the active context. */
export function runInSpan<T>(span: ActiveContext, fn: () => T): T {
  storage ??= new AsyncLocalStorage();
  return storage.run(span, fn);
}

/**
 * Runs `fn` outside any trace: for long-lived work started while handling a request (a timer, a
 * loop) that must not stay a child of that request for ever.
 */
export function outsideTrace<T>(fn: () => T): T {
  return storage ? storage.exit(fn) : fn();
}

/** The `traceparent` to send on an outgoing request made now, if inside a trace. */
export function currentTraceparent(): string | undefined {
  const c = storage?.getStore();
  return c ? formatTraceparent(c) : undefined;
}

/** The active trace id (for audit entries and answers), if any. */
export function currentTraceId(): string | undefined {
  return storage?.getStore()?.traceId;
}
