// The daemon's fleet log stream (WS /v1/logs/stream?worker=&target=&status=&search=): one JSON log
// line per message, live only. The socket is handed in, as for the event stream (event-stream.ts):
// the browser's (the session cookie authenticates it) or the CLI's Node socket; a token goes as the
// `cbo.token.<token>` subprotocol, never in the URL.
//
// connectLogs is one connection; followLogs yields lines across reconnections (a daemon restart, a
// network blip) until its signal aborts: lines sent while it was away are not replayed (the kept
// ones are in GET /v1/logs). A refusal (bad token, unknown worker, bad filter) is final.
import { LogLineSchema, type LogLine, type LogStreamQuery } from "../contract/index.ts";
import type { CboError } from "../kit/errors.ts";
import { query } from "./request.ts";
import { connectStream, reconnecting, streamItems, type ReconnectOptions, type StreamKind, type StreamSource } from "./stream-socket.ts";

export type LogHandlers = {
  onOpen?: () => void;
  onLine: (line: LogLine) => void;
  /** The connection ended: `error` says why, when it was not a normal close. */
  onEnd: (error: CboError | undefined) => void;
};

const LOGS: StreamKind<LogLine> = { parse: (v) => LogLineSchema.safeParse(v), name: "log stream", item: "a log line" };

const pathOf = (filter: LogStreamQuery) =>
  `/v1/logs/stream${query({ worker: filter.worker, target: filter.target, status: filter.status, search: filter.search })}`;

export function connectLogs(src: StreamSource, filter: LogStreamQuery, on: LogHandlers): { close(): void } {
  return connectStream(src, pathOf(filter), LOGS, {
    onOpen: () => on.onOpen?.(),
    onItem: (l) => on.onLine(l),
    onEnd: (error) => on.onEnd(error),
  });
}

export type FollowLogsOptions = Pick<ReconnectOptions, "signal" | "giveUpMs" | "onOpen" | "onLost">;

/** Lines as they arrive, across reconnections, until `signal` aborts. */
export function followLogs(src: StreamSource, filter: LogStreamQuery, opts: FollowLogsOptions = {}): AsyncGenerator<LogLine> {
  const { signal } = opts;
  return reconnecting(
    (onOpen) => streamItems((on) => connectStream(src, pathOf(filter), LOGS, on), { ...(signal ? { signal } : {}), onOpen }),
    opts,
  );
}
