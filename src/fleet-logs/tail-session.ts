// One tail session the daemon keeps open on one worker in one target, as `wrangler tail` does
// (CLOUDFLARE-API-FLEET §9.2): create a session through the Cloudflare API, connect to its
// WebSocket with the `trace-v1` subprotocol, hand each message on.
//
// States: connecting (create + connect) --open--> streaming
//   streaming --socket closed, error, or a missed pong (pings every 10 s)--> waiting
//   connecting --refused (the Worker is not there yet, the API is down)--> waiting
//   waiting --jittered backoff, 1 s doubling to 60 s--> connecting (a new session each time)
//   streaming --renewal time (expires_at minus a margin: Cloudflare ends a session after 6 h)-->
//     a second session is connected; once it streams, the first is closed and deleted. While both
//     are open, a message seen on one is not passed on again from the other.
// close(): the socket closes and the session is deleted (best effort), as wrangler does on exit.
import WebSocket from "ws";
import { TAIL_PROTOCOL, type CloudflareClient, type TailSession } from "../cloudflare/index.ts";
import type { TailState } from "../contract/index.ts";
import { backoffDelay } from "../kit/backoff.ts";
import { toCboError } from "../kit/errors.ts";
import type { Logger } from "../telemetry/index.ts";

export type TailSessionOptions = {
  worker: string;
  target: string;
  client: Pick<CloudflareClient, "createTail" | "deleteTail">;
  onMessage: (text: string, receivedAt: number) => void;
  log?: Logger;
  backoff?: { baseMs: number; maxMs: number };
  /** Renew this long before the session's expires_at (default 10 min). */
  renewMarginMs?: number;
  /** For tests: renew this long after connecting, whatever expires_at says. */
  renewAfterMs?: number;
  pingMs?: number;
};

export type TailSessionInfo = {
  worker: string;
  target: string;
  state: TailState;
  since: number;
  lines: number;
  reconnects: number;
  renewals: number;
  expiresAt: number | null;
  lastError: string | null;
};

type Conn = { session: TailSession; ws: WebSocket; alive: boolean; ping?: ReturnType<typeof setInterval> };

const DEFAULT_TTL_MS = 6 * 3600_000;

