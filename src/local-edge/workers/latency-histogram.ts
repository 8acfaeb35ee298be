// A small log-linear histogram of durations in milliseconds, kept per (script, version, minute,
// status) by the router and merged by the edge's analytics store; quantiles are read from it.
// Runtime-neutral: the router (workerd) records into it, Node merges and reads it.
//
// Buckets: 0-15 ms exactly (one per millisecond, which is the clock's resolution inside workerd),
// then 8 buckets per power of two (each about 9% wide) up to 2^30 ms. A quantile is exact below
// 16 ms and within one bucket's width (under 9%) above.

/** Bucket index -> count; sparse, so a minute of similar requests stays a few entries. */
export type Histogram = Record<number, number>;

const EXACT = 16;
const SUB = 8;
const MAX_EXP = 30;
export const BUCKETS = EXACT + (MAX_EXP - 4 + 1) * SUB;

export function bucketOf(ms: number): number {
  if (!(ms > 0)) return 0;
  if (ms < EXACT) return Math.floor(ms);
  const e = Math.min(MAX_EXP, Math.floor(Math.log2(ms)));
  const sub = Math.min(SUB - 1, Math.floor((ms / 2 ** e - 1) * SUB));
  return EXACT + (e - 4) * SUB + sub;
}

/** [low, high) of a bucket, in ms. */
export function bucketBounds(index: number): [number, number] {
  if (index < EXACT) return [index, index + 1];
  const e = 4 + Math.floor((index - EXACT) / SUB);
  const sub = (index - EXACT) % SUB;
  return [2 ** e * (1 + sub / SUB), 2 ** e * (1 + (sub + 1) / SUB)];
}

export function record(h: Histogram, ms: number): void {
  const b = bucketOf(ms);
  h[b] = (h[b] ?? 0) + 1;
}

/** Adds `from` into `into` (returns `into`). */
export function merge(into: Histogram, from: Histogram): Histogram {
  for (const k of Object.keys(from)) {
    const i = Number(k);
    into[i] = (into[i] ?? 0) + from[i]!;
  }
  return into;
}

/**
 * The q-quantile (0..1) in ms: the value below which a share q of the recorded durations fall.
 * Whole milliseconds below 16 ms are exact; above, interpolated inside the bucket. Undefined when
 * the histogram is empty.
 */
export function quantile(h: Histogram, q: number): number | undefined {
  const entries = Object.keys(h)
    .map(Number)
    .sort((a, b) => a - b);
  let total = 0;
  for (const i of entries) total += h[i]!;
  if (total === 0) return undefined;
  // Rank of the wanted value among the sorted samples (0-based, as numpy's default percentile).
  const rank = Math.min(total - 1, Math.max(0, q * (total - 1)));
  let before = 0;
  for (const i of entries) {
    const n = h[i]!;
    if (rank < before + n) {
      const [low, high] = bucketBounds(i);
      if (i < EXACT) return low;
      return low + ((high - low) * (rank - before + 0.5)) / n;
    }
    before += n;
  }
  return bucketBounds(entries.at(-1)!)[0];
}
