// The daemon's event stream for the whole page: one WebSocket (the one daemon client's, on the
// browser's socket: the session cookie authenticates it), resumed after the last event received so
// that a reconnect loses and repeats nothing.
//
// States: connecting --open--> live --close--> retrying --(backoff)--> connecting ...
//         any --refused (session ended or refused: close 1008)--> ended (the page shows the login form)
import type { DaemonClient } from "../client/index.ts";
import { backoffDelay } from "../kit/backoff.ts";
import type { StoredEvent } from "./types.ts";

export type LiveState = "connecting" | "live" | "retrying" | "ended";

export type Live = {
  on(fn: (e: StoredEvent) => void): () => void;
  onState(fn: (s: LiveState) => void): void;
  state(): LiveState;
  close(): void;
};

export function connectLive(api: Pick<DaemonClient, "connectEvents">, opts: { after: number; onEnded: () => void }): Live {
  const listeners = new Set<(e: StoredEvent) => void>();
  const stateListeners = new Set<(s: LiveState) => void>();
  let state: LiveState = "connecting";
  let lastId = opts.after;
  let attempt = 0;
  let conn: { close(): void } | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  const set = (s: LiveState) => {
    state = s;
    for (const fn of stateListeners) fn(s);
  };

  function open(): void {
    set("connecting");
    conn = api.connectEvents(lastId, {
      onOpen() {
        attempt = 0;
        set("live");
      },
      onEvent(e) {
        if (e.id <= lastId) return;
        lastId = e.id;
        for (const fn of listeners) fn(e);
      },
      onEnd(error) {
        if (closed) return;
        // Refused (the session ended, or a stream it may not open): final.
        if (error?.isUserError) {
          set("ended");
          opts.onEnded();
          return;
        }
        set("retrying");
        timer = setTimeout(open, 200 + backoffDelay(attempt++, { baseMs: 500, maxMs: 5_000 }));
      },
    });
  }
  open();

  return {
    on(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    onState: (fn) => void stateListeners.add(fn),
    state: () => state,
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      conn?.close();
    },
  };
}
