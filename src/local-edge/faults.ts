// Injected faults per region, and the API rate limiter they drive. The router inside workerd
// applies outage/latency/errorRate to Worker traffic; the API applies outage/latency/rateLimit.
import type { Fault } from "./types.ts";

export function createFaults(now: () => number = () => Date.now()) {
  const faults = new Map<string, Fault>();
  const hits = new Map<string, number[]>();
  return {
    get(region: string): Fault {
      return faults.get(region) ?? {};
    },
    set(region: string, fault: Fault | null): void {
      if (fault === null || Object.keys(fault).length === 0) faults.delete(region);
      else faults.set(region, fault);
      hits.delete(region);
    },
    /** Counts an API call against the region's injected rate limit; returns ms to wait if over it. */
    rateLimited(region: string): number | undefined {
      const rl = faults.get(region)?.rateLimit;
      if (!rl) return undefined;
      const t = now();
      const windowMs = rl.windowSec * 1000;
      const list = (hits.get(region) ?? []).filter((x) => x > t - windowMs);
      hits.set(region, list);
      if (list.length >= rl.limit) return Math.max(1, (list[0] ?? t) + windowMs - t);
      list.push(t);
      return undefined;
    },
  };
}
export type Faults = ReturnType<typeof createFaults>;
