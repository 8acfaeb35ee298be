// A span: ids always (they go out in `traceparent` and into log lines and audit entries), and the
// rest (name, times, attributes) only when it is recorded, i.e. exported and sampled. Without an
// exporter a span is one small object holding its ids, which is also the async context of the
// code it covers (context.ts).
import { formatTraceparent, newSpanId } from "../kit/trace-context.ts";
import { runInSpan } from "./context.ts";

export type SpanKind = "internal" | "server" | "client";
export type SpanAttributes = { [key: string]: string | number | boolean | undefined };

/** A finished span as exporters take it. Times are epoch milliseconds (fractional). */
export type FinishedSpan = {
  traceId: string;
  spanId: string;
  parentSpanId?: string | undefined;
  name: string;
  kind: SpanKind;
  startMs: number;
  endMs: number;
  attributes: SpanAttributes;
  /** Set when the work failed: a short description (an error code and message, never details). */
  error?: string | undefined;
  /** Who did the work: the daemon, or an edge agent (its spans arrive in heartbeats). */
  origin?: "daemon" | "edge";
};

export type SpanExporter = {
  export(span: FinishedSpan): void;
  flush(): Promise<void>;
  close(): Promise<void>;
};

/** What spans of one tracer share: where recorded spans go. */
export type TracerCore = { exporter: SpanExporter | undefined };

export type Span = {
  readonly traceId: string | undefined;
  setAttribute(key: string, value: string | number | boolean | undefined): void;
  rename(name: string): void;
  /** Marks the span failed (ended spans ignore it). */
  fail(message: string): void;
  end(): void;
  /** Runs `fn` with this span active (its calls become its children). */
  within<T>(fn: () => T): T;
  /** The `traceparent` naming this span as the parent, if it has ids. */
  traceparent(): string | undefined;
};

type Recording = {
  name: string;
  kind: SpanKind;
  parentSpanId: string | undefined;
  startMs: number;
  attributes: SpanAttributes;
  error?: string;
  ended: boolean;
};

export const nowMs = (): number => performance.timeOrigin + performance.now();

export class SpanHandle implements Span {
  readonly traceId: string;
  readonly spanId: string;
  readonly sampled: boolean;
  readonly traceState: string | undefined;
  /** The API request this span belongs to (its x-request-id), inherited by children. */
  readonly requestId: string | undefined;
  readonly core: TracerCore;
  private readonly rec: Recording | undefined;

  constructor(
    core: TracerCore,
    ids: { traceId: string; spanId: string; sampled: boolean; traceState?: string | undefined; requestId?: string | undefined },
    rec?: Omit<Recording, "startMs" | "ended">,
  ) {
    this.core = core;
    this.traceId = ids.traceId;
    this.spanId = ids.spanId;
    this.sampled = ids.sampled;
    this.traceState = ids.traceState;
    this.requestId = ids.requestId;
    this.rec = rec && core.exporter && ids.sampled ? { ...rec, startMs: nowMs(), ended: false } : undefined;
  }

  /** A child of this span (recorded when this one is). */
  child(name: string, kind: SpanKind, attributes: SpanAttributes | undefined): SpanHandle {
    const ids = {
      traceId: this.traceId,
      spanId: newSpanId(),
      sampled: this.sampled,
      traceState: this.traceState,
      requestId: this.requestId,
    };
    return new SpanHandle(this.core, ids, this.rec ? { name, kind, parentSpanId: this.spanId, attributes: { ...attributes } } : undefined);
  }

  setAttribute(key: string, value: string | number | boolean | undefined): void {
    if (this.rec && !this.rec.ended) this.rec.attributes[key] = value;
  }

  rename(name: string): void {
    if (this.rec && !this.rec.ended) this.rec.name = name;
  }

  fail(message: string): void {
    if (this.rec && !this.rec.ended) this.rec.error = message.slice(0, 300);
  }

  end(): void {
    const r = this.rec;
    if (!r || r.ended) return;
    r.ended = true;
    this.core.exporter?.export({
      traceId: this.traceId,
      spanId: this.spanId,
      parentSpanId: r.parentSpanId,
      name: r.name,
      kind: r.kind,
      startMs: r.startMs,
      endMs: nowMs(),
      attributes: r.attributes,
      error: r.error,
      origin: "daemon",
    });
  }

  within<T>(fn: () => T): T {
    return runInSpan(this, fn);
  }

  traceparent(): string {
    return formatTraceparent(this);
  }
}

/** The span of code outside any trace: does nothing. */
export const NO_SPAN: Span = {
  traceId: undefined,
  setAttribute() {},
  rename() {},
  fail() {},
  end() {},
  within: (fn) => fn(),
  traceparent: () => undefined,
};

/** Runs `fn` in `span` and ends it when `fn` settles (failed when it throws or rejects). */
export function settle<T>(span: Span, fn: (s: Span) => T): T {
  let out: T;
  try {
    out = span.within(() => fn(span));
  } catch (e) {
    span.fail(describe(e));
    span.end();
    throw e;
  }
  if (out instanceof Promise) {
    return out.then(
      (v) => (span.end(), v),
      (e: unknown) => {
        span.fail(describe(e));
        span.end();
        throw e;
      },
    ) as T;
  }
  span.end();
  return out;
}

function describe(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  if (e instanceof Error && typeof code === "string") return `${code}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}
