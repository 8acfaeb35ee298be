// WS /v1/logs/stream: fleet log lines as they arrive (src/fleet-logs), for `cbo logs --follow` and
// the dashboard's log view. Authenticated like every stream (stream-clients.ts): a token in the
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
import type { WebSocket } from "ws";
import type { LogLine } from "../contract/index.ts";
import { LogStreamQuerySchema } from "../contract/index.ts";
import { matches, type FleetLogs, type LineFilter, type ReadLevel } from "../fleet-logs/index.ts";
import type { AuditTrail } from "../security/index.ts";
import type { AuthGate } from "./auth-gate.ts";
import type { SessionStore } from "./dashboard/session.ts";
import type { RequestOrigin } from "./request-origin.ts";
import { LOG_STREAM_PATH, readLevelOf } from "./routes-logs.ts";
import { CLOSE, createStreamClients, type StreamClient } from "./stream-clients.ts";
import { maskTokens, type Logger } from "../telemetry/index.ts";
import type { StreamOptions } from "./types.ts";

type Client = StreamClient & {
  filter: LineFilter;
  level: ReadLevel;
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
  const maxBufferedBytes = deps.options?.maxBufferedBytes ?? 8 * 1024 * 1024;
  const registry = createStreamClients<Client>({
    ...deps,
    path: LOG_STREAM_PATH,
    noun: "log",
    holders: "each dashboard log view and each `cbo logs --follow` holds one",
    onForget: (c) => c.unfollow?.(),
  });
  const { clients, drop } = registry;

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
  function accept(ws: WebSocket, req: IncomingMessage): void {
    const admitted = registry.admit(ws, req, LogStreamQuerySchema);
    if (!admitted) return;
    const q = admitted.query;
    let unfollow: (() => void) | undefined;
    if (q.worker !== undefined) {
      if (!deps.workers().includes(q.worker)) {
        ws.close(CLOSE.badQuery, maskTokens(`ERR_NOT_FOUND: no worker named "${q.worker}" in orchestrator.yaml`).slice(0, 120));
        return;
      }
      unfollow = deps.logs.follow(q.worker);
    }
    const c: Client = { ...admitted.client, filter: q, level: readLevelOf(admitted.who.principal), unfollow };
    registry.register(c);
  }

  return registry.serve(accept, unsubscribe);
}
