// WS /v1/logs/stream: fleet log lines as they arrive (src/fleet-logs), for `cbo logs --follow` and
// the dashboard's log view. Authenticated like the event stream (events-ws.ts): a token in the
// Authorization header or as the `cbo.token.<token>` subprotocol beside `cbo.v1` (never in the URL),
// or the dashboard's session cookie from a page of the same host; at least `viewer`. Each client has
// its filter and read level (a viewer gets the redacted line), and with ?worker= it keeps that
// worker's tail sessions open while it listens.
//
// A client's states: open (following) --close | too slow | missed ping | session ended--> gone.
// A client whose unsent data passes maxBufferedBytes is dropped (1013); lines are live only, so
// it reconnects and goes on from the present.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import type { LogLine } from "../contract/index.ts";
import { LogStreamQuerySchema, STREAM_PROTOCOL } from "../contract/index.ts";
import { matches, type FleetLogs, type LineFilter, type ReadLevel } from "../fleet-logs/index.ts";
import { CboError } from "../kit/errors.ts";
import { actorOf, type AuditTrail } from "../security/index.ts";
import type { AuthGate } from "./auth-gate.ts";
import { limitKeyOf } from "./client-address.ts";
import { readSessionCookie } from "./dashboard/session-cookie.ts";
import { guardSession } from "./dashboard/session-guard.ts";
import type { SessionStore } from "./dashboard/session.ts";
import { validationError } from "./errors.ts";
import { CLOSE, offeredProtocols, refuseBadCredentials, refuseUpgrade } from "./events-ws.ts";
import type { RequestOrigin } from "./request-origin.ts";
import { LOG_STREAM_PATH, readLevelOf } from "./routes-logs.ts";
import type { Logger } from "../telemetry/index.ts";
import type { StreamOptions } from "./types.ts";

type Client = {
  ws: WebSocket;
  filter: LineFilter;
  level: ReadLevel;
  alive: boolean;
  session: string | undefined;
  addressKey: string;
  principalKey: string;
  unfollow: (() => void) | undefined;
};

export type LogStream = {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  clientCount(): number;
  close(): Promise<void>;
};

