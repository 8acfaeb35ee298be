// The daemon's telemetry, made once by the composition root: the logger (format and level from
// options, else CBO_LOG_FORMAT / CBO_LOG_LEVEL), the metrics registry with every cbo_ metric, the
// tracer (OpenTelemetry's environment variables), and the redactor every line and exported span
// attribute goes through. The OTLP exporter is imported only when an endpoint is configured.
import { CboError } from "../kit/errors.ts";
import { createCboMetrics, type CboMetrics } from "./catalog.ts";
import { createLogger, LOG_FORMATS, LOG_LEVELS, type LogFormat, type Logger, type LogLevel, type LogSink } from "./logger.ts";
import { createRedactor, type Redactor } from "./redact.ts";
import type { SpanAttributes } from "./span.ts";
import { createTracer, samplerFromEnv, type Tracer } from "./tracer.ts";

export type Telemetry = {
  log: Logger;
  metrics: CboMetrics;
  tracer: Tracer;
  redactor: Redactor;
  /** Sends the spans that wait (at shutdown). */
  close(): Promise<void>;
};

export type TelemetryOptions = {
  /** Where log lines go; default stderr. */
  sink?: LogSink | undefined;
  format?: LogFormat | undefined;
  level?: LogLevel | undefined;
  /** Where CBO_LOG_* and OTEL_* are read. */
  env: Record<string, string | undefined>;
  /** The daemon's version, for cbo_build_info and the trace resource. */
  version: string;
};

export const stderrSink: LogSink = (line) => void process.stderr.write(`${line}\n`);

/** Text lines on stderr, info and up: the default of components built without the daemon's logger. */
export function stderrLogger(): Logger {
  return createLogger({ sink: stderrSink });
}

/** The log format and level options and the environment ask for (options win); ERR_VALIDATION naming a bad value. */
export function logSettings(o: { format?: string | undefined; level?: string | undefined; env: Record<string, string | undefined> }): {
  format: LogFormat;
  level: LogLevel;
} {
  const format = o.format ?? o.env.CBO_LOG_FORMAT ?? "text";
  const level = o.level ?? o.env.CBO_LOG_LEVEL ?? "info";
  if (!(LOG_FORMATS as readonly string[]).includes(format))
    throw new CboError("ERR_VALIDATION", `Unknown log format "${format}".`, { hint: `Use one of: ${LOG_FORMATS.join(", ")}.` });
  if (!(LOG_LEVELS as readonly string[]).includes(level))
    throw new CboError("ERR_VALIDATION", `Unknown log level "${level}".`, { hint: `Use one of: ${LOG_LEVELS.join(", ")}.` });
  return { format: format as LogFormat, level: level as LogLevel };
}

export async function createTelemetry(o: TelemetryOptions): Promise<Telemetry> {
  const redactor = createRedactor();
  const { format, level } = logSettings(o);
  const log = createLogger({ sink: o.sink ?? stderrSink, format, level, redactor });
  const metrics = createCboMetrics();
  metrics.buildInfo.set({ version: o.version, node: process.versions.node }, 1);
  const env = o.env;
  const enabled = !/^true$/i.test(env.OTEL_SDK_DISABLED ?? "");
  const endpoint = tracesEndpoint(env);
  let exporter;
  if (enabled && endpoint) {
    const protocol = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL;
    if (protocol && protocol !== "http/json")
      log.warn(`traces: OTEL_EXPORTER_OTLP_PROTOCOL=${protocol} is not spoken here; spans are sent as OTLP/HTTP JSON (http/json)`);
    const { createOtlpExporter } = await import("./otlp-exporter.ts");
    exporter = createOtlpExporter({
      url: endpoint,
      headers: parseHeaders(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS ?? env.OTEL_EXPORTER_OTLP_HEADERS),
      serviceName: env.OTEL_SERVICE_NAME || "clawdbot-orchestrator",
      resource: { "service.version": o.version, ...parseResource(env.OTEL_RESOURCE_ATTRIBUTES) },
      delayMs: positive(env.OTEL_BSP_SCHEDULE_DELAY, 5000),
      maxBatch: positive(env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE, 512),
      maxQueue: positive(env.OTEL_BSP_MAX_QUEUE_SIZE, 2048),
      timeoutMs: positive(env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT ?? env.OTEL_EXPORTER_OTLP_TIMEOUT, 10_000),
      log,
      redactor,
      counted: { exported: (n) => metrics.spansExported.inc(n), dropped: (n) => metrics.spansDropped.inc(n) },
    });
    // The endpoint only: its headers may hold credentials.
    log.info(`traces: exporting to ${new URL(endpoint).origin} (OTLP/HTTP JSON)`);
  }
  const tracer = createTracer({ exporter, sampler: samplerFromEnv(env), enabled });
  return { log, metrics, tracer, redactor, close: () => tracer.close() };
}

/** OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is, else OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces; none with OTEL_TRACES_EXPORTER=none. */
export function tracesEndpoint(env: Record<string, string | undefined>): string | undefined {
  if ((env.OTEL_TRACES_EXPORTER ?? "otlp").split(",").every((x) => x.trim() === "none")) return undefined;
  const specific = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  const url = specific || (base ? `${base.replace(/\/+$/, "")}/v1/traces` : undefined);
  if (url === undefined) return undefined;
  try {
    const u = new URL(url);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error("not http(s)");
  } catch {
    throw new CboError("ERR_VALIDATION", "The OTLP traces endpoint is not an http(s) URL.", {
      hint: "Set OTEL_EXPORTER_OTLP_ENDPOINT to e.g. http://127.0.0.1:4318 (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT to the full /v1/traces URL).",
    });
  }
  return url;
}

/** `k=v,k2=v2` (values URL-encoded), as OTEL_EXPORTER_OTLP_HEADERS spells them. */
function parseHeaders(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (raw ?? "").split(",")) {
    const i = part.indexOf("=");
    if (i <= 0) continue;
    const key = part.slice(0, i).trim().toLowerCase();
    if (!/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(key)) continue;
    try {
      out[key] = decodeURIComponent(part.slice(i + 1).trim());
    } catch {
      out[key] = part.slice(i + 1).trim();
    }
  }
  return out;
}

function parseResource(raw: string | undefined): SpanAttributes {
  const out: SpanAttributes = {};
  for (const part of (raw ?? "").split(",")) {
    const i = part.indexOf("=");
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

function positive(raw: string | undefined, fallback: number): number {
  const n = Number(raw);
  return raw !== undefined && Number.isFinite(n) && n > 0 ? n : fallback;
}
