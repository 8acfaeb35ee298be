// The request budget: Cloudflare allows 1,200 API requests per 5 minutes per token, and a token
// that goes over is locked out for minutes. We spend at most `limit` per sliding window (default
// 80% of the allowance) and queue the rest rather than find out with a 429.
//
// A sliding-window log of start times. A request may start at time t when fewer than `limit`
// starts lie in (t - windowMs, t]. Waiters are served first in, first out:
//   acquire ── room and nobody queued ──> started (logged now)
//          └─ otherwise ──> queued ── a logged start leaves the window ──> started (pump)
//                                  ├─ signal aborted ──> removed, rejected with the reason
//   and up front: if the predicted wait exceeds maxWaitMs ──> rejected with ERR_CF_BUDGET.
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
  acquire(signal?: AbortSignal): Promise<number>;
  stats(): BudgetStats;
};

type Waiter = {
  /** Predicted start; an upper bound, since waiters ahead may only leave early. */
  eta: number;
  resolve(startedAt: number): void;
  reject(reason: unknown): void;
  detach(): void;
};

const realTimers: BudgetTimers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export function createRequestBudget(opts: RequestBudgetOptions = {}): RequestBudget {
  const limit = opts.limit ?? 960;
  const windowMs = opts.windowMs ?? 300_000;
  const maxWaitMs = opts.maxWaitMs ?? Number.POSITIVE_INFINITY;
  const now = opts.now ?? Date.now;
  const timers = opts.timers ?? realTimers;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new CboError("ERR_VALIDATION", `request budget limit must be a positive integer, got ${limit}`);
  }
  if (!(windowMs > 0)) throw new CboError("ERR_VALIDATION", `request budget window must be > 0 ms, got ${windowMs}`);

  const log: number[] = []; // start times inside the window, ascending
  const queue: Waiter[] = [];
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

  // The n-th start (counting logged starts, then queued waiters) has to wait until the start
  // `limit` places before it has left the window.
  function predictNextStart(t: number): number {
    const i = log.length + queue.length - limit;
    if (i < 0) return t;
    const ref = i < log.length ? log[i]! : queue[i - log.length]!.eta;
    return Math.max(t, ref + windowMs);
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

  function acquire(signal?: AbortSignal): Promise<number> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const t = now();
    prune(t);
    if (queue.length === 0 && log.length < limit) return Promise.resolve(start(t));
    const eta = predictNextStart(t);
    if (eta - t > maxWaitMs) {
      return Promise.reject(
        new CboError(
          "ERR_CF_BUDGET",
          `Cloudflare API request budget exhausted: the next slot is ${Math.ceil(eta - t)} ms away, more than the allowed wait of ${maxWaitMs} ms`,
          { details: { limit, windowMs, waitMs: Math.ceil(eta - t), maxWaitMs, queued: queue.length } },
        ),
      );
    }
    return new Promise<number>((resolve, reject) => {
      const onAbort = (): void => {
        const at = queue.indexOf(waiter);
        if (at >= 0) queue.splice(at, 1);
        reject(signal?.reason);
        pump();
      };
      const waiter: Waiter = {
        eta,
        resolve,
        reject,
        detach: () => signal?.removeEventListener("abort", onAbort),
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      queue.push(waiter);
      pump();
    });
  }

  function stats(): BudgetStats {
    prune(now());
    return { limit, windowMs, inWindow: log.length, queued: queue.length, started };
  }

  return { acquire, stats };
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
