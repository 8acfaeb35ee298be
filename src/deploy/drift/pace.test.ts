// The drift reads' share of a token's request budget, on a fake clock.
import { describe, expect, it } from "vitest";
import { createRequestBudget } from "../../cloudflare/index.ts";
import { createPace } from "./pace.ts";

describe("drift pace", () => {
  it("allows a burst of half its share, then refills evenly: never more than its share of a window", () => {
    let t = 0;
    const budget = createRequestBudget({ limit: 100, windowMs: 10_000, now: () => t });
    const pace = createPace({ share: 0.5, now: () => t });
    let taken = 0;
    while (pace.take(budget)) taken++;
    expect(taken).toBe(25);
    // Over one whole window, 25 more (one every 400 ms): 50 in all, the share.
    for (t = 0; t <= 10_000; t += 100) if (pace.take(budget)) taken++;
    expect(taken).toBe(50);
  });

  it("counts reads made outside take() and yields while anyone waits for a budget slot", async () => {
    let t = 0;
    const budget = createRequestBudget({ limit: 2, windowMs: 10_000, now: () => t });
    const pace = createPace({ share: 1, now: () => t });
    pace.spend(budget, 1);
    expect(pace.take(budget)).toBe(false); // capacity 1, spent
    t = 10_000;
    expect(pace.take(budget)).toBe(true);
    await budget.acquire();
    await budget.acquire();
    const waiting = budget.acquire();
    t = 20_000;
    expect(budget.stats().queued).toBe(1);
    expect(pace.take(budget)).toBe(false);
    waiting.catch(() => {});
  });

  it("keeps one bucket per budget", () => {
    const a = createRequestBudget({ limit: 4, windowMs: 1000, now: () => 0 });
    const b = createRequestBudget({ limit: 4, windowMs: 1000, now: () => 0 });
    const pace = createPace({ share: 1, now: () => 0 });
    expect([pace.take(a), pace.take(a), pace.take(a)]).toEqual([true, true, false]);
    expect(pace.take(b)).toBe(true);
  });
});
