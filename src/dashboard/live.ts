// The daemon's event stream for the whole page: one WebSocket, authenticated by the session
// cookie, resumed after the last event received so that a reconnect loses and repeats nothing.
//
// States: connecting --open--> live --close--> retrying --(backoff)--> connecting ...
//         any --close 1008 (session ended or refused)--> ended (the page shows the login form)
import { backoffDelay } from "../kit/backoff.ts";
import { loc } from "./browser.ts";
import type { StoredEvent } from "./types.ts";

export type LiveState = "connecting" | "live" | "retrying" | "ended";

export type Live = {
  on(fn: (e: StoredEvent) => void): () => void;
  onState(fn: (s: LiveState) => void): void;
  state(): LiveState;
  close(): void;
};

const POLICY_VIOLATION = 1008;

export function connectLive(opts: { after: number; onEnded: () => void }): Live {
  const listeners = new Set<(e: StoredEvent) => void>();
  const stateListeners = new Set<(s: LiveState) => void>();
  let state: LiveState = "connecting";
  let lastId = opts.after;
  let attempt = 0;
  let ws: WebSocket | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  const set = (s: LiveState) => {
    state = s;
    for (const fn of stateListeners) fn(s);
  };

  function open(): void {
    set("connecting");
    const scheme = loc().protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${loc().host}/v1/events/stream?after=${lastId}`);
    ws = socket;
    socket.onopen = () => {
      attempt = 0;
      set("live");
    };
    socket.onmessage = (m) => {
      const e = JSON.parse(String(m.data)) as StoredEvent;
      if (e.id <= lastId) return;
      lastId = e.id;
      for (const fn of listeners) fn(e);
    };
    socket.onclose = (c) => {
      if (closed) return;
      if (c.code === POLICY_VIOLATION) {
        set("ended");
        opts.onEnded();
        return;
      }
      set("retrying");
      timer = setTimeout(open, 200 + backoffDelay(attempt++, { baseMs: 500, maxMs: 5_000 }));
    };
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
      ws?.close(1000, "page closed");
    },
  };
}
