// Raw HTTP on loopback for the hardening tests: any Host header, any source address (127.0.0.x),
// any header a proxy would add (CF-Connecting-IP), and bodies streamed chunk by chunk so a test can
// see how much the server took before it answered.
import http from "node:http";

/** `body` is the parsed JSON (undefined if none), typed as the shape the caller expects. */
export type RawReply<T = unknown> = { status: number; headers: http.IncomingHttpHeaders; text: string; body: T };

export type RawRequest = {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** Source address, e.g. 127.0.0.9 (every 127.x is loopback on Linux). */
  from?: string;
};

export function rawRequest<T = unknown>(url: string, r: RawRequest): Promise<RawReply<T>> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: r.path,
        method: r.method ?? "GET",
        headers: { ...r.headers },
        agent: false,
        ...(r.from ? { localAddress: r.from } : {}),
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (text += d));
        res.on("end", () => {
          let body: unknown;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            body = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: body as T });
        });
      },
    );
    req.on("error", reject);
    req.end(r.body);
  });
}

export type StreamedReply<T = unknown> = { status: number; body: T; sentBeforeAnswer: number; elapsedMs: number };

/**
 * POSTs (or PUTs) `total` bytes in 64 KiB chunks, chunked or with the length declared up front,
 * writing as fast as the socket takes them, until the server answers (or cuts the connection).
 * `sentBeforeAnswer` is how much had been written when the answer came.
 */
export function streamBody<T = unknown>(
  url: string,
  o: { method?: string; path: string; headers?: Record<string, string>; total: number; chunked: boolean },
): Promise<StreamedReply<T>> {
  const u = new URL(url);
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const headers: Record<string, string> = { "content-type": "application/json", ...o.headers };
    if (!o.chunked) headers["content-length"] = String(o.total);
    const req = http.request({ host: u.hostname, port: u.port, path: o.path, method: o.method ?? "POST", headers, agent: false }, (res) => {
      answered = true;
      const at = sent;
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (text += d));
      res.on("end", () => {
        req.destroy();
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
        resolve({ status: res.statusCode ?? 0, body: body as T, sentBeforeAnswer: at, elapsedMs: Date.now() - started });
      });
    });
    req.on("error", (e) => {
      if (!answered) reject(e);
    });
    const pump = () => {
      while (!answered && sent < o.total) {
        const n = Math.min(chunk.length, o.total - sent);
        sent += n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void req.once("drain", pump);
      }
      if (!answered) req.end();
    };
    pump();
  });
}
