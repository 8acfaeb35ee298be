// Telemetry: the daemon's logger, metrics and traces (runs in Node; the edge's half of tracing is
// kit/trace-context.ts). Every Node-side layer may import it; it imports only kit.
export { createCboMetrics, type CboMetrics } from "./catalog.ts";
export { activeContext, currentTraceId, currentTraceparent, outsideTrace } from "./context.ts";
export {
  ACCESS_LOG_MSG,
  createLogger,
  errorText,
  LOG_FORMATS,
  LOG_LEVELS,
  lineLogger,
  silentLogger,
  type LogEntry,
  type LogFields,
  type LogFormat,
  type Logger,
  type LogLevel,
  type LogSink,
  type LogValue,
} from "./logger.ts";
export {
  heapSlack,
  type MemoryReducer,
  type Reduction,
  reductionDue,
  startMemoryReducer,
  youngGenerationCommitted,
} from "./memory-reducer.ts";
export { createRedactor, maskTokens, type Redactor } from "./redact.ts";
export {
  CONTENT_TYPE as METRICS_CONTENT_TYPE,
  createRegistry,
  type Counter,
  type Gauge,
  type Histogram,
  type Registry,
} from "./registry.ts";
export { type FinishedSpan, NO_SPAN, type Span, type SpanAttributes, type SpanExporter, type SpanKind } from "./span.ts";
export {
  createTelemetry,
  logSettings,
  stderrLogger,
  stderrSink,
  type Telemetry,
  type TelemetryOptions,
  tracesEndpoint,
} from "./telemetry.ts";
export { createTracer, type RootOptions, samplerFromEnv, span, startSpan, type Tracer } from "./tracer.ts";
