import { describe, expect, it } from "vitest";
import { BUCKETS, bucketBounds, bucketOf, merge, quantile, record, type Histogram } from "./workers/latency-histogram.ts";

const fill = (values: number[]) => {
  const h: Histogram = {};
  for (const v of values) record(h, v);
  return h;
};

describe("latency histogram", () => {
  it("puts every value in a bucket whose bounds hold it, buckets increasing with the value", () => {
    let last = -1;
    for (let ms = 0; ms < 2 ** 31; ms = ms < 40 ? ms + 1 : Math.ceil(ms * 1.03)) {
      const b = bucketOf(ms);
      expect(b).toBeGreaterThanOrEqual(last);
      expect(b).toBeLessThan(BUCKETS);
      const [low, high] = bucketBounds(b);
      if (ms < 2 ** 31 - 1) expect(ms >= low && (ms < high || b === BUCKETS - 1), `${ms} in [${low}, ${high})`).toBe(true);
      last = b;
    }
  });

  it("gives exact quantiles for whole milliseconds under 16 ms (numpy's rank)", () => {
    const h = fill([1, 2, 2, 3, 9, 9, 9, 15]);
    expect(quantile(h, 0)).toBe(1);
    expect(quantile(h, 0.5)).toBe(3);
    expect(quantile(h, 1)).toBe(15);
    expect(quantile({}, 0.5)).toBeUndefined();
  });

  it("stays within 9% above 16 ms", () => {
    const values = Array.from({ length: 1000 }, (_, i) => 20 + i * 3);
    const h = fill(values);
    for (const q of [0.25, 0.5, 0.9, 0.99]) {
      const exact = values[Math.round(q * (values.length - 1))]!;
      expect(Math.abs(quantile(h, q)! - exact) / exact, `q=${q}`).toBeLessThan(0.09);
    }
  });

  it("merges counts bucket by bucket", () => {
    const a = fill([1, 1, 40]);
    const b = fill([1, 40, 40, 900]);
    expect(merge(a, b)).toEqual(fill([1, 1, 40, 1, 40, 40, 900]));
  });
});
