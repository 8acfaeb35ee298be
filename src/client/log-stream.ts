// The daemon's fleet log stream (WS /v1/logs/stream?worker=&target=&status=&search=): one JSON log
// line per message, live only. The socket is handed in, as for the event stream (event-stream.ts):
// the browser's (the session cookie authenticates it) or the CLI's Node socket; a token goes as the
// `cbo.token.<token>` subprotocol, never in the URL.
//
// connectLogs is one connection; followLogs yields lines across reconnections (a daemon restart, a
// network blip) until its signal aborts: lines sent while it was away are not replayed (the kept
// ones are in GET /v1/logs). A refusal (bad token, unknown worker, bad filter) is final.
import { LogLineSchema, type LogLine, type LogStreamQuery } from "../contract/index.ts";
import { backoffDelay, sleep } from "../kit/backoff.ts";
import { CboError, ERROR_CODES, toCboError, type ErrorCode } from "../kit/errors.ts";
import { streamProtocols, type StreamSource } from "./event-stream.ts";
import { daemonDown, errorFromResponse, query } from "./request.ts";

const POLICY = 1008;
const BAD_QUERY = 4400;

export type LogHandlers = {
  onOpen?: () => void;
  onLine: (line: LogLine) => void;
  /** The connection ended: `error` says why, when it was not a normal close. */
  onEnd: (error: CboError | undefined) => void;
};

export function connectLogs(src: StreamSource, filter: LogStreamQuery, on: LogHandlers): { close(): void } {
  const base = src.url.replace(/\/+$/, "").replace(/^http/, "ws");
  let ended = false;
  const end = (error?: CboError) => {
    if (ended) return;
    ended = true;
    on.onEnd(error);
  };
  let socket: { close(): void } | undefined;
  const qs = query({ worker: filter.worker, target: filter.target, status: filter.status, search: filter.search });
  socket = src.socket(`${base}/v1/logs/stream${qs}`, streamProtocols(src.token), {
    open: () => on.onOpen?.(),
    message(text) {
      let parsed;
      try {
        parsed = LogLineSchema.safeParse(JSON.parse(text));
      } catch {
        parsed = undefined;
      }
      if (!parsed?.success) {
        end(
          new CboError("ERR_INTERNAL", `The ${src.label ?? "daemon"}'s log stream sent a message that is not a log line.`, {
            ...(src.versionHint ? { hint: src.versionHint } : {}),
          }),
        );
        socket?.close();
        return;
      }
      if (!ended) on.onLine(parsed.data);
    },
    refused: (status, body) => end(errorFromResponse(src, status, body)),
    error: (cause) => end(daemonDown(src, src.url.replace(/\/+$/, ""), cause)),
    close(code, reason) {
      if (code === POLICY || code === BAD_QUERY) {
        const m = /^(ERR_[A-Z_]+):\s*(.*)$/s.exec(reason);
        const errCode = (m?.[1] ?? (code === POLICY ? "ERR_UNAUTHORIZED" : "ERR_VALIDATION")) as ErrorCode;
        const known: ErrorCode = errCode in ERROR_CODES ? errCode : "ERR_UNAUTHORIZED";
        const hint = code === POLICY && (known === "ERR_UNAUTHORIZED" || known === "ERR_FORBIDDEN") ? src.refusedHint : undefined;
        return end(new CboError(known, m?.[2] || reason || "The daemon refused the log stream.", { ...(hint ? { hint } : {}) }));
      }
      end();
    },
  });
  return {
    close() {
      ended = true;
      socket?.close();
    },
  };
}

export type FollowLogsOptions = {
  signal?: AbortSignal;
  /** Give up after this long without a connection, once one worked (default 30 s). */
  giveUpMs?: number;
  /** Called on every connection (the first and each reconnection). */
  onOpen?: () => void;
  /** Called once per outage. */
  onLost?: (err: CboError) => void;
};

/** Lines as they arrive, across reconnections, until `signal` aborts. */
export async function* followLogs(src: StreamSource, filter: LogStreamQuery, opts: FollowLogsOptions = {}): AsyncGenerator<LogLine> {
  const giveUpMs = opts.giveUpMs ?? 30_000;
  let everConnected = false;
  let lastConnectedAt = Date.now();
  let attempt = 0;
  let lost = false;
  while (!opts.signal?.aborted) {
    const queue: LogLine[] = [];
    let ended = false;
    let failure: CboError | undefined;
    let wake: (() => void) | undefined;
    const notify = () => {
      wake?.();
      wake = undefined;
    };
    const conn = connectLogs(src, filter, {
      onOpen() {
        everConnected = true;
        lost = false;
        attempt = 0;
        lastConnectedAt = Date.now();
        opts.onOpen?.();
      },
      onLine(l) {
        queue.push(l);
        notify();
      },
      onEnd(e) {
        failure = e;
        ended = true;
        notify();
      },
    });
    const onAbort = () => {
      ended = true;
      conn.close();
      notify();
    };
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      for (;;) {
        if (queue.length > 0) {
          yield queue.shift()!;
          continue;
        }
        if (ended) break;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      opts.signal?.removeEventListener("abort", onAbort);
      conn.close();
    }
    if (opts.signal?.aborted) break;
    if (failure) {
      const err = toCboError(failure);
      if (err.isUserError || !everConnected || Date.now() - lastConnectedAt > giveUpMs) throw err;
      if (!lost) {
        lost = true;
        opts.onLost?.(err);
      }
    } else lastConnectedAt = Date.now();
    await sleep(backoffDelay(attempt++, { baseMs: 200, maxMs: 2_000 }) + 50, opts.signal).catch(() => undefined);
  }
}
