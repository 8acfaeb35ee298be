// Failed-authentication limiter. Each key (a client address, a token prefix) keeps the times of
// its recent failures; `max` failures within `windowMs` lock the key for `lockMs`. While locked, a
// request of that key that fails is answered 429; one with valid credentials is still served
// (auth-gate.ts), so nobody can lock anybody else out.
//
// Per key:  open --(failure; fewer than max in the window)--> open
//           open --(max-th failure in the window)--> locked --(lockMs elapsed)--> open (history cleared)
// A success changes nothing: otherwise a valid low-privilege token could be used to wipe the
// address's count between guesses. Memory stays bounded: past maxKeys, expired keys go first,
// then the least recently failed unlocked ones, and locked ones only when nothing else is left.
export type RateLimitOptions = {
  /** Failures within the window that lock the key. Default 10. */
  max?: number;
  windowMs?: number;
  lockMs?: number;
  /** Keys remembered at most (an attacker choosing token prefixes must not grow memory). */
  maxKeys?: number;
  now?: () => number;
};

type Entry = { failures: number[]; lockedUntil: number };

export function createRateLimiter(opts: RateLimitOptions = {}) {
  const max = opts.max ?? 10;
  const windowMs = opts.windowMs ?? 60_000;
  const lockMs = opts.lockMs ?? 60_000;
  const maxKeys = opts.maxKeys ?? 10_000;
  const now = opts.now ?? Date.now;
  const entries = new Map<string, Entry>();

  const stale = (e: Entry, t: number) => e.lockedUntil <= t && (e.failures.at(-1) ?? -Infinity) <= t - windowMs;

  // Locks go last: otherwise inventing keys from elsewhere would free a locked address.
  function evict(t: number): void {
    if (entries.size < maxKeys) return;
    for (const [k, e] of entries) if (stale(e, t)) entries.delete(k);
    for (const [k, e] of entries) {
      if (entries.size < maxKeys) return;
      if (e.lockedUntil <= t) entries.delete(k);
    }
    for (const k of entries.keys()) {
      if (entries.size < maxKeys) return;
      entries.delete(k);
    }
  }

  return {
    /** Milliseconds until every one of `keys` is open again; 0 when none is locked. */
    retryAfterMs(keys: readonly string[]): number {
      const t = now();
      let wait = 0;
      for (const k of keys) {
        const e = entries.get(k);
        if (e && e.lockedUntil > t) wait = Math.max(wait, e.lockedUntil - t);
      }
      return wait;
    },
    /** Counts a failure against each key; returns the keys this failure locked. */
    fail(keys: readonly string[]): string[] {
      const t = now();
      const locked: string[] = [];
      for (const k of keys) {
        let e = entries.get(k);
        if (e && e.lockedUntil !== 0 && e.lockedUntil <= t) e = undefined; // the lock ran out: start afresh
        if (!e) {
          evict(t);
          e = { failures: [], lockedUntil: 0 };
        }
        entries.delete(k); // re-insert: Map order then says which key was touched least recently
        entries.set(k, e);
        e.failures = e.failures.filter((at) => at > t - windowMs);
        e.failures.push(t);
        if (e.lockedUntil <= t && e.failures.length >= max) {
          e.lockedUntil = t + lockMs;
          e.failures = [];
          locked.push(k);
        }
      }
      return locked;
    },
    size: () => entries.size,
  };
}
export type RateLimiter = ReturnType<typeof createRateLimiter>;
