// One rate limiter per site: a Durable Object named after the site id, counting tracking hits in
// fixed one-minute windows in its own (SQLite-backed) storage. One object per site means one
// shop's burst never slows another's, and the count holds across every region's isolates.
import { DurableObject } from "cloudflare:workers";

export class RateLimiter extends DurableObject {
  /** Counts one hit; `allowed` is false once the window holds `limit` hits already. */
  async hit(limit: number): Promise<{ allowed: boolean; count: number; resetInMs: number }> {
    const window = Math.floor(Date.now() / 60_000);
    const kv = this.ctx.storage.kv;
    const count = kv.get<number>("window") === window ? (kv.get<number>("count") ?? 0) : 0;
    const resetInMs = (window + 1) * 60_000 - Date.now();
    if (count >= limit) return { allowed: false, count, resetInMs };
    kv.put("window", window);
    kv.put("count", count + 1);
    return { allowed: true, count: count + 1, resetInMs };
  }
}
