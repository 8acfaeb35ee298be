// Bindings the local edge runs with simple local implementations: rate limiting (a fixed window
// per namespace and key, in the region's router, like Cloudflare's per-location counters) and the
// Analytics Engine sink that the loaded Worker's writeDataPoint() writes through.
import { WorkerEntrypoint } from "cloudflare:workers";

type Env = { CONTROL: Fetcher };

const windows = new Map<string, { window: number; count: number }>();

export class RateLimitBinding extends WorkerEntrypoint<Env> {
  async limit(opts: { key: string }): Promise<{ success: boolean }> {
    const { ns, limit, period } = (this.ctx as unknown as { props: { ns: string; limit: number; period: number } }).props;
    if (!opts || typeof opts.key !== "string") throw new TypeError("limit() needs an options object with a string `key`.");
    const window = Math.floor(Date.now() / 1000 / period);
    const k = `${ns}\0${opts.key}`;
    const w = windows.get(k);
    if (!w || w.window !== window) {
      if (windows.size > 100_000) windows.clear();
      windows.set(k, { window, count: 1 });
      return { success: 1 <= limit };
    }
    w.count++;
    return { success: w.count <= limit };
  }
}

export class AnalyticsSink extends WorkerEntrypoint<Env> {
  async write(dataset: string, point: unknown): Promise<void> {
    const { script } = (this.ctx as unknown as { props: { script: string } }).props;
    const r = await this.env.CONTROL.fetch(`http://control/ae?${new URLSearchParams({ dataset, script })}`, {
      method: "POST",
      body: JSON.stringify(point),
    });
    if (!r.ok) throw new Error(`Analytics Engine write failed (${r.status}).`);
  }
}
