// The request budget: Cloudflare allows 1,200 API requests per 5 minutes per token, and a token
// that goes over is locked out for minutes. We spend at most `limit` per sliding window (default
// 80% of the allowance) and queue the rest rather than find out with a 429.
//
// A sliding-window log of start times. A request may start at time t when fewer than `limit`
// starts lie in (t - windowMs, t]. Waiters are served by priority (interactive reads, then the
// daemon's own work such as releases, then background reads such as drift), first in, first out
// within a priority:
//   acquire ── room and nobody queued ──> started (logged now)
//          └─ otherwise ──> queued (behind waiters of its priority and higher)
//                 ├─ a logged start leaves the window ──> started (pump)
//                 └─ signal aborted ──> removed (its place is freed), rejected with the reason
//   and up front: if the predicted wait exceeds maxWaitMs ──> rejected with ERR_CF_BUDGET, which
//   says how many wait and when the budget has room again.
import { createHash } from "node:crypto";
import { CboError } from "../kit/errors.ts";

/** Injectable timer functions, so tests can drive the budget with a fake clock. */
export type BudgetTimers = {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
};

export type RequestBudgetOptions = {
  /** Most requests that may start in any window. Default 960 (80% of 1,200). */
  limit?: number;
  /** Window length in ms. Default 300,000 (5 minutes). */
  windowMs?: number;
  /** Refuse (ERR_CF_BUDGET) instead of queueing when the predicted wait is longer. Default: no limit. */
  maxWaitMs?: number;
  now?: () => number;
  timers?: BudgetTimers;
};

/**
 * Who waits first: `interactive` (a person's plan, diff or status: answered or refused quickly),
 * `normal` (the daemon's own work: releases, rollbacks, config sync), `background` (drift reads,
 * which yield to everyone).
 */
export type BudgetPriority = "interactive" | "normal" | "background";

export type AcquireOptions = {
  /** Aborted while queued: the waiter leaves the queue and the promise rejects with the reason. */
  signal?: AbortSignal | undefined;
  /** Default `normal`. */
  priority?: BudgetPriority | undefined;
  /** Refuse with ERR_CF_BUDGET when the predicted wait is longer (default: the budget's maxWaitMs). */
  maxWaitMs?: number | undefined;
  /**
   * How many requests the caller still expects to make, this one included (default 1): a refusal
   * then says when the budget has room for all of them, not only for this one.
   */
  need?: number | undefined;
  /** Called once when the request has to queue, with its predicted wait (ms) and how many wait, itself included. */
  onQueued?: ((waitMs: number, queued: number) => void) | undefined;
};

export type BudgetStats = {
  limit: number;
  windowMs: number;
  /** Starts inside the current window. */
  inWindow: number;
  /** Callers waiting for a slot. */
  queued: number;
  /** Starts since the budget was created. */
  started: number;
};

export type RequestBudget = {
  /** Resolves with the start time (from the budget's clock) once a slot is taken. */
  acquire(opts?: AbortSignal | AcquireOptions): Promise<number>;
  /** How long (ms) until `count` requests of this priority asked now could all have started (0: at once). */
  predictWait(priority?: BudgetPriority, count?: number): number;
  stats(): BudgetStats;
};

type Waiter = {
  rank: number;
  resolve(startedAt: number): void;
  reject(reason: unknown): void;
  detach(): void;
};

const RANK: Record<BudgetPriority, number> = { interactive: 0, normal: 1, background: 2 };

