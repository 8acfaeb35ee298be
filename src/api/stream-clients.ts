// What every WebSocket stream of the daemon (events-ws.ts, logs-ws.ts) does the same way with its
// clients, so the two cannot drift apart: who may open one and how many, the heartbeat, and
// shutting down. What a stream sends (replay, filters, tail sessions) stays in its own file.
//
// Who asks: a token in the Authorization header (Node clients), or in the subprotocol list as
// `cbo.token.<token>` beside `cbo.v1` (a browser cannot set headers; the answer names `cbo.v1`
// only, so the token is never echoed), or the dashboard's session cookie. A token in the URL
// (`?token=`) is refused before the upgrade (400 ERR_TOKEN_IN_URL, recorded as auth.token_in_url
// without it): proxies, tunnels and access logs keep URLs, so a client built that way leaks it.
// A browser on the dashboard authenticates with its session cookie instead of a token; such a
// socket must come from a page of this same host (Origin), or any site could open it, and it is
// closed (1008) when its session ends: at once on logout, at the next ping after an expiry or a
// revoked token. Every client must answer each ping before the next one, or it is cut.
// Caps: a client address may hold at most maxPerAddress open streams (an upgrade past it is
// answered 429 ERR_TOO_MANY_STREAMS without upgrading), a token or session at most
// maxPerPrincipal (closed 1008 with ERR_TOO_MANY_STREAMS once it is known who asks). An upgrade
// whose Host the daemon does not go by is answered 421 ERR_HOST_NOT_ALLOWED (host-allowlist.ts).
// Each stream keeps its own counts: the caps apply per stream.
import { maskTokens } from "../telemetry/index.ts";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import type * as z from "zod";
import { STREAM_PROTOCOL, TOKEN_PROTOCOL_PREFIX } from "../contract/index.ts";
import { CboError } from "../kit/errors.ts";
import { actorOf, type AuditTrail } from "../security/index.ts";
import type { AuthGate, Identity } from "./auth-gate.ts";
import { limitKeyOf } from "./client-address.ts";
import { readSessionCookie } from "./dashboard/session-cookie.ts";
import { guardSession } from "./dashboard/session-guard.ts";
import type { SessionStore } from "./dashboard/session.ts";
import { validationError } from "./errors.ts";
import type { RequestOrigin } from "./request-origin.ts";
import type { StreamOptions } from "./types.ts";

export const CLOSE = { normal: 1000, goingAway: 1001, policy: 1008, tryAgainLater: 1013, badQuery: 4400 } as const;

const SESSION_ENDED = "ERR_UNAUTHORIZED: the dashboard session has ended";

/** What the registry keeps of each client; a stream adds its own fields. */
export type StreamClient = {
  ws: WebSocket;
  alive: boolean;
  /** The dashboard session it was opened with, if any. */
  session: string | undefined;
  /** What it counts under in the caps: its address key and its token or session. */
  addressKey: string;
  principalKey: string;
};

/** Who opened an accepted socket, its valid query, and the registry's fields of its client. */
export type Admitted<Q> = { who: Identity; tenant: string; query: Q; client: StreamClient };

export type StreamClients<C extends StreamClient> = {
  /** The clients admitted and not gone yet. */
  readonly clients: ReadonlySet<C>;
  /**
   * Authenticates and authorizes (viewer) a just-upgraded socket, checks the caps (else closes it
   * 1008), then reads its query with `schema` (else closes it 4400); undefined when it was closed.
   */
  admit<Q>(ws: WebSocket, req: IncomingMessage, schema: z.ZodType<Q>): Admitted<Q> | undefined;
  /** Counts a client in and follows its pongs and its end. */
  register(c: C): void;
  /** Takes a client out of the set and the counts (once, whichever way it goes). */
  forget(c: C): void;
  /** Closes a client with `code` and `reason`, cut a second later if it does not go. */
  drop(c: C, code: number, reason: string): void;
  /**
   * The stream as the daemon serves it: its upgrades (`accept` takes each upgraded socket), its
   * client count, and close(), which calls `stop` (the stream's own subscriptions) and then closes
   * every socket (1001), waiting up to a second for them, then the server.
   */
  serve(accept: (ws: WebSocket, req: IncomingMessage) => void, stop: () => void): ServedStream;
};

