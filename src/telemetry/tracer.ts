// Tracing: root spans (an API request, a recovery) come from the daemon's Tracer; every other span
// is a child of the active context, made with span() or startSpan() wherever the work happens
// (a release, a wave, a step, a Cloudflare call, a gate probe, a poke, a config publish).
//
// Sampling follows OpenTelemetry's environment (OTEL_TRACES_SAMPLER, default parentbased_always_on):
// a request that arrives with a traceparent keeps its sampled flag, a new trace is sampled by the
// sampler. Spans are recorded only when sampled and an exporter is configured; otherwise a span is
// its ids only. OTEL_SDK_DISABLED=true turns tracing off (no ids, no context, no traceparent out).
import { cleanTracestate, newSpanId, newTraceId, parseTraceparent } from "../kit/trace-context.ts";
import { activeContext } from "./context.ts";
import {
  type FinishedSpan,
  NO_SPAN,
  type Span,
  type SpanAttributes,
  type SpanExporter,
  SpanHandle,
  type SpanKind,
  settle,
} from "./span.ts";

export type RootOptions = {
  /** An incoming `traceparent` to continue; a new trace without one (or when it is malformed). */
  parent?: string | null | undefined;
  traceState?: string | null | undefined;
  kind?: SpanKind;
  attributes?: SpanAttributes;
  requestId?: string;
};

export type Tracer = {
  /** false with OTEL_SDK_DISABLED: root() runs its function outside any trace. */
  readonly enabled: boolean;
  /** Are spans exported (an OTLP endpoint is configured)? */
  readonly exporting: boolean;
  /** A root span (or the continuation of `parent`), active while `fn` runs, ended when it settles. */
  root<T>(name: string, o: RootOptions, fn: (span: Span) => T): T;
  /** The same, not active and not ended: the caller calls within() and end() (the API's request span). */
  startRoot(name: string, o: RootOptions): Span;
  /** Spans made elsewhere (the edge agents', from their heartbeats), exported as they are. */
  exportRemote(spans: FinishedSpan[]): void;
  flush(): Promise<void>;
  close(): Promise<void>;
};

export type Sampler = { root(traceId: string): boolean; parentBased: boolean };

export function createTracer(o: { exporter?: SpanExporter | undefined; sampler?: Sampler; enabled?: boolean } = {}): Tracer {
  const core = { exporter: o.exporter };
  const sampler = o.sampler ?? { root: () => true, parentBased: true };
  const enabled = o.enabled !== false;

  function startRoot(name: string, r: RootOptions): Span {
    if (!enabled) return NO_SPAN;
    const parent = parseTraceparent(r.parent);
    const traceId = parent?.traceId ?? newTraceId();
    const sampled = parent && sampler.parentBased ? parent.sampled : sampler.root(traceId);
    const traceState = parent ? cleanTracestate(r.traceState) : undefined;
    // What a recorded span holds is only built when spans are exported (one per API request).
    return new SpanHandle(
      core,
      { traceId, spanId: newSpanId(), sampled, traceState, requestId: r.requestId },
      core.exporter ? { name, kind: r.kind ?? "internal", parentSpanId: parent?.spanId, attributes: { ...r.attributes } } : undefined,
    );
  }

  return {
    enabled,
    exporting: o.exporter !== undefined,
    root: (name, r, fn) => settle(startRoot(name, r), fn),
    startRoot,
    exportRemote(spans) {
      if (!core.exporter) return;
      for (const s of spans) core.exporter.export(s);
    },
    flush: () => core.exporter?.flush() ?? Promise.resolve(),
    close: () => core.exporter?.close() ?? Promise.resolve(),
  };
}

/** A child span of the active context around `fn` (just `fn` outside any trace). */
export function span<T>(name: string, attributes: SpanAttributes | undefined, fn: (span: Span) => T, kind: SpanKind = "internal"): T {
  // The context holds SpanHandles only (runInSpan's callers are span.ts and this file).
  const parent = activeContext() as SpanHandle | undefined;
  if (!parent) return fn(NO_SPAN);
  return settle(parent.child(name, kind, attributes), fn);
}

/** A child span of the active context that the caller ends (and enters with within()). */
export function startSpan(name: string, attributes?: SpanAttributes, kind: SpanKind = "internal"): Span {
  return (activeContext() as SpanHandle | undefined)?.child(name, kind, attributes) ?? NO_SPAN;
}

/** The sampler OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG name (unknown names: the default). */
export function samplerFromEnv(env: Record<string, string | undefined>): Sampler {
  const name = (env.OTEL_TRACES_SAMPLER ?? "parentbased_always_on").trim().toLowerCase();
  const parentBased = name.startsWith("parentbased_");
  const base = parentBased ? name.slice("parentbased_".length) : name;
  if (base === "always_off") return { root: () => false, parentBased };
  if (base === "traceidratio") {
    const ratio = Math.min(1, Math.max(0, Number(env.OTEL_TRACES_SAMPLER_ARG ?? "1")));
    const bound = Number.isFinite(ratio) ? ratio : 1;
    // The spec's ratio sampler: the trace id's low 8 bytes against ratio × 2^64 (first 13 hex: enough precision).
    return { root: (traceId) => Number.parseInt(traceId.slice(19), 16) / 2 ** 52 < bound, parentBased };
  }
  return { root: () => true, parentBased };
}
