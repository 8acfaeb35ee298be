// One POST to a log sink over node:http(s), not fetch: the daemon otherwise never loads undici
// (about 17 MiB of RSS), and a shipper is a few requests a second at most. Answers the status and
// `retry-after`; the body is read and dropped. A deadline covers the whole exchange.
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

export type PostResult = { status: number; retryAfterMs: number | undefined };

export function postBody(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<PostResult> {
  const u = new URL(url);
  const send = u.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      u,
      { method: "POST", headers: { ...headers, "content-length": String(Buffer.byteLength(body)) }, timeout: timeoutMs },
      (res) => {
        res.resume();
        res.on("end", () => {
          const ra = res.headers["retry-after"];
          const seconds = ra === undefined ? Number.NaN : Number(ra);
          resolve({ status: res.statusCode ?? 0, retryAfterMs: Number.isFinite(seconds) ? seconds * 1000 : undefined });
        });
        res.on("error", reject);
      },
    );
    const deadline = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", (e) => {
      clearTimeout(deadline);
      reject(e);
    });
    req.on("close", () => clearTimeout(deadline));
    req.end(body);
  });
}
