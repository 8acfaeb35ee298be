import { describe, expect, it } from "vitest";
import { CboError } from "../kit/errors.ts";
import { createBudgetRegistry, createRequestBudget, type BudgetTimers } from "./budget.ts";

// A manual clock: timers fire only when the test advances time, in due order.
function fakeClock() {
  let t = 0;
  let seq = 0;
  const pending = new Map<number, { at: number; fn: () => void }>();
  const timers: BudgetTimers = {
    set(fn, ms) {
      const id = ++seq;
      pending.set(id, { at: t + ms, fn });
      return id;
    },
    clear(id) {
      pending.delete(id as number);
    },
  };
  return {
    now: () => t,
    timers,
    pendingTimers: () => pending.size,
    /** Advances to `to`, firing due timers in order and letting promise callbacks run. */
    async advanceTo(to: number) {
      for (;;) {
        const due = [...pending.entries()].filter(([, p]) => p.at <= to).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        pending.delete(due[0]);
        t = Math.max(t, due[1].at);
        due[1].fn();
        await flush();
      }
      t = to;
      await flush();
    },
  };
}

async function flush() {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

/** Largest number of starts in any half-open window [s, s + windowMs). */
function maxInWindow(starts: number[], windowMs: number): number {
  const sorted = [...starts].sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while (sorted[hi]! - sorted[lo]! >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

describe("request budget", () => {
  it("starts at most `limit` requests per window and queues the rest", async () => {
    const clock = fakeClock();
    const budget = createRequestBudget({ limit: 3, windowMs: 1000, now: clock.now, timers: clock.timers });
    const starts: number[] = [];
    const all = Array.from({ length: 10 }, () => budget.acquire().then((t) => starts.push(t)));
    await flush();
    expect(starts).toEqual([0, 0, 0]);
    expect(budget.stats()).toMatchObject({ inWindow: 3, queued: 7, started: 3 });
    await clock.advanceTo(999);
    expect(starts).toHaveLength(3);
    await clock.advanceTo(1000);
    expect(starts).toHaveLength(6);
    await clock.advanceTo(3500);
    await Promise.all(all);
    expect(starts).toEqual([0, 0, 0, 1000, 1000, 1000, 2000, 2000, 2000, 3000]);
    expect(maxInWindow(starts, 1000)).toBe(3);
    expect(budget.stats()).toMatchObject({ queued: 0, started: 10 });
    expect(clock.pendingTimers()).toBe(0);
  });

  it("never exceeds the limit in any window under staggered concurrent load", async () => {
    const clock = fakeClock();
    const limit = 5;
    const windowMs = 700;
    const budget = createRequestBudget({ limit, windowMs, now: clock.now, timers: clock.timers });
    const starts: number[] = [];
    const pending: Promise<unknown>[] = [];
    // Deterministic pseudo-random arrivals: bursts of 0..4 acquires every 37 ms for ~5 s.
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let t = 0; t < 5000; t += 37) {
      await clock.advanceTo(t);
      const burst = Math.floor(rand() * 5);
      for (let i = 0; i < burst; i++) pending.push(budget.acquire().then((s) => starts.push(s)));
    }
    await clock.advanceTo(200_000);
    await Promise.all(pending);
    expect(starts.length).toBe(pending.length);
    expect(starts.length).toBeGreaterThan(100);
    expect(maxInWindow(starts, windowMs)).toBeLessThanOrEqual(limit);
    // and it is not idle either: in the saturated stretch, every window is full
    expect(maxInWindow(starts, windowMs)).toBe(limit);
  });

  it("serves waiters first in, first out", async () => {
    const clock = fakeClock();
    const budget = createRequestBudget({ limit: 1, windowMs: 100, now: clock.now, timers: clock.timers });
    const order: string[] = [];
    const names = ["a", "b", "c", "d"];
    const all = names.map((n) => budget.acquire().then(() => order.push(n)));
    await clock.advanceTo(1000);
    await Promise.all(all);
    expect(order).toEqual(names);
  });

  it("refuses with ERR_CF_BUDGET when the predicted wait exceeds maxWaitMs", async () => {
    const clock = fakeClock();
    const budget = createRequestBudget({ limit: 2, windowMs: 1000, maxWaitMs: 1500, now: clock.now, timers: clock.timers });
    const ok = [budget.acquire(), budget.acquire(), budget.acquire(), budget.acquire()]; // 0, 0, 1000, 1000
    const refused = budget.acquire(); // would start at 2000: wait 2000 > 1500
    await expect(refused).rejects.toBeInstanceOf(CboError);
    await expect(refused).rejects.toMatchObject({ code: "ERR_CF_BUDGET", details: { waitMs: 2000, limit: 2 } });
    await clock.advanceTo(1000);
    expect(await Promise.all(ok)).toEqual([0, 0, 1000, 1000]);
    // at t=1000 the next slot is at 2000: within the allowed wait again
    const later = budget.acquire();
    await clock.advanceTo(2000);
    expect(await later).toBe(2000);
  });

  it("drops an aborted waiter without losing its place for others", async () => {
    const clock = fakeClock();
    const budget = createRequestBudget({ limit: 1, windowMs: 100, now: clock.now, timers: clock.timers });
    await budget.acquire();
    const controller = new AbortController();
    const aborted = budget.acquire(controller.signal);
    const next = budget.acquire();
    controller.abort(new Error("stop"));
    await expect(aborted).rejects.toThrow("stop");
    expect(budget.stats().queued).toBe(1);
    await clock.advanceTo(100);
    expect(await next).toBe(100);
  });

  it("serves interactive waiters before the daemon's work, and that before background reads", async () => {
    const clock = fakeClock();
    const budget = createRequestBudget({ limit: 1, windowMs: 100, now: clock.now, timers: clock.timers });
    await budget.acquire();
    const order: string[] = [];
    const all = [
      budget.acquire({ priority: "background" }).then(() => order.push("drift-1")),
      budget.acquire().then(() => order.push("release-1")),
      budget.acquire({ priority: "background" }).then(() => order.push("drift-2")),
      budget.acquire({ priority: "interactive" }).then(() => order.push("plan-1")),
      budget.acquire().then(() => order.push("release-2")),
      budget.acquire({ priority: "interactive" }).then(() => order.push("plan-2")),
    ];
    await clock.advanceTo(1000);
    await Promise.all(all);
    expect(order).toEqual(["plan-1", "plan-2", "release-1", "release-2", "drift-1", "drift-2"]);
  });

  it("predicts a waiter's start from its place by priority, and refuses it up front past its own maxWaitMs", async () => {
    const clock = fakeClock();
    const budget = createRequestBudget({ limit: 2, windowMs: 1000, now: clock.now, timers: clock.timers });
    await Promise.all([budget.acquire(), budget.acquire()]); // the window is full until t=1000
    await clock.advanceTo(100);
    const releases = [budget.acquire(), budget.acquire(), budget.acquire()]; // starts 1000, 1000, 2000
    // Behind the releases a read would start at 2000; an interactive one goes first: at 1000.
    expect(budget.predictWait("background")).toBe(1900);
    expect(budget.predictWait("interactive")).toBe(900);
    const refused = budget.acquire({ priority: "background", maxWaitMs: 1000 });
    await expect(refused).rejects.toMatchObject({
      code: "ERR_CF_BUDGET",
      details: { waitMs: 1900, queued: 3, inWindow: 2, limit: 2, retryAfter: 2 },
    });
    const err = (await refused.catch((e: unknown) => e)) as CboError;
    expect(err.status).toBe(429);
    expect(err.message).toMatch(/2 of 2 requests in the last 1 s, 3 waiting; it has room for this one in ~2 s/);
    expect(err.hint).toMatch(/Try again in 2 s/);
    // The refusal took no place: the queue is as it was.
    expect(budget.stats().queued).toBe(3);
    // A plan that still needs 3 requests is told when all 3 fit, not only the next one.
    expect(budget.predictWait("interactive", 3)).toBe(1900);
    const needy = budget.acquire({ priority: "interactive", maxWaitMs: 500, need: 3 });
    await expect(needy).rejects.toMatchObject({ code: "ERR_CF_BUDGET", details: { waitMs: 900, roomMs: 1900, need: 3, retryAfter: 2 } });
    await expect(needy).rejects.toThrow(/room for the ~3 requests this answer needs in ~2 s \(for the next one in ~1 s/);
    const queuedAt: number[] = [];
    const plan = budget.acquire({ priority: "interactive", maxWaitMs: 1000, onQueued: (ms, n) => queuedAt.push(ms, n) });
    expect(queuedAt).toEqual([900, 4]);
    await clock.advanceTo(1000);
    expect(await plan).toBe(1000);
    await clock.advanceTo(3000);
    expect(await Promise.all(releases)).toEqual([1000, 2000, 2000]);
  });

  it("frees an aborted waiter's place, so those behind it move up", async () => {
    const clock = fakeClock();
    const budget = createRequestBudget({ limit: 1, windowMs: 100, now: clock.now, timers: clock.timers });
    await budget.acquire();
    const gone = new AbortController();
    const plan = budget.acquire({ priority: "interactive", signal: gone.signal });
    const release = budget.acquire();
    expect(budget.predictWait("normal")).toBe(300);
    gone.abort(new Error("client went away"));
    await expect(plan).rejects.toThrow("client went away");
    expect(budget.stats().queued).toBe(1);
    expect(budget.predictWait("normal")).toBe(200);
    await clock.advanceTo(100);
    expect(await release).toBe(100);
  });

  it("shares one budget between clients of the same token", () => {
    const registry = createBudgetRegistry({ limit: 7 });
    expect(registry.getBudgetFor("token-a")).toBe(registry.getBudgetFor("token-a"));
    expect(registry.getBudgetFor("token-a")).not.toBe(registry.getBudgetFor("token-b"));
    expect(registry.getBudgetFor("token-a").stats()).toMatchObject({ limit: 7, windowMs: 300_000 });
  });

  it("defaults to 80% of Cloudflare's 1,200 requests per 5 minutes", () => {
    expect(createRequestBudget().stats()).toMatchObject({ limit: 960, windowMs: 300_000 });
  });

  it("rejects a nonsensical limit", () => {
    expect(() => createRequestBudget({ limit: 0 })).toThrow(/positive integer/);
  });
});
