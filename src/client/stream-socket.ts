// What the clients of the daemon's streams (event-stream.ts, log-stream.ts) do the same way: open
// the socket with the token as a subprotocol, read each message with the stream's schema, turn a
// refusal into a CboError, and (for a follower) reconnect with backoff until a refusal, an abort,
// or `giveUpMs` without any connection. This module stays browser-safe.
import { STREAM_PROTOCOL, TOKEN_PROTOCOL_PREFIX } from "../contract/index.ts";
import { backoffDelay, sleep } from "../kit/backoff.ts";
import { CboError, ERROR_CODES, toCboError, type ErrorCode } from "../kit/errors.ts";
import { daemonDown, errorFromResponse, type Connection } from "./request.ts";

/** What happens on one socket, as the opener reports it. */
export type SocketEvents = {
  open(): void;
  message(text: string): void;
  /** The upgrade was refused with an HTTP answer (401, 403, 400, 429): its status and body. */
  refused(status: number, body: string): void;
  /** The connection failed or broke. */
  error(cause: unknown): void;
  close(code: number, reason: string): void;
};
/**
 * Opens one WebSocket to `url` offering `protocols` (Sec-WebSocket-Protocol); close() ends it at
 * once. The token, when there is one, travels as the `cbo.token.<token>` subprotocol: never in the
 * URL, where proxies and tunnels log it (the daemon refuses that), and the same in a browser,
 * which cannot set an Authorization header on a WebSocket.
 */
export type OpenSocket = (url: string, protocols: string[], on: SocketEvents) => { close(): void };

/** What a client offers: cbo.v1, plus its token when it has one (a session cookie needs none). */
export const streamProtocols = (token: string | undefined): string[] =>
  token ? [STREAM_PROTOCOL, `${TOKEN_PROTOCOL_PREFIX}${token}`] : [STREAM_PROTOCOL];

/** The browser's (or Node's global) WebSocket. */
export const globalSocket: OpenSocket = (url, protocols, on) => {
  const ws = new WebSocket(url, protocols);
  ws.onopen = () => on.open();
  ws.onmessage = (m) => on.message(String(m.data));
  ws.onerror = (e) => on.error(e);
  ws.onclose = (c) => on.close(c.code, c.reason);
  return { close: () => ws.close(1000, "done") };
};

export type StreamSource = Pick<Connection, "url" | "token" | "label" | "hints" | "downHint" | "downError" | "versionHint"> & {
  socket: OpenSocket;
  /** The hint when the daemon refuses the stream's token or role after the upgrade. */
  refusedHint?: string | undefined;
};

/** Close codes the daemon refuses a stream with after the upgrade (stream-clients.ts): final, reconnecting cannot help. */
const POLICY = 1008;
const BAD_QUERY = 4400;

export type StreamHandlers<T> = {
  onOpen?: () => void;
  onItem: (item: T) => void;
  /** The connection ended: `error` is why, when it was not the server closing it normally. */
  onEnd: (error: CboError | undefined) => void;
};

/** How a stream reads its messages and names itself in errors ("event stream", "an event"). */
export type StreamKind<T> = {
  parse: (value: unknown) => { success: true; data: T } | { success: false };
  name: string;
  item: string;
};

