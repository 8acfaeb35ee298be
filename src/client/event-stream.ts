// The daemon's event stream (WS /v1/events/stream?after=N), for every client. One connection yields
// every stored event with id > after, then live ones. The socket itself is handed in (OpenSocket):
// the browser's WebSocket (the session cookie authenticates it), or in Node one that reads a
// refused upgrade's error body (src/cli/node-socket.ts); a token goes as a subprotocol either way.
// This module stays browser-safe; what it shares with the log stream is in stream-socket.ts.
//
// connectEvents is one connection with its outcome as a CboError; streamEvents the same as an
// async iterator; followEvents survives a dropped connection (daemon restart, network blip) by
// reconnecting from the last id it yielded, so a follower sees every event once, in order.
//
// States of followEvents: connecting -> streaming -> (server closed | error) -> waiting (backoff)
// -> connecting … A first connection that fails is reported at once (the daemon is down or the
// token is bad), unless the caller knows the daemon was there (`connected`: it just answered);
// after that, only `giveUpMs` without any connection ends the follow.
import { AnyEventSchema, type AnyEvent } from "../contract/index.ts";
import type { CboError } from "../kit/errors.ts";
import { connectStream, reconnecting, streamItems, type ReconnectOptions, type StreamKind, type StreamSource } from "./stream-socket.ts";

export type EventHandlers = {
  onOpen?: () => void;
  onEvent: (e: AnyEvent) => void;
  /** The connection ended: `error` is why, when it was not the server closing it normally. */
  onEnd: (error: CboError | undefined) => void;
};

const EVENTS: StreamKind<AnyEvent> = { parse: (v) => AnyEventSchema.safeParse(v), name: "event stream", item: "an event" };

/** One connection to the stream from `after`; each message is read as an event (of any type). */
export function connectEvents(src: StreamSource, after: number, on: EventHandlers): { close(): void } {
  return connectStream(src, `/v1/events/stream?after=${after}`, EVENTS, {
    onOpen: () => on.onOpen?.(),
    onItem: (e) => on.onEvent(e),
    onEnd: (error) => on.onEnd(error),
  });
}

/** One connection as an async iterator; ends when the server closes it or `signal` aborts. `onOpen` fires once connected. */
export function streamEvents(
  src: StreamSource,
  after: number,
  opts: { signal?: AbortSignal; onOpen?: () => void } = {},
): AsyncGenerator<AnyEvent> {
  return streamItems((on) => connectStream(src, `/v1/events/stream?after=${after}`, EVENTS, on), opts);
}

export type FollowOptions = ReconnectOptions;

/** Every event with id > after, across reconnections, without duplicates, until `signal` aborts. */
export async function* followEvents(src: StreamSource, after: number, opts: FollowOptions = {}): AsyncGenerator<AnyEvent> {
  let last = after;
  // Each reconnection goes on from the last id yielded.
  const open = (onOpen: () => void) => streamEvents(src, last, { ...(opts.signal ? { signal: opts.signal } : {}), onOpen });
  for await (const e of reconnecting(open, opts)) {
    if (e.id <= last) continue;
    last = e.id;
    yield e;
  }
}
