// Plain node:http requests to a region's public port with an explicit Host header (undici's fetch
// drops Host), over a keep-alive agent so that thousands of requests reuse a few sockets.
import http from "node:http";

export type HttpResult = { status: number; body: string; headers: http.IncomingHttpHeaders };

export function createKeepAliveAgent(maxSockets = 16): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets });
}

export function httpGet(
  port: number,
  host: string,
  opts: { path?: string; headers?: Record<string, string>; agent?: http.Agent; timeoutMs?: number } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        path: opts.path ?? "/",
        method: "GET",
        headers: { ...opts.headers, host },
        agent: opts.agent ?? false,
        timeout: opts.timeoutMs ?? 15_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), headers: res.headers }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`GET http://${host}:${port}${opts.path ?? "/"} timed out`)));
    req.on("error", reject);
    req.end();
  });
}

/** What the test Workers (see worker-source.ts) answer. */
export type WorkerReply = { v: string; greeting: string | null; secret: string | null; other: string | null; kv: string | null };

/** GETs a Worker by its `<name>.localhost` host and parses its JSON reply; throws with the raw answer otherwise. */
export async function getWorker(
  port: number,
  worker: string,
  opts: { headers?: Record<string, string>; agent?: http.Agent; host?: string } = {},
): Promise<WorkerReply> {
  const res = await httpGet(port, opts.host ?? `${worker}.localhost`, opts);
  if (res.status !== 200) throw new Error(`Worker ${worker} answered ${res.status}: ${res.body.slice(0, 500)}`);
  try {
    return JSON.parse(res.body) as WorkerReply;
  } catch {
    throw new Error(`Worker ${worker} answered non-JSON: ${res.body.slice(0, 500)}`);
  }
}

/**
 * Polls until `check` passes or `timeoutMs` elapses, then rethrows its last error. A deploy is
 * acknowledged before every socket sees the new version, so the tests allow a short settle time
 * instead of asserting on the first request after an API call.
 */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 10_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}

/** Runs `concurrency` loops of `count` total requests and returns each reply's outcome. */
export async function hammer<T>(count: number, concurrency: number, one: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        out[i] = await one(i);
      }
    }),
  );
  return out;
}
