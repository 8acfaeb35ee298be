// Child process of bench/load.ts: runs autocannon with the options given as JSON in argv[2] and
// prints one JSON summary on stdout. It runs apart so that the load generator does not share an
// event loop (or a core's time slice inside one process) with the servers being measured.
import autocannon from "autocannon";

const opts = JSON.parse(process.argv[2] ?? "{}") as {
  url: string;
  host?: string;
  headers?: Record<string, string>;
  connections: number;
  durationSec: number;
  warmupSec: number;
  expectBody?: string;
};

const result = await autocannon({
  url: opts.url,
  connections: opts.connections,
  duration: opts.durationSec,
  ...(opts.host !== undefined || opts.headers
    ? { headers: { ...opts.headers, ...(opts.host !== undefined ? { host: opts.host } : {}) } }
    : {}),
  ...(opts.expectBody !== undefined ? { expectBody: opts.expectBody } : {}),
  ...(opts.warmupSec > 0 ? { warmup: { connections: opts.connections, duration: opts.warmupSec } } : {}),
});

process.stdout.write(
  `${JSON.stringify({
    durationSec: result.duration,
    ok: result["2xx"],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    mismatches: result.mismatches,
    rps: result["2xx"] / result.duration,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
  })}\n`,
);