export function createLogStream(deps: {
  logs: FleetLogs;
  gate: AuthGate;
  trail?: AuditTrail;
  sessions?: SessionStore;
  tenant: () => string;
  workers: () => string[];
  log: Logger;
  options?: StreamOptions;
  origin?: RequestOrigin;
}): LogStream {
  const heartbeatMs = deps.options?.heartbeatMs ?? 30_000;
  const maxBufferedBytes = deps.options?.maxBufferedBytes ?? 8 * 1024 * 1024;
  const maxPerPrincipal = deps.options?.maxPerPrincipal ?? 32;
  const maxPerAddress = deps.options?.maxPerAddress ?? 128;
  // Only cbo.v1 is ever answered, never the subprotocol that carries a token.
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: 4096,
    perMessageDeflate: false,
    handleProtocols: (protocols) => (protocols.has(STREAM_PROTOCOL) ? STREAM_PROTOCOL : false),
  });
  const clients = new Set<Client>();
  const perAddress = new Map<string, number>();
  const perPrincipal = new Map<string, number>();
  const bump = (m: Map<string, number>, k: string, by: number) => {
    const n = (m.get(k) ?? 0) + by;
    if (n <= 0) m.delete(k);
    else m.set(k, n);
  };
  const forget = (c: Client) => {
    if (!clients.delete(c)) return;
    bump(perAddress, c.addressKey, -1);
    bump(perPrincipal, c.principalKey, -1);
    c.unfollow?.();
  };
  const drop = (c: Client, code: number, reason: string) => {
    forget(c);
    c.ws.close(code, reason);
    setTimeout(() => c.ws.terminate(), 1_000).unref();
  };
  const clientOf = (req: IncomingMessage) => deps.origin?.clientOf(req) ?? req.socket.remoteAddress;
  const addressKeyOf = (req: IncomingMessage) => limitKeyOf(clientOf(req) ?? "in-process");
  const tooMany = (what: string, limit: number) =>
    new CboError("ERR_TOO_MANY_STREAMS", `Too many open log streams for this ${what} (at most ${limit}).`, {
      details: { limit },
      hint: "Close streams you no longer read (each dashboard log view and each `cbo logs --follow` holds one).",
    });

  // Each line is redacted and serialised once per read level, however many clients read it.
  const unsubscribe = deps.logs.subscribe((line) => {
    if (clients.size === 0) return;
    const shown: Partial<Record<ReadLevel, { line: LogLine; text: Buffer }>> = {};
    for (const c of clients) {
      try {
        const v = (shown[c.level] ??= (() => {
          const l = deps.logs.present(line, c.level);
          return { line: l, text: Buffer.from(JSON.stringify(l)) };
        })());
        if (!matches(v.line, c.filter)) continue;
        if (c.ws.readyState !== c.ws.OPEN) continue;
        if (c.ws.bufferedAmount > maxBufferedBytes) {
          drop(c, CLOSE.tryAgainLater, "too slow: reconnect to go on from the present");
          continue;
        }
        c.ws.send(v.text, { binary: false });
      } catch (e) {
        deps.log.error(`api: log stream fan-out failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  });
  const unsubscribeSessions = deps.sessions?.onEnd((id) => {
    for (const c of clients) if (c.session === id) drop(c, CLOSE.policy, "ERR_UNAUTHORIZED: the dashboard session has ended");
  });

  function accept(ws: WebSocket, req: IncomingMessage): void {
    const url = new URL(req.url ?? "/", "http://localhost");
    const tenant = deps.tenant();
    const route = `GET ${LOG_STREAM_PATH}`;
    let who: ReturnType<AuthGate["identify"]>;
    const addressKey = addressKeyOf(req);
    let principalKey: string;
    try {
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
      principalKey = who.session ? `session:${who.session.id}` : actorOf(who.principal);
      if ((perAddress.get(addressKey) ?? 0) >= maxPerAddress) throw tooMany("client address", maxPerAddress);
      if ((perPrincipal.get(principalKey) ?? 0) >= maxPerPrincipal)
        throw tooMany(who.session ? "dashboard session" : "token", maxPerPrincipal);
    } catch (e) {
      const code = e instanceof CboError ? e.code : "ERR_UNAUTHORIZED";
      ws.close(CLOSE.policy, `${code}: ${e instanceof CboError ? e.message : "not allowed"}`.slice(0, 120));
      return;
    }
    const query = LogStreamQuerySchema.safeParse(Object.fromEntries(url.searchParams));
    if (!query.success) {
      ws.close(CLOSE.badQuery, `ERR_VALIDATION: ${validationError("query", query.error).message}`.slice(0, 120));
      return;
    }
    const q = query.data;
    let unfollow: (() => void) | undefined;
    if (q.worker !== undefined) {
      if (!deps.workers().includes(q.worker)) {
        ws.close(CLOSE.badQuery, `ERR_NOT_FOUND: no worker named "${q.worker}" in orchestrator.yaml`.slice(0, 120));
        return;
      }
      unfollow = deps.logs.follow(q.worker);
    }
    const c: Client = {
      ws,
      filter: q,
      level: readLevelOf(who.principal),
      alive: true,
      session: who.session?.id,
      addressKey,
      principalKey,
      unfollow,
    };
    clients.add(c);
    bump(perAddress, addressKey, 1);
    bump(perPrincipal, principalKey, 1);
    ws.on("pong", () => (c.alive = true));
    ws.on("close", () => forget(c));
    ws.on("error", () => forget(c));
  }

  const heartbeat = setInterval(() => {
    for (const c of clients) {
      if (!c.alive) {
        forget(c);
        c.ws.terminate();
        continue;
      }
      if (c.session !== undefined && !deps.gate.resumeSession(c.session, false)) {
        drop(c, CLOSE.policy, "ERR_UNAUTHORIZED: the dashboard session has ended");
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
      if (path !== LOG_STREAM_PATH) return false;
      try {
        deps.origin?.checkHost(req, `GET ${LOG_STREAM_PATH}`);
      } catch (e) {
        refuseUpgrade(socket, e as CboError);
        return true;
      }
      if ((perAddress.get(addressKeyOf(req)) ?? 0) >= maxPerAddress) {
        refuseUpgrade(socket, tooMany("client address", maxPerAddress));
        return true;
      }
      if (refuseBadCredentials(req, socket, LOG_STREAM_PATH, { ...deps, clientOf })) return true;
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
      for (const c of [...clients]) forget(c);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
