// Fleet logs on the wire: one line per Worker invocation a tail session saw (wrangler's
// TailEventMessage, labelled with the target and worker it came from), the query of the kept
// lines and of the live stream, and what the daemon's log pipeline is doing (sessions, the local
// copy, shipping). Who reads what: a `viewer` gets the line as it is shipped (redacted), every
// other role the raw line with only secret values masked (src/fleet-logs/present.ts).
import * as z from "zod";
import { LOG_SHIP_FORMATS, LOG_VERDICTS, TAIL_STATES } from "./statuses.ts";

export const LogConsoleSchema = z.object({
  level: z.string().describe("debug | info | log | warn | error"),
  message: z.array(z.unknown()).describe("The console call's arguments, as the Worker passed them (objects stay objects)"),
  time: z.string(),
});

export const LogExceptionSchema = z.object({
  name: z.string(),
  message: z.string(),
  stack: z.string().optional(),
  time: z.string(),
});

export const LogRequestSchema = z.object({
  method: z.string(),
  url: z.string(),
  headers: z.record(z.string(), z.string()).describe("As Cloudflare hands them to tails: cookies and auth headers already REDACTED"),
});

export const LogLineSchema = z.object({
  id: z.number().int().nullable().describe("Its id in the daemon's local copy (null: a line of a worker whose logs are not kept)"),
  time: z.string().describe("When the invocation started (the event's timestamp)"),
  worker: z.string(),
  target: z.string(),
  versionId: z.string().nullable(),
  outcome: z.string().describe("Cloudflare's outcome: ok, exception, exceededCpu, exceededMemory, canceled, unknown"),
  status: z.number().int().nullable().describe("The response's HTTP status (null: no response, or not a fetch)"),
  verdict: z.enum(LOG_VERDICTS).describe("error: the outcome is not ok, or the status is 5xx"),
  event: z.object({
    kind: z.enum(["fetch", "scheduled", "queue", "alarm", "other"]),
    request: LogRequestSchema.optional(),
    cron: z.string().optional(),
    queue: z.string().optional(),
  }),
  logs: z.array(LogConsoleSchema),
  exceptions: z.array(LogExceptionSchema),
});
export type LogLine = z.output<typeof LogLineSchema>;

const filterFields = {
  worker: z.string().min(1).max(64).optional(),
  target: z.string().min(1).max(64).optional(),
  status: z.enum(LOG_VERDICTS).optional().describe("ok | error (see verdict)"),
  search: z.string().min(1).max(200).optional().describe("Text in a console line, an exception or the URL (case-insensitive)"),
};

export const LogsQuerySchema = z.object({
  ...filterFields,
  limit: z.coerce.number().int().min(1).max(1000).optional().describe("At most this many lines, the newest (default 100)"),
  before: z.coerce.number().int().min(1).optional().describe("Only lines with an id below this one (paging back)"),
});
export type LogsQuery = z.input<typeof LogsQuerySchema>;

export const LogStreamQuerySchema = z.object(filterFields);
export type LogStreamQuery = z.input<typeof LogStreamQuerySchema>;

export const TailSessionSchema = z.object({
  worker: z.string(),
  target: z.string(),
  state: z.enum(TAIL_STATES),
  kept: z.boolean().describe("Opened for the configured workers (kept and shipped), not only for someone following"),
  since: z.string().describe("When it entered its state"),
  lines: z.number().int(),
  reconnects: z.number().int(),
  renewals: z.number().int().describe("Sessions replaced before they expired (Cloudflare ends one after 6 h)"),
  expiresAt: z.string().nullable(),
  lastError: z.string().nullable(),
});

export const LogsStatusSchema = z.object({
  kept: z.object({
    enabled: z.boolean(),
    keepSeconds: z.number().nullable(),
    maxBytes: z.number().nullable(),
    workers: z.array(z.string()),
    lines: z.number().int(),
    bytes: z.number().int(),
    oldest: z.string().nullable(),
    dropped: z.number().int().describe("Lines that could not be written (a full disk)"),
  }),
  sessions: z.array(TailSessionSchema),
  shipping: z.object({
    enabled: z.boolean(),
    format: z.enum(LOG_SHIP_FORMATS).nullable(),
    sink: z.string().nullable().describe("The sink's origin and path (never its query or credentials)"),
    queued: z.number().int(),
    shipped: z.number().int(),
    dropped: z.number().int().describe("Oldest lines dropped because the queue was full while the sink was down"),
    failedAttempts: z.number().int(),
    lastError: z.string().nullable(),
    lastShippedAt: z.string().nullable(),
  }),
});
export type LogsStatus = z.output<typeof LogsStatusSchema>;