export type ServedStream = {
  /** Handles an upgrade request; false when the path is not the stream's. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  clientCount(): number;
  close(): Promise<void>;
};

export function createStreamClients<C extends StreamClient>(deps: {
  /** The stream's path, e.g. /v1/events/stream. */
  path: string;
  /** How the cap's error names the stream ("event", "log") and what holds one. */
  noun: string;
  holders: string;
  gate: AuthGate;
  trail?: AuditTrail | undefined;
  sessions?: SessionStore | undefined;
  tenant: () => string;
  options?: StreamOptions | undefined;
  /** The client's address and the Host check of an upgrade request (request-origin.ts). */
  origin?: RequestOrigin | undefined;
  /** What else a client holds, released when it is forgotten. */
  onForget?: (c: C) => void;
}): StreamClients<C> {
  const heartbeatMs = deps.options?.heartbeatMs ?? 30_000;
  const maxPerPrincipal = deps.options?.maxPerPrincipal ?? 32;
  const maxPerAddress = deps.options?.maxPerAddress ?? 128;
  const route = `GET ${deps.path}`;
  // Clients send nothing but pongs and close frames. Of the offered subprotocols only cbo.v1 is
  // ever answered: never the one carrying the token.
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: 4096,
    perMessageDeflate: false,
    handleProtocols: (protocols) => (protocols.has(STREAM_PROTOCOL) ? STREAM_PROTOCOL : false),
  });
  const clients = new Set<C>();
  // Open streams per address key and per token/session: the caps read these, kept with `clients`.
  const perAddress = new Map<string, number>();
  const perPrincipal = new Map<string, number>();
  const bump = (m: Map<string, number>, k: string, by: number) => {
    const n = (m.get(k) ?? 0) + by;
    if (n <= 0) m.delete(k);
    else m.set(k, n);
  };
  function forget(c: C): void {
    if (!clients.delete(c)) return;
    bump(perAddress, c.addressKey, -1);
    bump(perPrincipal, c.principalKey, -1);
    deps.onForget?.(c);
  }
  function drop(c: C, code: number, reason: string): void {
    forget(c);
    // Its buffer may be full, so a close frame would wait behind it: cut the connection, but tell
    // the peer why when the socket still takes data.
    c.ws.close(code, reason);
    setTimeout(() => c.ws.terminate(), 1_000).unref();
  }
  const clientOf = (req: IncomingMessage) => deps.origin?.clientOf(req) ?? req.socket.remoteAddress;
  const addressKeyOf = (req: IncomingMessage) => limitKeyOf(clientOf(req) ?? "in-process");
  const tooMany = (what: string, limit: number) =>
    new CboError("ERR_TOO_MANY_STREAMS", `Too many open ${deps.noun} streams for this ${what} (at most ${limit}).`, {
      details: { limit },
      hint: `Close streams you no longer read (${deps.holders}).`,
    });

  const unsubscribeSessions = deps.sessions?.onEnd((id) => {
    for (const c of clients) if (c.session === id) drop(c, CLOSE.policy, SESSION_ENDED);
  });

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
    clients,
    admit(ws, req, schema) {
      const tenant = deps.tenant();
      const addressKey = addressKeyOf(req);
      let who: Identity;
      let principalKey: string;
      try {
        // The same gate as REST: rate limit, token, role, and the audit entries for refusals.
        who = deps.gate.identify(
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
        // A session counts on its own (each browser login), a token with every stream it opened.
        principalKey = who.session ? `session:${who.session.id}` : actorOf(who.principal);
        if ((perAddress.get(addressKey) ?? 0) >= maxPerAddress) throw tooMany("client address", maxPerAddress);
        if ((perPrincipal.get(principalKey) ?? 0) >= maxPerPrincipal)
          throw tooMany(who.session ? "dashboard session" : "token", maxPerPrincipal);
      } catch (e) {
        const code = e instanceof CboError ? e.code : "ERR_UNAUTHORIZED";
        ws.close(CLOSE.policy, maskTokens(`${code}: ${e instanceof CboError ? e.message : "not allowed"}`).slice(0, 120));
        return undefined;
      }
      const query = schema.safeParse(Object.fromEntries(new URL(req.url ?? "/", "http://localhost").searchParams));
      if (!query.success) {
        ws.close(CLOSE.badQuery, `ERR_VALIDATION: ${validationError("query", query.error).message}`.slice(0, 120));
        return undefined;
      }
      return { who, tenant, query: query.data, client: { ws, alive: true, session: who.session?.id, addressKey, principalKey } };
    },
    register(c) {
      clients.add(c);
      bump(perAddress, c.addressKey, 1);
      bump(perPrincipal, c.principalKey, 1);
      c.ws.on("pong", () => (c.alive = true));
      c.ws.on("close", () => forget(c));
      c.ws.on("error", () => forget(c));
    },
    forget,
    drop,
    serve: (accept, stop) => ({
      handleUpgrade(req, socket, head) {
        const path = new URL(req.url ?? "/", "http://localhost").pathname;
        if (path !== deps.path) return false;
        // Refused before upgrading (nothing is allocated for them): a Host the daemon does not go
        // by, and an address that holds its whole share of streams already.
        try {
          deps.origin?.checkHost(req, route);
        } catch (e) {
          refuseUpgrade(socket, e as CboError);
          return true;
        }
        if ((perAddress.get(addressKeyOf(req)) ?? 0) >= maxPerAddress) {
          refuseUpgrade(socket, tooMany("client address", maxPerAddress));
          return true;
        }
        if (refuseBadCredentials(req, socket, deps.path, { trail: deps.trail, tenant: deps.tenant, clientOf })) return true;
        wss.handleUpgrade(req, socket, head, (ws) => accept(ws, req));
        return true;
      },
      clientCount: () => clients.size,
      async close() {
        stop();
        clearInterval(heartbeat);
        unsubscribeSessions?.();
        const open = [...wss.clients];
        for (const ws of open) ws.close(CLOSE.goingAway, "daemon shutting down");
        await Promise.race([
          Promise.all(open.map((ws) => (ws.readyState === ws.CLOSED ? undefined : new Promise((r) => ws.once("close", r))))),
          new Promise((r) => setTimeout(r, 1_000).unref()),
        ]);
        for (const ws of wss.clients) ws.terminate();
        for (const c of [...clients]) forget(c);
        await new Promise<void>((resolve) => wss.close(() => resolve()));
      },
    }),
  };
}

