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
// Who asks: a token in the Authorization header (Node clients), or in the subprotocol list as
// `cbo.token.<token>` beside `cbo.v1` (a browser cannot set headers; the answer names `cbo.v1`
// only, so the token is never echoed), or the dashboard's session cookie. A token in the URL
// (`?token=`) is refused before the upgrade (400 ERR_TOKEN_IN_URL, recorded as auth.token_in_url
// without it): proxies, tunnels and access logs keep URLs, so a client built that way leaks it.
// A browser on the dashboard authenticates with its session cookie instead of a token; such a
// socket must come from a page of this same host (Origin), or any site could open it, and it is
// closed (1008) when its session ends: at once on logout, at the next ping after an expiry or a
// revoked token.
// Caps: a client address may hold at most maxPerAddress open streams (an upgrade past it is
// answered 429 ERR_TOO_MANY_STREAMS without upgrading), a token or session at most
// maxPerPrincipal (closed 1008 with ERR_TOO_MANY_STREAMS once it is known who asks). An upgrade
// whose Host the daemon does not go by is answered 421 ERR_HOST_NOT_ALLOWED (host-allowlist.ts).
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { CboError } from "../kit/errors.ts";
import type { StoredEvent, Store } from "../store/index.ts";
import { actorOf, type AuditTrail } from "../security/index.ts";
import type { AuthGate } from "./auth-gate.ts";
import { limitKeyOf } from "./client-address.ts";
import { validationError } from "./errors.ts";
import type { RequestOrigin } from "./request-origin.ts";
import { STREAM_PATH } from "./routes-events.ts";
import { STREAM_PROTOCOL, StreamQuerySchema, TOKEN_PROTOCOL_PREFIX } from "../contract/index.ts";
import { readSessionCookie } from "./dashboard/session-cookie.ts";
import { guardSession } from "./dashboard/session-guard.ts";
import type { SessionStore } from "./dashboard/session.ts";
import type { StreamOptions } from "./types.ts";
import type { Logger } from "../telemetry/index.ts";

export const CLOSE = { normal: 1000, goingAway: 1001, policy: 1008, tryAgainLater: 1013, badQuery: 4400 } as const;

