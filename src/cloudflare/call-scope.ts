// On whose behalf Cloudflare requests are made: a person waiting for an answer (plan, diff,
// status), the daemon's own work (a release), or background reads (drift). The scope follows async
// calls (AsyncLocalStorage, as the trace context does), so that the request's AbortSignal, its
// priority in the budget queue and how long it may wait reach budget.acquire deep inside the
// engine without every reader between the API route and the transport passing them along.
//
// Outside any scope a request is `normal` priority, waits as long as it takes and is never
// cancelled: releases and rollbacks started by an API request run outside the request's scope
// (withoutCallScope), so a client that disconnects cannot cancel them.
//
// The storage is made on first use, not at import.
import { AsyncLocalStorage } from "node:async_hooks";
import { CboError } from "../kit/errors.ts";
import type { BudgetPriority } from "./budget.ts";

/** What the requests made in a scope spent: sent to Cloudflare, or answered from a read made moments ago. */
export type CallTally = { sent: number; reused: number };

/** One request about to be tried again: which, after what, and when. */
export type CallRetry = {
  /** The target whose client made it, when its transport was labelled. */
  target?: string | undefined;
  method: string;
  /** API path below the base URL, without the query (account and script names, never a token). */
  path: string;
  endpoint: string;
  /** The attempt that failed (1 for the first) and how many there may be in all. */
  attempt: number;
  attempts: number;
  /** What went wrong, in words: `HTTP 503`, `timed out after 60 s`, `fetch failed (ECONNRESET)`. */
  why: string;
  /** How long until the next attempt (ms). */
  delayMs: number;
};

export type CallScope = {
  /** Aborted (the client went away, the answer is no longer wanted): queued requests are dropped. */
  signal?: AbortSignal | undefined;
  priority?: BudgetPriority | undefined;
  /** How long a request may wait for the budget before it is refused with ERR_CF_BUDGET. */
  maxWaitMs?: number | undefined;
  /** Told when a request has to wait for the budget (predicted wait in ms, how many wait): a release says so in its events. */
  onQueued?: ((waitMs: number, queued: number) => void) | undefined;
  /**
   * Told when a request is tried again (a 429, a 5xx, a lost connection, an attempt that timed out):
   * a release says so in its events, else a hung Cloudflare looks like a release that does nothing
   * for minutes (six attempts of up to 60 s each).
   */
  onRetry?: ((retry: CallRetry) => void) | undefined;
  /** Counts the requests sent and the reads reused on behalf of this scope. */
  tally?: CallTally | undefined;
  /**
   * A person comparing the spec with the edge (plan, diff): what a target serves is read anew
   * each time, and when it changed (a `wrangler deploy` meanwhile) nothing read before is reused.
   */
  revalidate?: boolean | undefined;
  /** How many requests the answer still expects to make (its last one's count, less what it made so far): a refusal says when they all fit. */
  need?: (() => number) | undefined;
};

let storage: AsyncLocalStorage<CallScope> | undefined;

/** The scope the running code belongs to, if any. */
export function currentCallScope(): CallScope | undefined {
  return storage?.getStore();
}

/** Runs `fn` in `scope` (replacing any scope around it). */
export function withCallScope<T>(scope: CallScope, fn: () => T): T {
  storage ??= new AsyncLocalStorage();
  return storage.run(scope, fn);
}

/** Runs `fn` outside any scope: daemon work started while answering a request (a release). */
export function withoutCallScope<T>(fn: () => T): T {
  return storage ? storage.exit(fn) : fn();
}

/** The wait interactive requests are given before they are refused: a person is waiting. */
export const INTERACTIVE_MAX_WAIT_MS = 5_000;

/**
 * Runs `fn` as a person's request: first in the budget queue, refused (ERR_CF_BUDGET) rather than
 * kept waiting, and cancelled when `signal` aborts (the client went away). When `fn` settles, the
 * requests it still has queued (a plan's other reads after one failed) are dropped too.
 */
export async function interactive<T>(
  signal: AbortSignal | undefined,
  fn: () => Promise<T>,
  tally?: CallTally,
  opts: Pick<CallScope, "revalidate" | "need"> = {},
): Promise<T> {
  const done = new AbortController();
  const scoped = signal ? AbortSignal.any([signal, done.signal]) : done.signal;
  const scope: CallScope = {
    ...opts,
    signal: scoped,
    priority: "interactive",
    maxWaitMs: INTERACTIVE_MAX_WAIT_MS,
    tally,
  };
  try {
    return await withCallScope(scope, fn);
  } catch (e) {
    if (signal?.aborted) {
      throw new CboError("ERR_IO", "The client went away before its answer; the Cloudflare reads queued for it were dropped.", {
        cause: e,
        details: { clientGone: true },
      });
    }
    throw e;
  } finally {
    done.abort(new DOMException("The answer is complete.", "AbortError"));
  }
}
