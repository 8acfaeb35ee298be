// Tail sessions (`wrangler tail`): created by POST …/workers/scripts/:name/tails, streamed over a
// WebSocket at the URL the create call returned (subprotocol `trace-v1`; the URL carries the
// session's secret, since wrangler sends no API token on the socket), ended by DELETE or expiry.
// Each traced invocation of a tailed script arrives from the router's tail Worker and goes, as
// one JSON text message, to every socket of a session whose filters it passes.
//
// Session: created -> (socket connects: streaming) -> deleted | expired (sockets closed, 1000).
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { passes, type TailFilter } from "./filters.ts";
import { tailMessage, type TraceItem, type VersionInfo } from "./trace.ts";

export const TAIL_PROTOCOL = "trace-v1";
/** Cloudflare: "A maximum of 10 clients can view a Worker's logs at one time" (real-time logs docs). */
export const MAX_TAILS_PER_SCRIPT = 10;
/** How long a session lasts (Cloudflare's `expires_at`; its length there is not documented). */
export const TAIL_TTL_MS = 6 * 3600_000;
/** A client this far behind loses messages rather than grow the edge's memory. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
const PATH = /^\/__edge\/tail\/([0-9a-f]{32})$/;

export type TailSession = {
  id: string;
  accountId: string;
  script: string;
  filters: TailFilter[];
  expiresAt: number;
};

/** Sockets with the address each connected from (`--ip self`). */
type Session = TailSession & { secret: string; sockets: Map<WebSocket, string> };

export type TailHubDeps = {
  /** The account's tailed scripts changed: the router must load (or stop loading) them with the tail Worker. */
  changed: (accountId: string) => Promise<void>;
  /** Id, tag and message of a version, for the messages' `scriptVersion`. */
  version: (versionId: string) => VersionInfo;
  now?: () => number;
  random?: () => number;
  log?: (line: string) => void;
};

const sameSecret = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export function createTailHub(deps: TailHubDeps) {
  const now = deps.now ?? (() => Date.now());
  const random = deps.random ?? Math.random;
  const sessions = new Map<string, Session>();
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: 64 * 1024,
    handleProtocols: (protocols) => (protocols.has(TAIL_PROTOCOL) ? TAIL_PROTOCOL : false),
  });
  let sweeper: ReturnType<typeof setInterval> | undefined;

  const end = (s: Session, reason: string) => {
    sessions.delete(s.id);
    for (const ws of s.sockets.keys()) ws.close(1000, reason);
  };

  const sweep = () => {
    const changed = new Set<string>();
    for (const s of sessions.values()) {
      if (s.expiresAt > now()) continue;
      end(s, "tail expired");
      changed.add(s.accountId);
    }
    for (const a of changed) void deps.changed(a).catch((e) => deps.log?.(`local-edge: tail expiry: ${e instanceof Error ? e.message : String(e)}`));
  };

  const refuse = (socket: Duplex, status: string) => {
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  };

  return {
    create(accountId: string, script: string, filters: TailFilter[]): TailSession & { secret: string } {
      if (!sweeper) {
        sweeper = setInterval(sweep, 30_000);
        sweeper.unref();
      }
      const s: Session = { id: randomBytes(16).toString("hex"), secret: randomBytes(24).toString("hex"), accountId, script, filters, expiresAt: now() + TAIL_TTL_MS, sockets: new Map() };
      sessions.set(s.id, s);
      return s;
    },
    list(accountId: string, script: string): Array<TailSession & { secret: string }> {
      return [...sessions.values()].filter((s) => s.accountId === accountId && s.script === script && s.expiresAt > now());
    },
    /** Ends a session: its sockets close with 1000 (wrangler's clean end). False when there is none. */
    remove(accountId: string, script: string, id: string): boolean {
      const s = sessions.get(id);
      if (!s || s.accountId !== accountId || s.script !== script) return false;
      end(s, "tail deleted");
      return true;
    },
    /** Scripts of the account with a live session. */
    tailedScripts(accountId: string): string[] {
      return [...new Set([...sessions.values()].filter((s) => s.accountId === accountId && s.expiresAt > now()).map((s) => s.script))];
    },
    /** Sends each traced invocation to the sockets of the sessions whose filters it passes. */
    publish(accountId: string, script: string, versionId: string, items: TraceItem[]): void {
      const targets = [...sessions.values()].filter((s) => s.accountId === accountId && s.script === script && s.sockets.size > 0 && s.expiresAt > now());
      if (targets.length === 0) return;
      const version = deps.version(versionId);
      for (const item of items) {
        let text: string | undefined;
        for (const s of targets) {
          for (const [ws, clientIp] of s.sockets) {
            if (!s.filters.every((f) => passes(f, item, { versionId, clientIp, random }))) continue;
            if (ws.readyState !== ws.OPEN || ws.bufferedAmount > MAX_BUFFERED_BYTES) continue;
            text ??= JSON.stringify(tailMessage(item, script, version));
            ws.send(text);
          }
        }
      }
    },
    /** The HTTP server's `upgrade` handler: tail sockets only; anything else is refused. */
    upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
      const url = new URL(req.url ?? "/", "http://edge");
      const m = PATH.exec(url.pathname);
      const s = m ? sessions.get(m[1]!) : undefined;
      if (!s || s.expiresAt <= now() || !sameSecret(url.searchParams.get("key") ?? "", s.secret)) return refuse(socket, "404 Not Found");
      const offered = (req.headers["sec-websocket-protocol"] ?? "").split(",").map((p) => p.trim());
      if (!offered.includes(TAIL_PROTOCOL)) return refuse(socket, "400 Bad Request");
      wss.handleUpgrade(req, socket, head, (ws) => {
        if (!sessions.has(s.id)) return ws.close(1000, "tail deleted");
        s.sockets.set(ws, req.socket.remoteAddress?.replace(/^::ffff:/, "") ?? "127.0.0.1");
        // The client's only message is `{"debug": bool}`; debug mode is not emulated.
        ws.on("message", () => {});
        ws.on("close", () => s.sockets.delete(ws));
        ws.on("error", () => s.sockets.delete(ws));
      });
    },
    close(): void {
      if (sweeper) clearInterval(sweeper);
      sweeper = undefined;
      for (const s of sessions.values()) for (const ws of s.sockets.keys()) ws.terminate();
      sessions.clear();
      wss.close();
    },
  };
}
export type TailHub = ReturnType<typeof createTailHub>;
