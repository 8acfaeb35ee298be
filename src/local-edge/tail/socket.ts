// The server side of a tail WebSocket (RFC 6455), kept to what the tail protocol uses: the
// handshake with subprotocol `trace-v1`, text frames out, pings answered with pongs carrying the
// same payload, and closes. It is written here rather than taken from `ws` because wrangler sends
// its one message, `{"debug": false}`, in an *unmasked* frame (`mask: false`, workers-sdk
// packages/wrangler/src/tail/createTail.ts): Cloudflare's tail accepts it, while `ws` (rightly, by
// the RFC) closes the connection with 1002. Here a client frame may be masked or not.
import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/** The client says little (`{"debug": …}` and pings): bigger frames end the connection. */
const MAX_FRAME = 64 * 1024;

const OP = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

export type TailSocket = {
  send(text: string): void;
  /** Sends a close frame with `code` and ends the connection. */
  close(code: number, reason: string): void;
  /** Drops the connection at once. */
  terminate(): void;
  readonly open: boolean;
  /** Bytes written but not yet flushed to the client. */
  buffered(): number;
  onClose(cb: () => void): void;
};

function frame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const head = len < 126 ? Buffer.alloc(2) : len < 65_536 ? Buffer.alloc(4) : Buffer.alloc(10);
  head[0] = 0x80 | opcode;
  if (len < 126) head[1] = len;
  else if (len < 65_536) {
    head[1] = 126;
    head.writeUInt16BE(len, 2);
  } else {
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([head, payload]);
}

/** Completes the upgrade (the caller checked the path, the key and the subprotocol). */
export function acceptTailSocket(req: IncomingMessage, socket: Duplex, head: Buffer, protocol: string): TailSocket {
  const key = String(req.headers["sec-websocket-key"] ?? "");
  const accept = createHash("sha1")
    .update(key + GUID)
    .digest("base64");
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`,
  );
  let open = true;
  let buf: Buffer = head.length > 0 ? Buffer.from(head) : Buffer.alloc(0);
  const closeCbs: Array<() => void> = [];
  const finish = () => {
    if (!open) return;
    open = false;
    for (const cb of closeCbs) cb();
  };
  const write = (opcode: number, payload: Buffer) => {
    if (socket.writable) socket.write(frame(opcode, payload));
  };
  const close = (code: number, reason: string) => {
    if (!open) return;
    const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
    payload.writeUInt16BE(code, 0);
    payload.write(reason, 2);
    write(OP.close, payload);
    finish();
    socket.end();
    // A client that never closes its side is cut off.
    setTimeout(() => socket.destroy(), 2000).unref();
  };

  const parse = () => {
    while (open && buf.length >= 2) {
      const opcode = buf[0]! & 0x0f;
      const masked = (buf[1]! & 0x80) !== 0;
      let len = buf[1]! & 0x7f;
      let at = 2;
      if (len === 126) {
        if (buf.length < 4) return;
        len = buf.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (buf.length < 10) return;
        const big = buf.readBigUInt64BE(2);
        len = big > BigInt(MAX_FRAME) ? MAX_FRAME + 1 : Number(big);
        at = 10;
      }
      if (len > MAX_FRAME) return close(1009, "frame too large");
      const maskAt = at;
      if (masked) at += 4;
      if (buf.length < at + len) return;
      const payload = Buffer.from(buf.subarray(at, at + len));
      if (masked) for (let i = 0; i < payload.length; i++) payload[i]! ^= buf[maskAt + (i % 4)]!;
      buf = buf.subarray(at + len);
      if (opcode === OP.ping) write(OP.pong, payload);
      else if (opcode === OP.close) {
        close(payload.length >= 2 ? payload.readUInt16BE(0) : 1000, "");
      }
      // Text, binary, continuation and pong frames carry nothing the edge acts on
      // (the client's `{"debug": …}` asks for a mode the edge does not emulate).
    }
  };

  socket.on("data", (chunk: Buffer) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    parse();
  });
  socket.on("close", finish);
  // The HTTP server's sockets allow half-open connections: a client gone without a close frame
  // (a killed wrangler) would otherwise stay half-open and hold the server's close forever.
  socket.on("end", () => {
    finish();
    socket.destroy();
  });
  socket.on("error", () => {
    finish();
    socket.destroy();
  });
  parse();

  return {
    send: (text) => {
      if (open) write(OP.text, Buffer.from(text));
    },
    close,
    terminate: () => {
      finish();
      socket.destroy();
    },
    get open() {
      return open;
    },
    buffered: () => socket.writableLength,
    onClose: (cb) => void closeCbs.push(cb),
  };
}
