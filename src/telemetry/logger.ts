// The daemon's logger: a message plus typed fields, written as one line in text (readable, the
// default at a terminal) or JSON (one object per line: time, level, msg, the fields, and the
// request and trace ids of the context it is called in). Components receive a Logger the way they
// used to receive `log(line)`; the composition root makes the one that writes (createLogger).
//
// Secrets are kept out by construction: a field is a string, number, boolean or null, so a key
// (bytes, a CryptoKey, a MasterKey), an Error with a cause, or any object cannot be passed; and
// every line goes through the redactor last (redact.ts), which masks token shapes and the values
// the daemon has registered (its Cloudflare token, the vault's values once read).
import { activeContext } from "./context.ts";
import type { Redactor } from "./redact.ts";

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ["text", "json"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** What a field may hold: scalars only (no object can carry a key or a value into a line). */
export type LogValue = string | number | boolean | null | undefined;
export type LogFields = { readonly [key: string]: LogValue };

export type Logger = {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** The same logger, every line also carrying `fields` (e.g. `{ component: "tunnel" }`). */
  child(fields: LogFields): Logger;
  /** Would a line at `level` be written? (To skip building an expensive message.) */
  enabled(level: LogLevel): boolean;
};

/** A finished line's level and bare message, for a sink that routes lines (e.g. `cbo up`'s terminal and file). */
export type LogEntry = { readonly level: LogLevel; readonly msg: string };

/** Where finished lines go (without the newline): stderr, a test's array. */
export type LogSink = (line: string, entry: LogEntry) => void;

/** The message of the API's access log line (one per request, api/observe-requests.ts). */
export const ACCESS_LOG_MSG = "api request";

export type LoggerOptions = {
  sink: LogSink;
  format?: LogFormat;
  /** Lines below it are dropped; default info. */
  level?: LogLevel;
  redactor?: Redactor;
  now?: () => number;
};

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function createLogger(opts: LoggerOptions): Logger {
  const format = opts.format ?? "text";
  const min = RANK[opts.level ?? "info"];
  const now = opts.now ?? Date.now;
  const redact = opts.redactor ? (s: string) => opts.redactor!.redact(s) : (s: string) => s;

  function line(level: LogLevel, msg: string, base: LogFields | undefined, fields: LogFields | undefined): string {
    if (format === "text") {
      // Text stays what the daemon always printed: the message, then any fields as key=value.
      let s = msg;
      for (const f of [base, fields]) if (f) for (const k in f) if (f[k] !== undefined) s += ` ${k}=${textValue(f[k])}`;
      return s;
    }
    const time = new Date(now()).toISOString();
    const out: Record<string, LogValue> = { time, level, msg };
    if (base) Object.assign(out, base);
    if (fields) Object.assign(out, fields);
    // A field cannot pass for the line's own time, level or message (their places stay first).
    out.time = time;
    out.level = level;
    out.msg = msg;
    const ctx = activeContext();
    if (ctx) {
      if (ctx.requestId !== undefined) out.request_id = ctx.requestId;
      out.trace_id = ctx.traceId;
      out.span_id = ctx.spanId;
    }
    return JSON.stringify(out);
  }

  function make(base: LogFields | undefined): Logger {
    const write = (level: LogLevel) => (msg: string, fields?: LogFields) => {
      if (RANK[level] < min) return;
      opts.sink(redact(line(level, msg, base, fields)), { level, msg });
    };
    return {
      debug: write("debug"),
      info: write("info"),
      warn: write("warn"),
      error: write("error"),
      child: (fields) => make(base ? { ...base, ...fields } : fields),
      enabled: (level) => RANK[level] >= min,
    };
  }
  return make(undefined);
}

function textValue(v: LogValue): string {
  if (typeof v === "string") return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return String(v);
}

/** A text logger over a line function, every level: for tests and adapters that collect lines. */
export function lineLogger(sink: LogSink): Logger {
  return createLogger({ sink, format: "text", level: "debug" });
}

/** Writes nothing. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
  enabled: () => false,
};

/** A one-line description of a thrown value for a log message (its message, never its cause or details). */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
