// How many Cloudflare API reads drift checks may spend. Every token has one request budget
// (src/cloudflare/budget.ts: 960 per 5 minutes by default) shared with releases, rollbacks and
// /v1/status; reading every worker on every target each monitor interval would use it all (the
// example fleet, 2 workers x 3 targets at 1 s, asks 6/s of a budget that allows 3.2/s).
//
// So drift reads draw from a token bucket per budget: `share` of its limit per window, half as a
// burst and half refilled evenly, which bounds drift to `share` of any window (burst + refill).
// While anyone waits for a budget slot (a release), drift reads none: they are the ones to wait.
// Those it does make are `background` in the budget's queue (checker.ts), behind people's plans
// and the daemon's releases.
// A read that is refused is not lost: the checker reads the targets checked longest ago first.
import type { RequestBudget } from "../../cloudflare/index.ts";

export type Pace = {
  /** Takes one read for a target on this budget; false: not now. */
  take(budget: RequestBudget): boolean;
  /** Records reads already made outside take() (version reads during a drift); may go into debt. */
  spend(budget: RequestBudget, n: number): void;
};

export function createPace(opts: { share?: number; now?: () => number } = {}): Pace {
  const share = Math.min(Math.max(opts.share ?? 0.5, 0), 1);
  const now = opts.now ?? Date.now;
  const buckets = new WeakMap<RequestBudget, { tokens: number; at: number }>();

  function bucket(budget: RequestBudget) {
    const { limit, windowMs } = budget.stats();
    const capacity = (share * limit) / 2;
    const perMs = capacity / windowMs;
    const t = now();
    let b = buckets.get(budget);
    if (!b) {
      b = { tokens: capacity, at: t };
      buckets.set(budget, b);
    }
    b.tokens = Math.min(capacity, b.tokens + (t - b.at) * perMs);
    b.at = t;
    return b;
  }

  return {
    take(budget) {
      if (budget.stats().queued > 0) return false;
      const b = bucket(budget);
      if (b.tokens < 1) return false;
      b.tokens -= 1;
      return true;
    },
    spend(budget, n) {
      bucket(budget).tokens -= n;
    },
  };
}
