// The fields of `workersInvocationsAdaptive` the local edge answers, with their units. Names and
// units follow Cloudflare's schema (README, "Canary analysis data"): sums and quantiles of a group
// of invocations, grouped by the dimensions a query selects. The edge keeps minutes, so the
// finest time dimension is the minute (`datetime` is the minute's start, where Cloudflare gives
// the second).
import type { InvocationRow } from "../state/invocations.ts";
import { ERROR_STATUSES } from "../workers/invocation-counter.ts";
import { merge, quantile, type Histogram } from "../workers/latency-histogram.ts";

/** Account-level context a row's dimensions need. */
export type RowContext = { coloCode: string };

export type DimensionKind = "time" | "date" | "string";

type Dimension = {
  kind: DimensionKind;
  /** Width of the time bucket the dimension truncates to (ms); `datetime` is the raw minute. */
  widthMs?: number;
  value(row: InvocationRow, ctx: RowContext): string;
};

const MINUTE = 60_000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
const truncTo = (width: number) => (row: InvocationRow) => iso(row.minute - (row.minute % width));

export const DIMENSIONS: Record<string, Dimension> = {
  datetime: { kind: "time", value: (r) => iso(r.minute) },
  datetimeMinute: { kind: "time", widthMs: MINUTE, value: truncTo(MINUTE) },
  datetimeFiveMinutes: { kind: "time", widthMs: 5 * MINUTE, value: truncTo(5 * MINUTE) },
  datetimeFifteenMinutes: { kind: "time", widthMs: 15 * MINUTE, value: truncTo(15 * MINUTE) },
  datetimeHalfOfHour: { kind: "time", widthMs: 30 * MINUTE, value: truncTo(30 * MINUTE) },
  datetimeHour: { kind: "time", widthMs: 60 * MINUTE, value: truncTo(60 * MINUTE) },
  datetimeSixHours: { kind: "time", widthMs: 360 * MINUTE, value: truncTo(360 * MINUTE) },
  date: { kind: "date", value: (r) => iso(r.minute).slice(0, 10) },
  scriptName: { kind: "string", value: (r) => r.script },
  scriptVersion: { kind: "string", value: (r) => r.versionId },
  status: { kind: "string", value: (r) => r.status },
  coloCode: { kind: "string", value: (_r, ctx) => ctx.coloCode },
};

/** A group of rows, summed. */
export type Group = { requests: number; errors: number; subrequests: number; wallMs: number; wall: Histogram };

export const emptyGroup = (): Group => ({ requests: 0, errors: 0, subrequests: 0, wallMs: 0, wall: {} });

export function addRow(g: Group, r: InvocationRow): void {
  g.requests += r.requests;
  if (ERROR_STATUSES.has(r.status)) g.errors += r.requests;
  g.subrequests += r.subrequests;
  g.wallMs += r.wallMs;
  merge(g.wall, r.wall);
}

/** Cloudflare's duration is wall time at 128 MB (0.125 GB): GB-seconds. */
const GB_SECONDS_PER_MS = 0.125 / 1000;
const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;

/**
 * `sum` fields. cpuTimeUs is the wall time: inside workerd the router sees no CPU time (README),
 * so CPU figures are an upper bound, not a measurement.
 */
export const SUMS: Record<string, (g: Group) => number> = {
  requests: (g) => g.requests,
  errors: (g) => g.errors,
  subrequests: (g) => g.subrequests,
  wallTime: (g) => Math.round(g.wallMs * 1000),
  cpuTimeUs: (g) => Math.round(g.wallMs * 1000),
  duration: (g) => round(g.wallMs * GB_SECONDS_PER_MS, 6),
};

const QUANTILE = /^(cpuTime|wallTime|duration)P(25|50|75|90|99|999)$/;

/** A `quantiles` field's value for a group: microseconds for cpuTime/wallTime, GB-seconds for duration. */
export function quantileField(name: string): ((g: Group) => number | null) | undefined {
  const m = QUANTILE.exec(name);
  if (!m) return undefined;
  const q = m[2] === "999" ? 0.999 : Number(m[2]) / 100;
  const duration = m[1] === "duration";
  return (g) => {
    const ms = quantile(g.wall, q);
    if (ms === undefined) return null;
    return duration ? round(ms * GB_SECONDS_PER_MS, 9) : round(ms * 1000, 2);
  };
}

/** Fields Cloudflare's dataset has that the local edge does not measure: named as such in errors. */
export const NOT_EMULATED = new Set([
  "clientDisconnects",
  "responseBodySize",
  "usageModel",
  "environmentName",
  "dispatchNamespaceName",
  "isDispatcher",
  "isPreview",
  "previewSlug",
  "scriptTag",
  "cacheStatus",
  "requestDurationP50",
  "requestDurationP99",
  "memoryUsageBytesP50",
  "memoryUsageBytesP99",
  "responseBodySizeP50",
  "responseBodySizeP99",
]);

export const TYPE_NAMES = {
  row: "AccountWorkersInvocationsAdaptive",
  sum: "AccountWorkersInvocationsAdaptiveSum",
  quantiles: "AccountWorkersInvocationsAdaptiveQuantiles",
  dimensions: "AccountWorkersInvocationsAdaptiveDimensions",
} as const;
