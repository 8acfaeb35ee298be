// The daemon's event stream (WS /v1/events/stream?after=N) as an async iterator. One connection
// yields every stored event with id > after, then live ones. `followEvents` survives a dropped
// connection (daemon restart, network blip) by reconnecting from the last id it yielded, so a
// follower sees every event once, in order: the stream is resumable by design.
//
// States of followEvents: connecting -> streaming -> (server closed | error) -> waiting (backoff)
// -> connecting … A first connection that fails is reported at once (the daemon is down or the
// token is bad), unless the caller knows the daemon was there (`connected`: it just answered);
// after that, only `giveUpMs` without any connection ends the follow.
import WebSocket from "ws";
import { backoffDelay, sleep } from "../kit/backoff.ts";
import { CboError, ERROR_CODES, toCboError } from "../kit/errors.ts";
import { EventSchema, type ApiEvent } from "./api-schemas.ts";
import { daemonDown, errorFromResponse } from "./api-client.ts";

export type StreamSource = { url: string; token?: string | undefined };

/** One connection; ends when the server closes it or `signal` aborts. `onOpen` fires once connected. */
export async function* streamEvents(src: StreamSource, after: number, opts: { signal?: AbortSignal; onOpen?: () => void } = {}): AsyncGenerator<ApiEvent> {
  const wsUrl = `${src.url.replace(/^http/, "ws")}/v1/events/stream?after=${after}`;
  const ws = new WebSocket(wsUrl, { headers: src.token ? { authorization: `Bearer ${src.token}` } : {}, handshakeTimeout: 10_000 });
  const queue: ApiEvent[] = [];
  let ended = false;
  let failure: CboError | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const fail = (err: CboError) => {
    failure ??= err;
    ended = true;
    notify();
  };
  ws.on("open", () => opts.onOpen?.());
  ws.on("message", (raw) => {
    let parsed;
    try {
      parsed = EventSchema.safeParse(JSON.parse(raw.toString()));
    } catch {
      parsed = undefined;
    }
    if (!parsed?.success) {
      fail(new CboError("ERR_INTERNAL", "The daemon's event stream sent a message that is not an event.", { hint: "are the cbo CLI and the daemon the same version?" }));
      ws.terminate();
      return;
    }
    queue.push(parsed.data);
    notify();
  });
  // A refused upgrade (401, 403, 400) arrives as an HTTP answer: read its error body.
  ws.on("unexpected-response", (_req, res) => {
    const chunks: Buffer[] = [];
    res.on("data", (c: Buffer) => chunks.push(c));
    res.on("end", () => fail(errorFromResponse(res.statusCode ?? 500, Buffer.concat(chunks).toString("utf8"))));
    res.on("error", () => fail(errorFromResponse(res.statusCode ?? 500, "")));
  });
  ws.on("error", (e) => fail(daemonDown(src.url, e)));
  // The daemon refuses a stream after the upgrade with close code 1008 (token or role) or 4400
  // (bad query); its reason starts with our error code. Those are final: reconnecting cannot help.
  ws.on("close", (code, reasonBuf) => {
    if (code === 1008 || code === 4400) {
      const reason = reasonBuf.toString("utf8");
      const m = /^(ERR_[A-Z_]+):\s*(.*)$/s.exec(reason);
      const errCode = (m?.[1] ?? (code === 1008 ? "ERR_UNAUTHORIZED" : "ERR_VALIDATION")) as ConstructorParameters<typeof CboError>[0];
      fail(new CboError(errCode in ERROR_CODES ? errCode : "ERR_UNAUTHORIZED", m?.[2] || reason || "The daemon refused the event stream.", {
        ...(code === 1008 && (errCode === "ERR_UNAUTHORIZED" || errCode === "ERR_FORBIDDEN") ? { hint: "check the token (--token, CBO_TOKEN or <data>/admin-token)" } : {}),
      }));
      return;
    }
    ended = true;
    notify();
  });
  const onAbort = () => {
    ended = true;
    ws.terminate();
    notify();
  };
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    for (;;) {
      if (queue.length > 0) {
        yield queue.shift()!;
        continue;
      }
      if (ended) break;
      await new Promise<void>((resolve) => (wake = resolve));
    }
    if (failure && !opts.signal?.aborted) throw failure;
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
    if (ws.readyState === WebSocket.CONNECTING || ws.readyState === WebSocket.OPEN) ws.terminate();
  }
}

export type FollowOptions = {
  signal?: AbortSignal;
  /** Give up after this long without a connection (once one has succeeded). */
  giveUpMs?: number;
  /** Called on every (re)connection after the first, e.g. to re-check state missed meanwhile. */
  onReconnect?: () => void;
  /** The daemon answered the caller just now: a first connection that fails is not final either. */
  connected?: boolean;
  /** Called on every connection. */
  onOpen?: () => void;
  /** Called once per outage, when a connection after a working one fails (the daemon went away). */
  onLost?: (err: CboError) => void;
};

/** Every event with id > after, across reconnections, without duplicates, until `signal` aborts. */
export async function* followEvents(src: StreamSource, after: number, opts: FollowOptions = {}): AsyncGenerator<ApiEvent> {
  const giveUpMs = opts.giveUpMs ?? 30_000;
  let last = after;
  let everConnected = false;
  let lastConnectedAt = Date.now();
  let attempt = 0;
  let lost = false;
  while (!opts.signal?.aborted) {
    try {
      const onOpen = () => {
        if (everConnected) opts.onReconnect?.();
        everConnected = true;
        lost = false;
        attempt = 0;
        lastConnectedAt = Date.now();
        opts.onOpen?.();
      };
      for await (const e of streamEvents(src, last, { ...(opts.signal ? { signal: opts.signal } : {}), onOpen })) {
        if (e.id <= last) continue;
        last = e.id;
        yield e;
      }
      lastConnectedAt = Date.now();
    } catch (e) {
      const err = toCboError(e);
      // Refusals (bad token, bad `after`) and a daemon that was never there are final.
      if (err.isUserError || !(everConnected || opts.connected) || Date.now() - lastConnectedAt > giveUpMs) throw err;
      if (!lost) {
        lost = true;
        opts.onLost?.(err);
      }
    }
    if (opts.signal?.aborted) break;
    await sleep(backoffDelay(attempt++, { baseMs: 200, maxMs: 2_000 }) + 50, opts.signal).catch(() => undefined);
  }
}
