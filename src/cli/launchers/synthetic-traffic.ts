// A light synthetic load (`cbo up --traffic`, the canary-analysis tests and bench): requests at a
// steady rate to Workers on the local edge, spread over a few paths, so that a release's canary
// analysis has real invocations to compare. Paced, not flooding: each tick starts the requests its
// rate owes, on a keep-alive agent; answers are counted, never retried.
import http from "node:http";

export type TrafficTarget = { port: number; host: string; paths: string[] };
export type TrafficStats = { sent: number; answered: number; failed: number; byStatus: Record<string, number> };

export function startSyntheticTraffic(opts: {
  targets: TrafficTarget[];
  ratePerSec: number;
  timeoutMs?: number;
  /** Told of each 5xx answer (or failed request) when it comes back, with performance.now(). */
  onFailure?: (at: number) => void;
}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const stats: TrafficStats = { sent: 0, answered: 0, failed: 0, byStatus: {} };
  const started = performance.now();
  const inFlight = new Set<Promise<void>>();
  let stopped = false;
  let n = 0;

  function one(): void {
    const t = opts.targets[n % opts.targets.length]!;
    const path = t.paths[Math.floor(n / opts.targets.length) % t.paths.length]!;
    n++;
    stats.sent++;
    const p = new Promise<void>((resolve) => {
      const req = http.request(
        {
          host: "127.0.0.1",
          port: t.port,
          path,
          headers: { host: t.host, "user-agent": "cbo-traffic" },
          agent,
          timeout: opts.timeoutMs ?? 5_000,
        },
        (res) => {
          res.resume();
          res.on("end", () => {
            stats.answered++;
            const s = String(res.statusCode ?? 0);
            stats.byStatus[s] = (stats.byStatus[s] ?? 0) + 1;
            if ((res.statusCode ?? 0) >= 500) {
              stats.failed++;
              opts.onFailure?.(performance.now());
            }
            resolve();
          });
          res.on("error", () => resolve());
        },
      );
      req.on("timeout", () => req.destroy());
      req.on("error", () => {
        stats.failed++;
        opts.onFailure?.(performance.now());
        resolve();
      });
      req.end();
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  }

  // Every 20 ms, send what the rate owes since the start (so a slow tick catches up, evenly).
  const timer = setInterval(() => {
    if (stopped) return;
    const owed = Math.floor(((performance.now() - started) / 1000) * opts.ratePerSec) - stats.sent;
    for (let i = 0; i < Math.min(owed, 100); i++) one();
  }, 20);
  timer.unref?.();

  return {
    stats: () => ({ ...stats, byStatus: { ...stats.byStatus } }),
    async stop(): Promise<TrafficStats> {
      stopped = true;
      clearInterval(timer);
      await Promise.all([...inFlight]);
      agent.destroy();
      return { ...stats, byStatus: { ...stats.byStatus } };
    },
  };
}
