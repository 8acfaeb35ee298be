// WS /v1/events/stream: every stored event with id > after, then live ones, with no gap and no
// duplicate at the boundary. One store subscription feeds every client (each event is serialised
// once, however many clients listen).
//
// A client's states:  replaying --(caught up with the store)--> live --(close | too slow | missed ping)--> gone
//  - replaying: pages are read from the store and sent, waiting for each page to be written out
//    before the next (backpressure); events recorded meanwhile are buffered.
//  - caught up: the buffer is flushed, skipping ids already sent by the replay; from then on each
//    new event is sent as it is recorded.
// A client that lets more than maxBufferedBytes pile up unsent is dropped (close 1013); it can
// resume from the last id it received. Auth failures close with 1008, a bad query with 4400.
// Who may open it, the caps, the heartbeat and shutting down are the same for every stream of the
// daemon: stream-clients.ts.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";
import { StreamQuerySchema } from "../contract/index.ts";
import type { StoredEvent, Store } from "../store/index.ts";
import type { AuditTrail } from "../security/index.ts";
import type { AuthGate } from "./auth-gate.ts";
import type { RequestOrigin } from "./request-origin.ts";
import { STREAM_PATH } from "./routes-events.ts";
import type { SessionStore } from "./dashboard/session.ts";
import { CLOSE, createStreamClients, type StreamClient } from "./stream-clients.ts";
import type { StreamOptions } from "./types.ts";
import type { Logger } from "../telemetry/index.ts";

type Filter = { tenant: string; releaseId: string | undefined };
type Client = StreamClient & {
  filter: Filter;
  phase: "replaying" | "live";
  /** Events recorded while replaying, to send once caught up. */
  pending: Array<{ id: number; payload: Buffer }>;
  lastSent: number;
  closed: Promise<void>;
};

export type EventStream = {
  /** Handles an upgrade request; false when the path is not the stream's. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  clientCount(): number;
  close(): Promise<void>;
};

const matches = (f: Filter, e: StoredEvent) => e.tenant === f.tenant && (f.releaseId === undefined || e.release_id === f.releaseId);
const MAX_PENDING = 100_000;

export function createEventStream(deps: {
  store: Store;
  gate: AuthGate;
  trail?: AuditTrail;
  sessions?: SessionStore;
  tenant: () => string;
  log: Logger;
  options?: StreamOptions;
  /** The client's address and the Host check of an upgrade request (request-origin.ts). */
  origin?: RequestOrigin;
}): EventStream {
  const { store, log } = deps;
  const maxBufferedBytes = deps.options?.maxBufferedBytes ?? 8 * 1024 * 1024;
  const pageSize = deps.options?.pageSize ?? 500;
  const registry = createStreamClients<Client>({
    ...deps,
    path: STREAM_PATH,
    noun: "event",
    holders: "each dashboard tab and each `--follow` holds one",
  });
  const { clients, drop } = registry;

  /** Sends or drops a client that cannot keep up; false when the client is gone. */
  function send(c: Client, payload: Buffer, done?: () => void): boolean {
    if (c.ws.readyState !== c.ws.OPEN) return false;
    if (c.ws.bufferedAmount > maxBufferedBytes) {
      drop(c, CLOSE.tryAgainLater, "too slow: reconnect with ?after=<last id received>");
      return false;
    }
    c.ws.send(payload, { binary: false }, done);
    return true;
  }

  function fanOut(e: StoredEvent): void {
    if (clients.size === 0) return;
    let payload: Buffer | undefined;
    for (const c of clients) {
      if (!matches(c.filter, e)) continue;
      payload ??= Buffer.from(JSON.stringify(e));
      if (c.phase === "replaying") {
        c.pending.push({ id: e.id, payload });
        if (c.pending.length > MAX_PENDING) drop(c, CLOSE.tryAgainLater, "too slow: reconnect with ?after=<last id received>");
      } else if (e.id > c.lastSent && send(c, payload)) {
        c.lastSent = e.id;
      }
    }
  }

  // The listener runs inside whoever appended the event (the engine, the monitor): a failure here
  // must not become theirs.
  const unsubscribe = store.events.subscribe((e) => {
    try {
      fanOut(e);
    } catch (err) {
      log.error(`api: event stream fan-out failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  });

  async function replay(c: Client): Promise<void> {
    for (;;) {
      const page = store.events.list({
        after: c.lastSent,
        limit: pageSize,
        tenant: c.filter.tenant,
        ...(c.filter.releaseId ? { releaseId: c.filter.releaseId } : {}),
      });
      let written: Promise<unknown> = Promise.resolve();
      for (let i = 0; i < page.length; i++) {
        const e = page[i]!;
        let done: (() => void) | undefined;
        if (i === page.length - 1) written = new Promise<void>((resolve) => (done = resolve));
        if (!send(c, Buffer.from(JSON.stringify(e)), done)) return;
        c.lastSent = e.id;
      }
      if (page.length < pageSize) break;
      // Backpressure: the next page is read once this one is written out (or the client is gone).
      await Promise.race([written, c.closed]);
      if (!clients.has(c)) return;
    }
    // Caught up. Everything recorded since the subscription is in `pending`; what the replay
    // already sent is skipped by id.
    for (const p of c.pending) {
      if (p.id <= c.lastSent) continue;
      if (!send(c, p.payload)) return;
      c.lastSent = p.id;
    }
    c.pending = [];
    c.phase = "live";
  }

  function accept(ws: WebSocket, req: IncomingMessage): void {
    const admitted = registry.admit(ws, req, StreamQuerySchema);
    if (!admitted) return;
    const { query } = admitted;
    const c: Client = {
      ...admitted.client,
      filter: { tenant: admitted.tenant, releaseId: query.release },
      phase: "replaying",
      pending: [],
      lastSent: query.after ?? 0,
      closed: new Promise((resolve) => ws.once("close", () => resolve())),
    };
    registry.register(c);
    replay(c).catch((err: unknown) => {
      log.error(`api: event stream replay failed: ${err instanceof Error ? err.message : String(err)}`);
      drop(c, 1011, "internal error");
    });
  }

  return registry.serve(accept, unsubscribe);
}
