// How a release (or rollback) meets a full Cloudflare request budget: it is the daemon's own work,
// so its requests wait their turn for as long as it takes (behind people's plans, ahead of drift
// reads), and its events say so: "waiting for Cloudflare request budget, ~N s", at most every
// `everyMs` while it lasts, so that whoever follows it knows why nothing moves. A request tried
// again (429, 5xx, lost connection, timed-out attempt) is said the same way.
//
// Before the release is recorded (its reads while the POST is answered) it may wait only so long:
// a client gives up after 30 s, and a release refused then (ERR_CF_BUDGET, nothing recorded) is
// better than one that starts after its caller was told it failed.
import { withCallScope, type CallRetry, type CallScope } from "../cloudflare/index.ts";
import type { Recorder } from "./record.ts";

/** The longest a release's reads wait for the budget before it is recorded (the CLI gives up after 30 s). */
export const PREPARE_MAX_WAIT_MS = 20_000;

export function releaseCallScope(rec: Recorder, opts: { everyMs?: number; minWaitMs?: number; now?: () => number } = {}): CallScope {
  const everyMs = opts.everyMs ?? 10_000;
  const minWaitMs = opts.minWaitMs ?? 1_000;
  const now = opts.now ?? Date.now;
  let last = Number.NEGATIVE_INFINITY;
  let lastRetry = Number.NEGATIVE_INFINITY;
  return {
    priority: "normal",
    onQueued(waitMs, queued) {
      if (waitMs < minWaitMs || now() - last < everyMs) return;
      last = now();
      const seconds = Math.max(1, Math.ceil(waitMs / 1000));
      const reason = `waiting for Cloudflare request budget, ~${seconds} s (${queued} request${queued === 1 ? "" : "s"} queued on this token)`;
      rec.tryTo(() => rec.emit("release.budget.waiting", null, { waitMs: Math.ceil(waitMs), queued, reason }));
      rec.log(reason);
    },
    onRetry(r) {
      if (now() - lastRetry < everyMs) return;
      lastRetry = now();
      const reason = retryText(r);
      const { target, endpoint: _endpoint, ...data } = r;
      rec.tryTo(() => rec.emit("release.cloudflare.retrying", target ?? null, { ...data, delayMs: Math.ceil(r.delayMs), reason }));
      rec.log(reason);
    },
  };
}

/** "eu: Cloudflare API PUT /accounts/…/scripts/x: timed out after 60 s (attempt 1 of 6); trying again in 1 s" */
export function retryText(r: CallRetry): string {
  return `${r.target === undefined ? "" : `${r.target}: `}Cloudflare API ${r.method} ${r.path}: ${r.why} (attempt ${r.attempt} of ${r.attempts}); trying again in ${Math.max(1, Math.ceil(r.delayMs / 1000))} s`;
}

/** Runs a release's reads before it is recorded: refused after PREPARE_MAX_WAIT_MS, and what is still queued is dropped when they end. */
export async function preparing<T>(fn: () => Promise<T>): Promise<T> {
  const done = new AbortController();
  try {
    return await withCallScope({ priority: "normal", maxWaitMs: PREPARE_MAX_WAIT_MS, signal: done.signal }, fn);
  } finally {
    done.abort(new DOMException("The release's reads are done.", "AbortError"));
  }
}
