// `logs:` in orchestrator.yaml: which Workers' logs the daemon keeps (raw, locally, for `keep`
// and at most `max_mib`), and where it ships a redacted copy. Read by src/fleet-logs/.
//
//   logs:
//     keep: 7d
//     max_mib: 256
//     workers: [ads-api]            # or "*": every worker of the spec
//     ship:
//       url: https://logs.example.com/v1/logs
//       format: otlp                # or jsonl
//       headers: { Authorization: LOGS_SINK_AUTH }   # header -> the vault secret holding its value
//       redact: [request.headers.x-user-id, "**.email"]
import * as z from "zod";
import { durationMs } from "./backup.ts";

/** A duration (`30s`, `15m`, `12h`, `7d`) between `minMs` and `maxMs`, read into milliseconds. */
const DurationSchema = (minMs: number, maxMs: number, example: string) =>
  z.string().transform((text, ctx) => {
    const ms = durationMs(text);
    if (ms === undefined) {
      ctx.addIssue({ code: "custom", message: `a duration like ${example} (a whole number and s, m, h, d or w), not "${text}"` });
      return z.NEVER;
    }
    if (ms < minMs || ms > maxMs) {
      ctx.addIssue({ code: "custom", message: `${text} is outside ${minMs / 1000}s to ${maxMs / 86_400_000}d` });
      return z.NEVER;
    }
    return ms;
  });

const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/;
/** A field path of a log line: dot-separated keys, `*` for any one key, `**` for any depth. */
const FIELD_PATH = /^(\*\*|\*|[A-Za-z0-9_$@-]{1,100})(\.(\*\*|\*|[A-Za-z0-9_$@-]{1,100})){0,15}$/;

export const LogShipSchema = z
  .object({
    /** Where the redacted copy goes (POST): an OTLP/HTTP logs endpoint (…/v1/logs) or any JSON-lines receiver. */
    url: z
      .string()
      .max(2048)
      .refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), "an http(s) URL, e.g. https://logs.example.com/v1/logs"),
    format: z.enum(["otlp", "jsonl"]).default("otlp"),
    /** Request headers whose values are vault secrets (an API key, a bearer token): header -> secret name. */
    headers: z
      .record(
        z.string().regex(HEADER_NAME, "a header name"),
        z.string().regex(SECRET_NAME, "the name of a vault secret holding the header's value"),
      )
      .optional(),
    /** Fields masked in the shipped copy besides secrets, tokens, emails and IP addresses (see README). */
    redact: z
      .array(z.string().regex(FIELD_PATH, 'a field path like request.headers.x-user-id, logs.message.*.email or "**.password"'))
      .max(100)
      .default([]),
    /** Lines per request. */
    batch_lines: z.number().int().min(1).max(5000).default(200),
    /** How long a line may wait for its batch to fill. */
    flush_ms: z.number().int().min(10).max(60_000).default(1000),
    /** Lines held while the sink is down; past it the oldest are dropped (and counted). */
    queue_lines: z.number().int().min(1).max(1_000_000).default(10_000),
  })
  .strict();

export const LogsSpecSchema = z
  .object({
    /** How long the raw local copy keeps a line (default 7 days). */
    keep: DurationSchema(1000, 90 * 86_400_000, "7d").default(7 * 86_400_000),
    /** And at most this much of it, oldest dropped first (default 256 MiB). */
    max_mib: z
      .number()
      .int()
      .min(1)
      .max(1024 * 1024)
      .default(256),
    /** Workers whose logs are kept and shipped: names, or "*" for all. */
    workers: z.union([z.literal("*"), z.array(z.string().min(1).max(64))]).default([]),
    ship: LogShipSchema.optional(),
  })
  .strict();
export type LogsSpec = z.output<typeof LogsSpecSchema>;

/** `logs:` as the daemon uses it: `workers` resolved to names. */
export type ResolvedLogs = {
  keepMs: number;
  maxBytes: number;
  workers: string[];
  ship?: z.output<typeof LogShipSchema>;
};
export type LogShip = z.output<typeof LogShipSchema>;
