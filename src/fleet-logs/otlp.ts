// Log lines as the two shipping formats. OTLP/HTTP JSON (opentelemetry-proto's
// ExportLogsServiceRequest, as an OTLP collector's /v1/logs takes it): one record for the
// invocation (`GET url → 200`, severity by verdict) and one per console line and exception, each
// with the Worker's labels as attributes. JSON lines: one LogLine per line.
import type { LogLine } from "../contract/index.ts";

type AnyValue = { stringValue: string } | { intValue: string };
type Attr = { key: string; value: AnyValue };
type LogRecord = {
  timeUnixNano: string;
  observedTimeUnixNano: string;
  severityNumber: number;
  severityText: string;
  body: { stringValue: string };
  attributes: Attr[];
};

/** OpenTelemetry's severity numbers (logs data model). */
const SEVERITY: Record<string, [number, string]> = {
  trace: [1, "TRACE"],
  debug: [5, "DEBUG"],
  info: [9, "INFO"],
  log: [9, "INFO"],
  warn: [13, "WARN"],
  error: [17, "ERROR"],
};

const str = (key: string, v: string): Attr => ({ key, value: { stringValue: v } });
const nanos = (iso: string) => `${BigInt(Date.parse(iso) || 0) * 1_000_000n}`;
const part = (p: unknown) => (typeof p === "string" ? p : (JSON.stringify(p) ?? String(p)));

function labels(l: LogLine): Attr[] {
  return [
    str("faas.name", l.worker),
    str("cloud.region", l.target),
    ...(l.versionId ? [str("faas.version", l.versionId)] : []),
    str("cloudflare.outcome", l.outcome),
    str("cbo.verdict", l.verdict),
    ...(l.id !== null ? [{ key: "cbo.log_id", value: { intValue: String(l.id) } }] : []),
  ];
}

function records(l: LogLine, observed: string): LogRecord[] {
  const base = labels(l);
  const req = l.event.request;
  const summary = req
    ? `${req.method} ${req.url}${l.status !== null ? ` → ${l.status}` : ""} (${l.outcome})`
    : `${l.event.kind}${l.event.cron ? ` ${l.event.cron}` : ""}${l.event.queue ? ` ${l.event.queue}` : ""} (${l.outcome})`;
  const out: LogRecord[] = [
    {
      timeUnixNano: nanos(l.time),
      observedTimeUnixNano: observed,
      severityNumber: l.verdict === "ok" ? 9 : 17,
      severityText: l.verdict === "ok" ? "INFO" : "ERROR",
      body: { stringValue: summary },
      attributes: [
        ...base,
        str("cbo.record", "invocation"),
        ...(req ? [str("http.request.method", req.method), str("url.full", req.url)] : []),
        ...(l.status !== null ? [{ key: "http.response.status_code", value: { intValue: String(l.status) } }] : []),
      ],
    },
  ];
  for (const c of l.logs) {
    const [n, text] = SEVERITY[c.level] ?? [9, "INFO"];
    out.push({
      timeUnixNano: nanos(c.time),
      observedTimeUnixNano: observed,
      severityNumber: n,
      severityText: text,
      body: { stringValue: c.message.map(part).join(" ") },
      attributes: [...base, str("cbo.record", "console"), str("log.level", c.level)],
    });
  }
  for (const e of l.exceptions) {
    out.push({
      timeUnixNano: nanos(e.time),
      observedTimeUnixNano: observed,
      severityNumber: 17,
      severityText: "ERROR",
      body: { stringValue: `${e.name}: ${e.message}` },
      attributes: [
        ...base,
        str("cbo.record", "exception"),
        str("exception.type", e.name),
        str("exception.message", e.message),
        ...(e.stack ? [str("exception.stacktrace", e.stack)] : []),
      ],
    });
  }
  return out;
}

export function otlpBody(lines: LogLine[], resource: { tenant: string }, now: number = Date.now()): string {
  const observed = `${BigInt(now) * 1_000_000n}`;
  return JSON.stringify({
    resourceLogs: [
      {
        resource: { attributes: [str("service.name", "clawdbot-orchestrator"), str("cbo.tenant", resource.tenant)] },
        scopeLogs: [{ scope: { name: "cbo.fleet-logs" }, logRecords: lines.flatMap((l) => records(l, observed)) }],
      },
    ],
  });
}

export function jsonlBody(lines: LogLine[]): string {
  return `${lines.map((l) => JSON.stringify(l)).join("\n")}\n`;
}