/** One connection to `pathAndQuery` (e.g. /v1/events/stream?after=3); each message is read with `kind.parse`. */
export function connectStream<T>(src: StreamSource, pathAndQuery: string, kind: StreamKind<T>, on: StreamHandlers<T>): { close(): void } {
  const base = src.url.replace(/\/+$/, "").replace(/^http/, "ws");
  let ended = false;
  const end = (error?: CboError) => {
    if (ended) return;
    ended = true;
    on.onEnd(error);
  };
  let socket: { close(): void } | undefined;
  socket = src.socket(`${base}${pathAndQuery}`, streamProtocols(src.token), {
    open: () => on.onOpen?.(),
    message(text) {
      let parsed;
      try {
        parsed = kind.parse(JSON.parse(text));
      } catch {
        parsed = undefined;
      }
      if (!parsed?.success) {
        end(
          new CboError("ERR_INTERNAL", `The ${src.label ?? "daemon"}'s ${kind.name} sent a message that is not ${kind.item}.`, {
            ...(src.versionHint ? { hint: src.versionHint } : {}),
          }),
        );
        socket?.close();
        return;
      }
      if (!ended) on.onItem(parsed.data);
    },
    refused: (status, body) => end(errorFromResponse(src, status, body)),
    error: (cause) => end(daemonDown(src, src.url.replace(/\/+$/, ""), cause)),
    close(code, reason) {
      if (code === POLICY || code === BAD_QUERY) {
        // Its reason starts with our error code.
        const m = /^(ERR_[A-Z_]+):\s*(.*)$/s.exec(reason);
        const errCode = (m?.[1] ?? (code === POLICY ? "ERR_UNAUTHORIZED" : "ERR_VALIDATION")) as ErrorCode;
        const known: ErrorCode = errCode in ERROR_CODES ? errCode : "ERR_UNAUTHORIZED";
        const hint = code === POLICY && (errCode === "ERR_UNAUTHORIZED" || errCode === "ERR_FORBIDDEN") ? src.refusedHint : undefined;
        return end(new CboError(known, m?.[2] || reason || `The daemon refused the ${kind.name}.`, { ...(hint ? { hint } : {}) }));
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

/** One connection as an async iterator; ends when the server closes it or `signal` aborts, throws why it failed otherwise. */
export async function* streamItems<T>(
  connect: (on: StreamHandlers<T>) => { close(): void },
  opts: { signal?: AbortSignal; onOpen?: () => void } = {},
): AsyncGenerator<T> {
  const queue: T[] = [];
  let ended = false;
  let failure: CboError | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const conn = connect({
    ...(opts.onOpen ? { onOpen: opts.onOpen } : {}),
    onItem(item) {
      queue.push(item);
      notify();
    },
    onEnd(error) {
      failure ??= error;
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
    if (failure && !opts.signal?.aborted) throw failure;
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
    conn.close();
  }
}

export type ReconnectOptions = {
  signal?: AbortSignal;
  /** Give up after this long without a connection, once one worked (default 30 s). */
  giveUpMs?: number;
  /** Called on every (re)connection after the first. */
  onReconnect?: () => void;
  /** The daemon answered the caller just now: a first connection that fails is not final either. */
  connected?: boolean;
  /** Called on every connection. */
  onOpen?: () => void;
  /** Called once per outage, when a connection after a working one fails (the daemon went away). */
  onLost?: (err: CboError) => void;
};

/**
 * The items of one connection after another (`open` is called anew for each, with the onOpen to
 * pass on), backing off between them, until `signal` aborts. Refusals and a daemon that was never
 * there are final; so is `giveUpMs` without any connection.
 */
export async function* reconnecting<T>(open: (onOpen: () => void) => AsyncIterable<T>, opts: ReconnectOptions = {}): AsyncGenerator<T> {
  const giveUpMs = opts.giveUpMs ?? 30_000;
  let everConnected = false;
  let lastConnectedAt = Date.now();
  let attempt = 0;
  let lost = false;
  while (!opts.signal?.aborted) {
    try {
      const onOpen = () => {
        if (everConnected) opts.onReconnect?.();
        everConnected = true;
        lost = false;
        attempt = 0;
        lastConnectedAt = Date.now();
        opts.onOpen?.();
      };
      yield* open(onOpen);
      lastConnectedAt = Date.now();
    } catch (e) {
      const err = toCboError(e);
      if (err.isUserError || !(everConnected || opts.connected) || Date.now() - lastConnectedAt > giveUpMs) throw err;
      if (!lost) {
        lost = true;
        opts.onLost?.(err);
      }
    }
    if (opts.signal?.aborted) break;
    await sleep(backoffDelay(attempt++, { baseMs: 200, maxMs: 2_000 }) + 50, opts.signal).catch(() => undefined);
  }
}
