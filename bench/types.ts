// What a benchmark module exports and what it reports. A module `bench/<group>.bench.ts` exports
// `benchmarks`, each named `<group>.<something>`; `bench/run.ts` discovers and runs them.

export type BenchResult = {
  /** Dotted metric name, e.g. `edge.deploy_roundtrip_median_ms`. */
  name: string;
  value: number;
  unit: string;
  /** Human-readable goal, e.g. `<= 500 ms`, `>= 0.8`, or `info` for a raw figure with no goal. */
  goal: string;
  pass: boolean;
  /** Optional context: sample count, raw samples, min/max… */
  [extra: string]: unknown;
};

export type BenchContext = {
  /** Progress output (stderr; stdout carries only result lines). */
  log(message: string): void;
  /**
   * A resource shared by the benchmarks of one run (e.g. one local edge), created on first use and
   * disposed once after the last benchmark.
   */
  shared<T>(key: string, create: () => Promise<T>, dispose: (value: T) => Promise<void>): Promise<T>;
};

export type Benchmark = {
  name: string;
  run(ctx: BenchContext): Promise<BenchResult[]>;
};

export type BenchModule = { benchmarks: Benchmark[] };

// --- result helpers -----------------------------------------------------------------------------

export function atMost(name: string, value: number, unit: string, limit: number, extra: Record<string, unknown> = {}): BenchResult {
  return { name, value: round(value), unit, goal: goal("<=", limit, unit), pass: value <= limit, ...extra };
}

export function atLeast(name: string, value: number, unit: string, limit: number, extra: Record<string, unknown> = {}): BenchResult {
  return { name, value: round(value), unit, goal: goal(">=", limit, unit), pass: value >= limit, ...extra };
}

// A ratio reads as ">= 0.8"; anything else carries its unit: "<= 500 ms".
const goal = (op: string, limit: number, unit: string) => `${op} ${limit}${unit === "ratio" ? "" : ` ${unit}`}`;

/** A raw figure reported for context; it has no goal and always passes. */
export function info(name: string, value: number, unit: string, extra: Record<string, unknown> = {}): BenchResult {
  return { name, value: round(value), unit, goal: "info", pass: true, ...extra };
}

export function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

// --- statistics ---------------------------------------------------------------------------------

export function median(values: number[]): number {
  return percentile(values, 50);
}

/** Linear-interpolated percentile (the same definition as numpy's default). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) throw new Error("percentile of no samples");
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}
