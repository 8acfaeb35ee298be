// The event stream's socket in Node (src/client/stream-socket.ts takes it as OpenSocket): the `ws`
// package, which hands over a refused upgrade's HTTP answer, so that `cbo events` says
// ERR_UNAUTHORIZED with the daemon's message, not "connection failed". The token travels in the
// offered subprotocols (`cbo.token.<token>`), never in the URL.
import WebSocket from "ws";
import type { OpenSocket } from "../client/index.ts";

export const nodeSocket: OpenSocket = (url, protocols, on) => {
  const ws = new WebSocket(url, protocols, { handshakeTimeout: 10_000 });
  ws.on("open", () => on.open());
  ws.on("message", (raw) => on.message(raw.toString()));
  // A refused upgrade (401, 403, 400, 429) arrives as an HTTP answer: read its error body.
  ws.on("unexpected-response", (_req, res) => {
    const chunks: Buffer[] = [];
    res.on("data", (c: Buffer) => chunks.push(c));
    res.on("end", () => on.refused(res.statusCode ?? 500, Buffer.concat(chunks).toString("utf8")));
    res.on("error", () => on.refused(res.statusCode ?? 500, ""));
  });
  ws.on("error", (e) => on.error(e));
  ws.on("close", (code, reason) => on.close(code, reason.toString("utf8")));
  return {
    close() {
      if (ws.readyState === WebSocket.CONNECTING || ws.readyState === WebSocket.OPEN) ws.terminate();
    },
  };
};
