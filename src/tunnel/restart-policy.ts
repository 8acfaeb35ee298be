// When to restart a process that exited (pure). Exponential backoff with "equal jitter": half of
// each delay is fixed and half random, so a crash loop slows down for certain (full jitter, as
// kit/backoff.ts uses for API retries, may pick ~0 ms again and again) while replicas restarted
// together still spread out. A run that lasted `stableMs` counts as healthy and resets the count.

export type RestartPolicy = {
  /** Ceiling of the first delay. */
  baseMs: number;
  /** No delay exceeds this. */
  maxMs: number;
  /** A run at least this long resets the attempt count. */
  stableMs: number;
  random?: () => number;
};

export const DEFAULT_RESTART_POLICY: RestartPolicy = { baseMs: 1_000, maxMs: 60_000, stableMs: 60_000 };

/** The delay before restart number `attempt` (0 = first), in [ceiling/2, ceiling). */
export function restartDelay(attempt: number, p: RestartPolicy): number {
  const ceiling = Math.min(p.maxMs, p.baseMs * 2 ** Math.min(attempt, 30));
  const half = ceiling / 2;
  return Math.floor(half + (p.random ?? Math.random)() * half);
}

/**
 * Which delay an exit gets: `failures` is the count of quick exits in a row before this one; a
 * run that lasted `stableMs` starts the count again. The caller stores the result + 1.
 */
export function attemptFor(failures: number, ranMs: number, p: RestartPolicy): number {
  return ranMs >= p.stableMs ? 0 : failures;
}