const realTimers: BudgetTimers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export function createRequestBudget(opts: RequestBudgetOptions = {}): RequestBudget {
  const limit = opts.limit ?? 960;
  const windowMs = opts.windowMs ?? 300_000;
  const defaultMaxWaitMs = opts.maxWaitMs ?? Number.POSITIVE_INFINITY;
  const now = opts.now ?? Date.now;
  const timers = opts.timers ?? realTimers;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new CboError("ERR_VALIDATION", `request budget limit must be a positive integer, got ${limit}`);
  }
  if (!(windowMs > 0)) throw new CboError("ERR_VALIDATION", `request budget window must be > 0 ms, got ${windowMs}`);

  const log: number[] = []; // start times inside the window, ascending
  const queue: Waiter[] = []; // in serving order: by rank, then arrival
  let started = 0;
  let timer: unknown;

  function prune(t: number): void {
    let drop = 0;
    while (drop < log.length && log[drop]! <= t - windowMs) drop++;
    if (drop > 0) log.splice(0, drop);
  }

  function start(t: number): number {
    log.push(t);
    started++;
    return t;
  }

  /** Where a waiter of this rank joins the queue: behind every waiter of its rank or a better one. */
  function placeFor(rank: number): number {
    let at = queue.length;
    while (at > 0 && queue[at - 1]!.rank > rank) at--;
    return at;
  }

  // The predicted start of the waiter at queue position `at` (counting logged starts, then the
  // waiters ahead): the start `limit` places before it has to leave the window first. A lower
  // bound for later priorities, since better-placed waiters may still arrive.
  function predictStart(t: number, at: number): number {
    const starts: number[] = [];
    for (let j = 0; j <= at; j++) {
      const i = log.length + j - limit;
      const ref = i < 0 ? undefined : i < log.length ? log[i]! : starts[i - log.length]!;
      starts.push(ref === undefined ? t : Math.max(t, ref + windowMs));
    }
    return starts[at]!;
  }

  function pump(): void {
    const t = now();
    prune(t);
    while (queue.length > 0 && log.length < limit) {
      const waiter = queue.shift()!;
      waiter.detach();
      waiter.resolve(start(t));
    }
    reschedule(t);
  }

  function reschedule(t: number): void {
    if (timer !== undefined) timers.clear(timer);
    timer = undefined;
    if (queue.length === 0) return;
    // Here the window is full, so the oldest logged start frees the next slot. At least 1 ms,
    // and pump() re-arms the timer if a clock tick arrives early.
    const delay = Math.max(1, log[0]! + windowMs - t);
    timer = timers.set(() => {
      timer = undefined;
      pump();
    }, delay);
  }

  // Says when to come back: when the budget has room for every request the caller still needs
  // (a plan's remaining reads), which may be later than the room for this one.
  function refusal(t: number, at: number, waitMs: number, maxWaitMs: number, need: number): CboError {
    const roomMs = Math.max(waitMs, predictStart(t, at + need - 1) - t);
    const seconds = Math.max(1, Math.ceil(roomMs / 1000));
    const windowText = windowMs % 60_000 === 0 ? `${windowMs / 60_000} min` : `${Math.round(windowMs / 1000)} s`;
    const room =
      need > 1
        ? `it has room for the ~${need} requests this answer needs in ~${seconds} s (for the next one in ~${Math.max(1, Math.ceil(waitMs / 1000))} s, more than a request may wait: ${Math.round(maxWaitMs / 1000)} s)`
        : `it has room for this one in ~${seconds} s, more than this request may wait (${Math.round(maxWaitMs / 1000)} s)`;
    return new CboError(
      "ERR_CF_BUDGET",
      `The Cloudflare API request budget of this token is spent: ${log.length} of ${limit} requests in the last ${windowText}, ${queue.length} waiting; ${room}.`,
      {
        details: {
          limit,
          windowMs,
          inWindow: log.length,
          queued: queue.length,
          need,
          waitMs: Math.ceil(waitMs),
          roomMs: Math.ceil(roomMs),
          maxWaitMs,
          retryAfter: seconds,
        },
        hint: `Try again in ${seconds} s (reads made in the last few seconds are reused, not spent again). Releases keep their place in the queue and wait; GET /metrics shows cbo_cloudflare_budget_remaining and cbo_cloudflare_budget_queued.`,
      },
    );
  }

  function acquire(given?: AbortSignal | AcquireOptions): Promise<number> {
    const o: AcquireOptions = given instanceof AbortSignal ? { signal: given } : (given ?? {});
    const signal = o.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const t = now();
    prune(t);
    if (queue.length === 0 && log.length < limit) return Promise.resolve(start(t));
    const rank = RANK[o.priority ?? "normal"];
    const at = placeFor(rank);
    const waitMs = predictStart(t, at) - t;
    const maxWaitMs = o.maxWaitMs ?? defaultMaxWaitMs;
    if (waitMs > maxWaitMs) return Promise.reject(refusal(t, at, waitMs, maxWaitMs, Math.max(1, Math.ceil(o.need ?? 1))));
    return new Promise<number>((resolve, reject) => {
      const onAbort = (): void => {
        const i = queue.indexOf(waiter);
        if (i >= 0) queue.splice(i, 1);
        reject(signal?.reason);
        pump();
      };
      const waiter: Waiter = {
        rank,
        resolve,
        reject,
        detach: () => signal?.removeEventListener("abort", onAbort),
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      queue.splice(at, 0, waiter);
      try {
        o.onQueued?.(waitMs, queue.length);
      } catch {
        // Only a report (a release's event): the request keeps its place whatever it does.
      }
      pump();
    });
  }

  function predictWait(priority: BudgetPriority = "normal", count = 1): number {
    const t = now();
    prune(t);
    return predictStart(t, placeFor(RANK[priority]) + Math.max(1, count) - 1) - t;
  }

  function stats(): BudgetStats {
    prune(now());
    return { limit, windowMs, inWindow: log.length, queued: queue.length, started };
  }

  return { acquire, predictWait, stats };
}

export type BudgetRegistry = {
  /** The one budget of this API token: every client using the token shares it. */
  getBudgetFor(apiToken: string): RequestBudget;
};

export function createBudgetRegistry(defaults: RequestBudgetOptions = {}): BudgetRegistry {
  const budgets = new Map<string, RequestBudget>();
  return {
    getBudgetFor(apiToken) {
      // Keyed by a digest so the registry never holds tokens in a form worth dumping.
      const key = createHash("sha256").update(apiToken).digest("hex");
      let budget = budgets.get(key);
      if (budget === undefined) {
        budget = createRequestBudget(defaults);
        budgets.set(key, budget);
      }
      return budget;
    },
  };
}

let processRegistry: BudgetRegistry | undefined;

/** The process-wide budget of a token, with the default limits (960 per 5 minutes). */
export function getBudgetFor(apiToken: string): RequestBudget {
  processRegistry ??= createBudgetRegistry();
  return processRegistry.getBudgetFor(apiToken);
}
