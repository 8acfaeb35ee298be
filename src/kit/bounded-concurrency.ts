// Bounded concurrency: a fleet of 50 Workers × 3 targets is 150 probes a pass; running them all
// at once would open 150 sockets every second and skew each other's latency.

/**
 * Runs `fn` over `items` with at most `limit` in flight. Resolves once every call has settled;
 * a failing call does not stop the others, and the first failure is rethrown at the end.
 */
export async function forEachBounded<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lanes = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  });
  await Promise.all(lanes);
  if (failure) throw failure.error;
}
