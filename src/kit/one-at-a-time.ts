// Runs async work one at a time per key: a call waits until every earlier call with the same key has
// settled (fulfilled or rejected), while calls with other keys run meanwhile. For work that reads
// state and then writes it in several awaited steps, where two runs interleaving would leave the
// older run's writes last.

export type OneAtATime = <T>(key: string, work: () => Promise<T>) => Promise<T>;

export function oneAtATime(): OneAtATime {
  const tails = new Map<string, Promise<unknown>>();
  return <T>(key: string, work: () => Promise<T>): Promise<T> => {
    const before = tails.get(key) ?? Promise.resolve();
    const run = before.then(work);
    // The next call waits for this one whatever its outcome; its own caller sees the outcome.
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    tails.set(key, tail);
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
    return run;
  };
}