/** The offered subprotocols (Sec-WebSocket-Protocol), and the token among them. */
export function offeredProtocols(header: string | undefined): { offered: string[]; token: string | undefined } {
  const offered = (header ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
  const carrier = offered.find((p) => p.startsWith(TOKEN_PROTOCOL_PREFIX));
  return { offered, token: carrier?.slice(TOKEN_PROTOCOL_PREFIX.length) || undefined };
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
  return handshakeRefusal(req, offered);
}

const HTTP_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * The handshake headers ws would refuse with a bare text/html 400 ("Missing or invalid
 * Sec-WebSocket-Key header"): refused here first, in the API's error shape, naming the header.
 */
function handshakeRefusal(req: IncomingMessage, offered: string[]): CboError | undefined {
  const bad = (header: string, what: string) =>
    new CboError("ERR_VALIDATION", `The WebSocket handshake's ${header} ${what}.`, {
      hint: "Use a WebSocket client library (RFC 6455, version 13); it sends these headers itself.",
      details: { header },
    });
  if (!/^[+/0-9A-Za-z]{22}==$/.test(req.headers["sec-websocket-key"] ?? ""))
    return bad("Sec-WebSocket-Key", "is missing or is not 16 bytes in base64");
  const version = req.headers["sec-websocket-version"];
  if (version !== "13" && version !== "8") return bad("Sec-WebSocket-Version", "is missing or not 13");
  if (offered.some((p) => !HTTP_TOKEN.test(p)) || new Set(offered).size !== offered.length)
    return bad("Sec-WebSocket-Protocol", "lists a subprotocol twice or one with characters a subprotocol cannot have");
  return undefined;
}

/** An HTTP answer instead of the upgrade, with the API's error body. */
export function refuseUpgrade(socket: Duplex, err: CboError): void {
  const body = maskTokens(JSON.stringify(err.toJSON()));
  const reason = err.status === 421 ? "Misdirected Request" : err.status === 400 ? "Bad Request" : "Too Many Requests";
  socket.end(
    `HTTP/1.1 ${err.status} ${reason}\r\nConnection: close\r\nContent-Type: application/json; charset=UTF-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
