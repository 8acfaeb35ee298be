// Child process of bench/config.bench.ts: autocannon POSTing heartbeats, each one signed afresh
// (node:crypto HMAC, the kit's `t.body` format) so that no two requests are the same message: the
// orchestrator's replay cache would refuse a repeated one. Prints one JSON summary on stdout.
import { createHmac } from "node:crypto";
import autocannon from "autocannon";

const opts = JSON.parse(process.argv[2] ?? "{}") as {
  url: string;
  keyB64url: string;
  worker: string;
  target: string;
  isolates: number;
  connections: number;
  durationSec: number;
  warmupSec: number;
};
const key = Buffer.from(opts.keyB64url, "base64url");
let n = 0;

function heartbeat(): { body: string; signature: string } {
  const i = n++;
  const now = Date.now();
  const body = JSON.stringify({
    worker: opts.worker,
    target: opts.target,
    versionId: "bench-version",
    configVersion: 1,
    isolate: `bench-${i % opts.isolates}`,
    sentAt: new Date(now).toISOString(),
    uptimeMs: 60_000,
    totals: { requests: i, errors: 0 },
    window: { sinceMs: now - 1000, requests: 10, errors: 0 },
    rejections: [],
  });
  const t = Math.floor(now / 1000);
  return { body, signature: `t=${t},v1=${createHmac("sha256", key).update(`${t}.${body}`).digest("hex")}` };
}

const request = {
  method: "POST",
  setupRequest: (req: { body?: string; headers?: Record<string, string> }) => {
    const h = heartbeat();
    req.body = h.body;
    req.headers = { ...(req.headers ?? {}), "content-type": "application/json", "cbo-signature": h.signature };
    return req;
  },
};
const result = await autocannon({
  url: opts.url,
  connections: opts.connections,
  duration: opts.durationSec,
  requests: [request],
  ...(opts.warmupSec > 0 ? { warmup: { connections: opts.connections, duration: opts.warmupSec } } : {}),
});
process.stdout.write(
  `${JSON.stringify({ durationSec: result.duration, ok: result["2xx"], non2xx: result.non2xx, errors: result.errors, rps: result["2xx"] / result.duration, latencyP99Ms: result.latency.p99 })}\n`,
);
