// Where a line chart's lines and ticks go, pure (no DOM): each series as an SVG path over a shared
// time axis, a y axis from 0 to a round maximum, a few tick labels. A missing value (null) breaks
// its line rather than drawing it at zero.
export type ChartSeries = { key: string; values: Array<number | null> };
export type ChartBox = { width: number; height: number; left: number; right: number; top: number; bottom: number };
export type ChartGeometry = {
  yMax: number;
  yTicks: Array<{ y: number; value: number }>;
  xTicks: Array<{ x: number; index: number }>;
  /** Points with no neighbour to draw a line to, as dots (else a lone minute would not show). */
  lines: Array<{ key: string; d: string; points: number; dots: Array<{ x: number; y: number }> }>;
};

/** The smallest 1, 2 or 5 times a power of ten at or above `v` (at least `floor`). */
export function niceMax(v: number, floor = 1): number {
  const x = Math.max(v, floor);
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 5, 10]) if (m * p >= x - 1e-12) return m * p;
  return 10 * p;
}

const r1 = (n: number) => Math.round(n * 10) / 10;

/**
 * A y tick's number as written on the axis: whole numbers as they are, others with the decimals
 * they need (at most 2). The middle tick of a 0..5 axis is 2.5, never "3" (nor 0.5 "1").
 */
export const tickNumber = (v: number): string => String(Math.round(v * 100) / 100);

/** Where `v` sits on a y axis from 0 (bottom) to `yMax` (top), clamped to the box. */
export const yAt = (v: number, yMax: number, box: ChartBox): number => {
  const y0 = box.height - box.bottom;
  return r1(y0 - ((y0 - box.top) * Math.min(Math.max(v, 0), yMax)) / yMax);
};

export function chartGeometry(series: ChartSeries[], box: ChartBox, opts: { floor?: number; xTicks?: number } = {}): ChartGeometry {
  const n = Math.max(0, ...series.map((s) => s.values.length));
  const values = series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  const yMax = niceMax(Math.max(0, ...values), opts.floor ?? 1);
  const x0 = box.left;
  const x1 = box.width - box.right;
  const y0 = box.height - box.bottom;
  const y1 = box.top;
  const xOf = (i: number) => (n <= 1 ? x0 : x0 + ((x1 - x0) * i) / (n - 1));
  const yOf = (v: number) => y0 - ((y0 - y1) * Math.min(v, yMax)) / yMax;
  const lines = series.map((s) => {
    const parts: string[] = [];
    const dots: Array<{ x: number; y: number }> = [];
    const has = (i: number) => i >= 0 && i < s.values.length && s.values[i] !== null && Number.isFinite(s.values[i]);
    let points = 0;
    s.values.forEach((v, i) => {
      if (v === null || !Number.isFinite(v)) return;
      const x = r1(xOf(i));
      const y = r1(yOf(v));
      parts.push(`${has(i - 1) ? "L" : "M"}${x},${y}`);
      if (!has(i - 1) && !has(i + 1)) dots.push({ x, y });
      points++;
    });
    return { key: s.key, d: parts.join(" "), points, dots };
  });
  const yTicks = [0, 0.5, 1].map((f) => ({ value: yMax * f, y: r1(yOf(yMax * f)) }));
  const k = Math.max(2, opts.xTicks ?? 4);
  const xTicks =
    n === 0
      ? []
      : [...new Set(Array.from({ length: k }, (_, j) => Math.round(((n - 1) * j) / (k - 1))))].map((index) => ({
          index,
          x: r1(xOf(index)),
        }));
  return { yMax, yTicks, xTicks, lines };
}