export function openTailSession(opts: TailSessionOptions) {
  const backoff = opts.backoff ?? { baseMs: 1000, maxMs: 60_000 };
  const pingMs = opts.pingMs ?? 10_000;
  const margin = opts.renewMarginMs ?? 10 * 60_000;
  const info: TailSessionInfo = {
    worker: opts.worker,
    target: opts.target,
    state: "connecting",
    since: Date.now(),
    lines: 0,
    reconnects: 0,
    renewals: 0,
    expiresAt: null,
    lastError: null,
  };
  let current: Conn | undefined;
  /** The session being replaced, open until its successor streams. */
  let previous: Conn | undefined;
  let closed = false;
  let attempt = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let renewTimer: ReturnType<typeof setTimeout> | undefined;
  const recent = new Map<string, number>();

  const set = (state: TailState) => {
    if (info.state !== state) info.since = Date.now();
    info.state = state;
  };
  const errorText = (e: unknown) => {
    const err = toCboError(e);
    return `${err.code}: ${err.message}`;
  };

  /** While two sessions overlap, the same message from both is passed on once. */
  function deliver(text: string): void {
    const now = Date.now();
    if (previous) {
      for (const [k, at] of recent) if (now - at > 5_000) recent.delete(k);
      if (recent.has(text)) return;
      recent.set(text, now);
    }
    info.lines++;
    opts.onMessage(text, now);
  }

  /** Closes the socket and deletes the session (best effort: an orphan ends when it expires). */
  function dispose(conn: Conn, reason: string): Promise<void> {
    if (conn.ping) clearInterval(conn.ping);
    conn.ws.removeAllListeners();
    conn.ws.on("error", () => {});
    if (conn.ws.readyState === WebSocket.OPEN || conn.ws.readyState === WebSocket.CONNECTING) conn.ws.close(1000, reason);
    return opts.client.deleteTail(opts.worker, conn.session.id).catch(() => {});
  }

  /** Creates a session and connects; resolves once it streams (or rejects). */
  async function connect(): Promise<Conn> {
    const session = await opts.client.createTail(opts.worker, []);
    if (closed) {
      void opts.client.deleteTail(opts.worker, session.id).catch(() => {});
      throw new Error("closed");
    }
    const ws = new WebSocket(session.url, TAIL_PROTOCOL, { headers: { "user-agent": "clawdbot-orchestrator" }, perMessageDeflate: false });
    const conn: Conn = { session, ws, alive: true };
    ws.on("message", (data) => deliver(String(data)));
    ws.on("pong", () => (conn.alive = true));
    try {
      await new Promise<void>((resolve, reject) => {
        ws.once("open", () => {
          // As wrangler: no debug mode.
          ws.send(JSON.stringify({ debug: false }));
          resolve();
        });
        ws.once("error", reject);
        ws.once("unexpected-response", (_req, res) => reject(new Error(`the tail socket was refused with HTTP ${res.statusCode}`)));
      });
    } catch (e) {
      void dispose(conn, "failed");
      throw e;
    }
    return conn;
  }

  function scheduleRetry(): void {
    if (closed) return;
    set("waiting");
    const delay = backoffDelay(attempt++, backoff) + 100;
    retryTimer = setTimeout(() => void start(), delay);
    retryTimer.unref?.();
  }

  function watch(conn: Conn): void {
    const ping = (conn.ping = setInterval(() => {
      if (!conn.alive) {
        conn.ws.terminate();
        return;
      }
      conn.alive = false;
      conn.ws.ping("cbo tail ping");
    }, pingMs));
    ping.unref?.();
    conn.ws.once("close", (code, reason) => {
      clearInterval(ping);
      if (closed || conn !== current) return;
      current = undefined;
      // A session whose socket dropped may still count against the Worker's ten at Cloudflare.
      void opts.client.deleteTail(opts.worker, conn.session.id).catch(() => {});
      if (renewTimer) clearTimeout(renewTimer);
      info.reconnects++;
      // 1000 is a clean end (deleted, expired): a new session at once; anything else backs off.
      info.lastError = code === 1000 ? null : `the tail socket closed (${code}${reason.length ? `: ${String(reason)}` : ""})`;
      if (code === 1000) {
        attempt = 0;
        void start();
      } else scheduleRetry();
    });
    conn.ws.on("error", (e) => {
      info.lastError = errorText(e);
    });
  }

  function scheduleRenewal(conn: Conn): void {
    const expires = Date.parse(conn.session.expires_at ?? "") || Date.now() + DEFAULT_TTL_MS;
    info.expiresAt = expires;
    const at = opts.renewAfterMs ?? Math.max(1000, expires - Date.now() - margin);
    renewTimer = setTimeout(() => void renew(), at);
    renewTimer.unref?.();
  }

  async function renew(): Promise<void> {
    if (closed || !current) return;
    const old = current;
    previous = old;
    try {
      const next = await connect();
      if (closed) return void dispose(next, "closed");
      current = next;
      watch(next);
      info.renewals++;
      scheduleRenewal(next);
    } catch (e) {
      // The old session keeps streaming until it ends; its close starts a new one.
      info.lastError = errorText(e);
      previous = undefined;
      renewTimer = setTimeout(() => void renew(), Math.min(60_000, backoff.maxMs));
      renewTimer.unref?.();
      return;
    }
    previous = undefined;
    recent.clear();
    void dispose(old, "renewed");
  }

  async function start(): Promise<void> {
    if (closed) return;
    set("connecting");
    try {
      const conn = await connect();
      if (closed) return void dispose(conn, "closed");
      current = conn;
      attempt = 0;
      info.lastError = null;
      set("streaming");
      watch(conn);
      scheduleRenewal(conn);
    } catch (e) {
      if (closed) return;
      const why = errorText(e);
      if (info.lastError !== why) opts.log?.warn(`fleet logs: tail of ${opts.worker} on ${opts.target}: ${why}; retrying`);
      info.lastError = why;
      scheduleRetry();
    }
  }

  void start();

  return {
    info: (): TailSessionInfo => ({ ...info }),
    /** Ends it: the socket closes and the session is deleted (waiting at most `deadlineMs` for Cloudflare). */
    async close(deadlineMs = 2_000): Promise<void> {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      if (renewTimer) clearTimeout(renewTimer);
      const deletes = [current, previous].filter((c): c is Conn => c !== undefined).map((c) => dispose(c, "closed"));
      current = previous = undefined;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([Promise.all(deletes), new Promise((r) => (timer = setTimeout(r, deadlineMs)))]);
      clearTimeout(timer);
    },
  };
}
export type TailSessionHandle = ReturnType<typeof openTailSession>;
