// Tail sessions (`wrangler tail`): created by POST …/workers/scripts/:name/tails, streamed over a
// WebSocket at the URL the create call returned (subprotocol `trace-v1`; the URL carries the
// session's secret, since wrangler sends no API token on the socket), ended by DELETE or expiry.
// Each traced invocation of a tailed script arrives from the router's tail Worker and goes, as
// one JSON text message, to every socket of a session whose filters it passes.
//
// Session: created -> (socket connects: streaming) -> deleted | expired (sockets closed, 1000).
// A session whose client went away (its last socket closed, or none connected within a minute)
// ends after a short grace: wrangler 4.86 does not get to delete its session on Ctrl-C, and
// current wrangler opens a new session for every reconnect, so an orphan would otherwise keep
// its Worker traced (and count against the ten) until it expires.
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { passes, type TailFilter } from "./filters.ts";
import { acceptTailSocket, type TailSocket } from "./socket.ts";
import { tailMessage, type TraceItem, type VersionInfo } from "./trace.ts";

export const TAIL_PROTOCOL = "trace-v1";
/** Cloudflare: "A maximum of 10 clients can view a Worker's logs at one time" (real-time logs docs). */
export const MAX_TAILS_PER_SCRIPT = 10;
/** How long a session lasts (Cloudflare's `expires_at`; its length there is not documented). */
export const TAIL_TTL_MS = 6 * 3600_000;
/** A client this far behind loses messages rather than grow the edge's memory. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
const PATH = /^\/__edge\/tail\/([0-9a-f]{32})$/;
/** How long a session outlives its last socket. */
export const ORPHAN_GRACE_MS = 5_000;
/** How long a session may wait for its first socket. */
export const CONNECT_GRACE_MS = 60_000;

export type TailSession = {
  id: string;
  accountId: string;
  script: string;
  filters: TailFilter[];
  expiresAt: number;
};

/** Sockets with the address each connected from (`--ip self`). */
type Session = TailSession & { secret: string; sockets: Map<TailSocket, string> };

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
  /** Every open socket, also those of sessions already ended, so that closing the edge ends them all. */
  const sockets = new Set<TailSocket>();
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
    for (const a of changed)
      void deps.changed(a).catch((e) => deps.log?.(`local-edge: tail expiry: ${e instanceof Error ? e.message : String(e)}`));
  };

  const refuse = (socket: Duplex, status: string) => {
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    // An upgraded socket is no longer the HTTP server's to close: one left open would hold its close.
    setTimeout(() => socket.destroy(), 1000).unref();
  };

  /** Ends the session if no socket is connected `graceMs` from now. */
  const reapLater = (s: Session, graceMs: number) => {
    setTimeout(() => {
      if (sessions.get(s.id) !== s || s.sockets.size > 0) return;
      end(s, "tail orphaned");
      void deps.changed(s.accountId).catch((e) => deps.log?.(`local-edge: tail cleanup: ${e instanceof Error ? e.message : String(e)}`));
    }, graceMs).unref();
  };

  return {
    create(accountId: string, script: string, filters: TailFilter[]): TailSession & { secret: string } {
      if (!sweeper) {
        sweeper = setInterval(sweep, 30_000);
        sweeper.unref();
      }
      const s: Session = {
        id: randomBytes(16).toString("hex"),
        secret: randomBytes(24).toString("hex"),
        accountId,
        script,
        filters,
        expiresAt: now() + TAIL_TTL_MS,
        sockets: new Map(),
      };
      sessions.set(s.id, s);
      reapLater(s, CONNECT_GRACE_MS);
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
      const targets = [...sessions.values()].filter(
        (s) => s.accountId === accountId && s.script === script && s.sockets.size > 0 && s.expiresAt > now(),
      );
      if (targets.length === 0) return;
      const version = deps.version(versionId);
      for (const item of items) {
        let text: string | undefined;
        for (const s of targets) {
          for (const [ws, clientIp] of s.sockets) {
            if (!s.filters.every((f) => passes(f, item, { versionId, clientIp, random }))) continue;
            if (!ws.open || ws.buffered() > MAX_BUFFERED_BYTES) continue;
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
      const key = req.headers["sec-websocket-key"];
      if (
        !offered.includes(TAIL_PROTOCOL) ||
        typeof key !== "string" ||
        !/^[A-Za-z0-9+/]{22}==$/.test(key) ||
        req.headers["upgrade"]?.toLowerCase() !== "websocket"
      ) {
        return refuse(socket, "400 Bad Request");
      }
      const ws = acceptTailSocket(req, socket, head, TAIL_PROTOCOL);
      s.sockets.set(ws, req.socket.remoteAddress?.replace(/^::ffff:/, "") ?? "127.0.0.1");
      sockets.add(ws);
      ws.onClose(() => {
        s.sockets.delete(ws);
        sockets.delete(ws);
        if (s.sockets.size === 0) reapLater(s, ORPHAN_GRACE_MS);
      });
    },
    close(): void {
      if (sweeper) clearInterval(sweeper);
      sweeper = undefined;
      for (const ws of sockets) ws.terminate();
      sockets.clear();
      sessions.clear();
    },
  };
}
export type TailHub = ReturnType<typeof createTailHub>;