/** The offered subprotocols (Sec-WebSocket-Protocol), and the token among them. */
export function offeredProtocols(header: string | undefined): { offered: string[]; token: string | undefined } {
  const offered = (header ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
  const carrier = offered.find((p) => p.startsWith(TOKEN_PROTOCOL_PREFIX));
  return { offered, token: carrier?.slice(TOKEN_PROTOCOL_PREFIX.length) || undefined };
}

type Filter = { tenant: string; releaseId: string | undefined };
type Client = {
  ws: WebSocket;
  filter: Filter;
  phase: "replaying" | "live";
  /** Events recorded while replaying, to send once caught up. */
  pending: Array<{ id: number; payload: Buffer }>;
  lastSent: number;
  alive: boolean;
  /** The dashboard session it was opened with, if any. */
  session: string | undefined;
  /** What it counts under in the caps: its address key and its token or session. */
  addressKey: string;
  principalKey: string;
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
  const heartbeatMs = deps.options?.heartbeatMs ?? 30_000;
  const maxBufferedBytes = deps.options?.maxBufferedBytes ?? 8 * 1024 * 1024;
  const pageSize = deps.options?.pageSize ?? 500;
  // Clients send nothing but pongs and close frames. Of the offered subprotocols only cbo.v1 is
  // ever answered: never the one carrying the token.
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: 4096,
    perMessageDeflate: false,
    handleProtocols: (protocols) => (protocols.has(STREAM_PROTOCOL) ? STREAM_PROTOCOL : false),
  });
  const clients = new Set<Client>();
  const maxPerPrincipal = deps.options?.maxPerPrincipal ?? 32;
  const maxPerAddress = deps.options?.maxPerAddress ?? 128;
  // Open streams per address key and per token/session: the caps read these, kept with `clients`.
  const perAddress = new Map<string, number>();
  const perPrincipal = new Map<string, number>();
  const bump = (m: Map<string, number>, k: string, by: number) => {
    const n = (m.get(k) ?? 0) + by;
    if (n <= 0) m.delete(k);
    else m.set(k, n);
  };
  function register(c: Client): void {
    clients.add(c);
    bump(perAddress, c.addressKey, 1);
    bump(perPrincipal, c.principalKey, 1);
  }
  /** Takes a client out of the set and the counts (once, whichever way it goes). */
  function forget(c: Client): void {
    if (!clients.delete(c)) return;
    bump(perAddress, c.addressKey, -1);
    bump(perPrincipal, c.principalKey, -1);
  }
  const clientOf = (req: IncomingMessage) => deps.origin?.clientOf(req) ?? req.socket.remoteAddress;
  const addressKeyOf = (req: IncomingMessage) => limitKeyOf(clientOf(req) ?? "in-process");
  const tooMany = (what: string, limit: number) =>
    new CboError("ERR_TOO_MANY_STREAMS", `Too many open event streams for this ${what} (at most ${limit}).`, {
      details: { limit },
      hint: "Close streams you no longer read (each dashboard tab and each `--follow` holds one).",
    });

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

  function drop(c: Client, code: number, reason: string): void {
    forget(c);
    // Its buffer is full, so a close frame would wait behind it: cut the connection, but tell the
    // peer why when the socket still takes data.
    c.ws.close(code, reason);
    setTimeout(() => c.ws.terminate(), 1_000).unref();
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

  const SESSION_ENDED = "ERR_UNAUTHORIZED: the dashboard session has ended";
  const unsubscribeSessions = deps.sessions?.onEnd((id) => {
    for (const c of clients) if (c.session === id) drop(c, CLOSE.policy, SESSION_ENDED);
  });

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
    const url = new URL(req.url ?? "/", "http://localhost");
    const tenant = deps.tenant();
    let session: string | undefined;
    let principalKey: string;
    const addressKey = addressKeyOf(req);
    try {
      // The same gate as REST: rate limit, token, role, and the audit entries for refusals.
      const route = `GET ${STREAM_PATH}`;
      const who = deps.gate.identify(
        {
          header: req.headers.authorization,
          fallbackToken: offeredProtocols(req.headers["sec-websocket-protocol"]).token,
          session: readSessionCookie(req.headers.cookie),
          client: clientOf(req),
          route,
        },
        tenant,
      );
      if (who.session) {
        if (!deps.trail) throw new CboError("ERR_FORBIDDEN", "This stream takes bearer tokens only.");
        guardSession(
          deps.trail,
          who.principal,
          { kind: "socket", site: { origin: req.headers.origin, secFetchSite: undefined, host: req.headers.host } },
          route,
          tenant,
        );
      }
      deps.gate.authorize(who.principal, "viewer", tenant, route);
      session = who.session?.id;
      // A session counts on its own (each browser login), a token with every stream it opened.
      principalKey = session !== undefined ? `session:${session}` : actorOf(who.principal);
      if ((perAddress.get(addressKey) ?? 0) >= maxPerAddress) throw tooMany("client address", maxPerAddress);
      if ((perPrincipal.get(principalKey) ?? 0) >= maxPerPrincipal)
        throw tooMany(session !== undefined ? "dashboard session" : "token", maxPerPrincipal);
    } catch (e) {
      const code = e instanceof CboError ? e.code : "ERR_UNAUTHORIZED";
      ws.close(CLOSE.policy, `${code}: ${e instanceof CboError ? e.message : "not allowed"}`.slice(0, 120));
      return;
    }
    const query = StreamQuerySchema.safeParse(Object.fromEntries(url.searchParams));
    if (!query.success) {
      ws.close(CLOSE.badQuery, `ERR_VALIDATION: ${validationError("query", query.error).message}`.slice(0, 120));
      return;
    }
    const c: Client = {
      ws,
      filter: { tenant, releaseId: query.data.release },
      phase: "replaying",
      pending: [],
      lastSent: query.data.after ?? 0,
      alive: true,
      session,
      addressKey,
      principalKey,
      closed: new Promise((resolve) => ws.once("close", () => resolve())),
    };
    register(c);
    ws.on("pong", () => (c.alive = true));
    ws.on("close", () => forget(c));
    ws.on("error", () => forget(c));
    replay(c).catch((err: unknown) => {
      log.error(`api: event stream replay failed: ${err instanceof Error ? err.message : String(err)}`);
      drop(c, 1011, "internal error");
    });
  }

  const heartbeat = setInterval(() => {
    for (const c of clients) {
      if (!c.alive) {
        forget(c);
        c.ws.terminate();
        continue;
      }
      if (c.session !== undefined && !deps.gate.resumeSession(c.session, false)) {
        drop(c, CLOSE.policy, SESSION_ENDED);
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }, heartbeatMs);
  heartbeat.unref();

  return {
    handleUpgrade(req, socket, head) {
      const path = new URL(req.url ?? "/", "http://localhost").pathname;
      if (path !== STREAM_PATH) return false;
      // Refused before upgrading (nothing is allocated for them): a Host the daemon does not go
      // by, and an address that holds its whole share of streams already.
      try {
        deps.origin?.checkHost(req, `GET ${STREAM_PATH}`);
      } catch (e) {
        refuseUpgrade(socket, e as CboError);
        return true;
      }
      if ((perAddress.get(addressKeyOf(req)) ?? 0) >= maxPerAddress) {
        refuseUpgrade(socket, tooMany("client address", maxPerAddress));
        return true;
      }
      if (refuseBadCredentials(req, socket, STREAM_PATH, { ...deps, clientOf })) return true;
      wss.handleUpgrade(req, socket, head, (ws) => accept(ws, req));
      return true;
    },
    clientCount: () => clients.size,
    async close() {
      clearInterval(heartbeat);
      unsubscribe();
      unsubscribeSessions?.();
      const open = [...wss.clients];
      for (const ws of open) ws.close(CLOSE.goingAway, "daemon shutting down");
      await Promise.race([
        Promise.all(open.map((ws) => (ws.readyState === ws.CLOSED ? undefined : new Promise((r) => ws.once("close", r))))),
        new Promise((r) => setTimeout(r, 1_000).unref()),
      ]);
      for (const ws of wss.clients) ws.terminate();
      clients.clear();
      perAddress.clear();
      perPrincipal.clear();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/**
 * Refuses (answers instead of upgrading) a stream upgrade whose credentials are wrong before it
 * happens, recording a token sent in the URL (without it); true when refused. Every stream of the
 * daemon (events, fleet logs) takes its token the same ways.
 */
export function refuseBadCredentials(
  req: IncomingMessage,
  socket: Duplex,
  path: string,
  deps: { trail?: AuditTrail | undefined; tenant: () => string; clientOf: (req: IncomingMessage) => string | undefined },
): boolean {
  const refusal = credentialsRefusal(req);
  if (!refusal) return false;
  if (refusal.code === "ERR_TOKEN_IN_URL") {
    const client = deps.clientOf(req) ?? "in-process";
    deps.trail?.denied(
      {
        actor: `client:${client}`,
        action: "auth.token_in_url",
        target: `GET ${path}`,
        tenant: deps.tenant(),
        outcome: "denied",
        details: { reason: "a token in the URL query (never read, never recorded)", client },
      },
      `client:${limitKeyOf(client)}`,
    );
  }
  refuseUpgrade(socket, refusal);
  return true;
}

/** Why the upgrade's credentials are refused before it happens: a token in the URL, or a token subprotocol without cbo.v1. */
function credentialsRefusal(req: IncomingMessage): CboError | undefined {
  const url = new URL(req.url ?? "/", "http://localhost");
  if (url.searchParams.has("token") || url.searchParams.has("access_token"))
    return new CboError("ERR_TOKEN_IN_URL", "The daemon's streams do not take a token in their URL: proxies and tunnels log URLs.", {
      hint:
        "Send it in the Authorization header, or (from a browser) as the WebSocket subprotocols " +
        `["${STREAM_PROTOCOL}", "${TOKEN_PROTOCOL_PREFIX}<token>"]; revoke a token that was sent in a URL.`,
    });
  const { offered, token } = offeredProtocols(req.headers["sec-websocket-protocol"]);
  if (token !== undefined && !offered.includes(STREAM_PROTOCOL))
    return new CboError("ERR_VALIDATION", `A ${TOKEN_PROTOCOL_PREFIX}<token> subprotocol needs "${STREAM_PROTOCOL}" offered beside it.`, {
      hint: `Offer ["${STREAM_PROTOCOL}", "${TOKEN_PROTOCOL_PREFIX}<token>"]: the server answers ${STREAM_PROTOCOL}, never the token.`,
    });
  return undefined;
}

/** An HTTP answer instead of the upgrade, with the API's error body. */
export function refuseUpgrade(socket: Duplex, err: CboError): void {
  const body = JSON.stringify(err.toJSON());
  const reason = err.status === 421 ? "Misdirected Request" : err.status === 400 ? "Bad Request" : "Too Many Requests";
  socket.end(
    `HTTP/1.1 ${err.status} ${reason}\r\nConnection: close\r\nContent-Type: application/json; charset=UTF-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
