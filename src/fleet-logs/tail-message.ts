// A tail session's message (wrangler's TailEventMessage, one per Worker invocation) and the log
// line it becomes: labelled with the worker and target whose session it came from, its verdict
// worked out, its timestamps as ISO strings. The raw store keeps the message exactly as received;
// this view is what the API, the CLI and the dashboard read.
import * as z from "zod";
import type { LogLine, LogVerdict } from "../contract/index.ts";

const TimeSchema = z.number().nullish();
const RequestSchema = z.looseObject({
  url: z.string().catch(""),
  method: z.string().catch(""),
  headers: z.record(z.string(), z.unknown()).catch({}),
});

export const TailMessageSchema = z.looseObject({
  outcome: z.string().catch("unknown"),
  scriptName: z.string().nullish(),
  scriptVersion: z.looseObject({ id: z.string().nullish() }).nullish().catch(null),
  eventTimestamp: TimeSchema.catch(null),
  logs: z
    .array(z.looseObject({ message: z.array(z.unknown()).catch([]), level: z.string().catch("log"), timestamp: TimeSchema.catch(null) }))
    .catch([]),
  exceptions: z
    .array(
      z.looseObject({
        name: z.string().catch("Error"),
        message: z.unknown().optional(),
        stack: z.string().nullish().catch(null),
        timestamp: TimeSchema.catch(null),
      }),
    )
    .catch([]),
  event: z
    .looseObject({
      request: RequestSchema.nullish().catch(null),
      response: z.looseObject({ status: z.number().int().nullish() }).nullish().catch(null),
      cron: z.string().nullish().catch(null),
      queue: z.string().nullish().catch(null),
      scheduledTime: z.number().nullish().catch(null),
    })
    .nullish()
    .catch(null),
});
export type TailMessage = z.infer<typeof TailMessageSchema>;

/** Where a line came from, and its id in the local copy when it is kept. */
export type LineOrigin = { worker: string; target: string; id: number | null; receivedAt: number };

const iso = (ms: number | null | undefined, fallback: number) =>
  new Date(typeof ms === "number" && Number.isFinite(ms) ? ms : fallback).toISOString();
const text = (v: unknown) => (typeof v === "string" ? v : (JSON.stringify(v) ?? String(v)));

/** error: the invocation did not end ok (an exception, a limit, a cancel), or it answered a 5xx. */
export function verdictOf(outcome: string, status: number | null): LogVerdict {
  return outcome === "ok" && (status === null || status < 500) ? "ok" : "error";
}

/** The line for a message as parsed (TailMessageSchema). */
export function toLogLine(m: TailMessage, origin: LineOrigin): LogLine {
  const status = m.event?.response?.status ?? null;
  const request = m.event?.request;
  const kind = request
    ? "fetch"
    : m.event?.cron != null
      ? "scheduled"
      : m.event?.queue != null
        ? "queue"
        : m.event?.scheduledTime != null
          ? "alarm"
          : "other";
  return {
    id: origin.id,
    time: iso(m.eventTimestamp, origin.receivedAt),
    worker: origin.worker,
    target: origin.target,
    versionId: m.scriptVersion?.id ?? null,
    outcome: m.outcome,
    status,
    verdict: verdictOf(m.outcome, status),
    event: {
      kind,
      ...(request
        ? {
            request: {
              method: request.method,
              url: request.url,
              headers: Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, text(v)])),
            },
          }
        : {}),
      ...(m.event?.cron != null ? { cron: m.event.cron } : {}),
      ...(m.event?.queue != null ? { queue: m.event.queue } : {}),
    },
    logs: m.logs.map((l) => ({ level: l.level, message: l.message, time: iso(l.timestamp, origin.receivedAt) })),
    exceptions: m.exceptions.map((e) => ({
      name: e.name,
      message: text(e.message),
      ...(e.stack ? { stack: e.stack } : {}),
      time: iso(e.timestamp, origin.receivedAt),
    })),
  };
}

/** Parses a message's text; undefined when it is not a JSON object. */
export function parseTailMessage(textOf: string): TailMessage | undefined {
  let json: unknown;
  try {
    json = JSON.parse(textOf);
  } catch {
    return undefined;
  }
  const r = TailMessageSchema.safeParse(json);
  return r.success ? r.data : undefined;
}
