// Request and error counts of one isolate: totals since it started, and the window since the last
// delivered heartbeat. An error is a 5xx answer or a thrown exception (counted once either way).
// A heartbeat takes the window and, if it could not be delivered, gives it back, so that the
// orchestrator eventually sees every request even across a failed send.

export type TrafficWindow = { sinceMs: number; requests: number; errors: number };

export type Traffic = {
  record(error: boolean): void;
  totals(): { requests: number; errors: number };
  /** Hands out the current window and starts a new one at `nowMs`. */
  takeWindow(nowMs: number): TrafficWindow;
  /** Folds a window that was not delivered back into the current one. */
  restoreWindow(window: TrafficWindow): void;
};

export function createTraffic(startMs: number): Traffic {
  let requests = 0;
  let errors = 0;
  let window: TrafficWindow = { sinceMs: startMs, requests: 0, errors: 0 };
  return {
    record(error) {
      requests++;
      window.requests++;
      if (error) {
        errors++;
        window.errors++;
      }
    },
    totals: () => ({ requests, errors }),
    takeWindow(nowMs) {
      const taken = window;
      window = { sinceMs: nowMs, requests: 0, errors: 0 };
      return taken;
    },
    restoreWindow(back) {
      window = {
        sinceMs: Math.min(back.sinceMs, window.sinceMs),
        requests: window.requests + back.requests,
        errors: window.errors + back.errors,
      };
    },
  };
}
