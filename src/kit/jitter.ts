// Spreads probe passes of many monitors (and many daemons) over time instead of in lockstep.

/**
 * `intervalMs` moved by up to ±`jitter` of itself, uniformly: jitter 0.2 on 1000 ms gives
 * 800..1200 ms. `random` returns [0, 1) (Math.random by default; injected in tests).
 */
export function jitteredDelay(intervalMs: number, jitter: number, random: () => number = Math.random): number {
  const spread = Math.min(Math.max(jitter, 0), 1);
  return Math.max(0, Math.round(intervalMs * (1 + spread * (2 * random() - 1))));
}
