// A line chart drawn by hand in SVG (no library, no inline style: colours are CSS classes), with
// its series named in a legend. Each line carries what tests and screen readers need: its worker
// and target, how many points it has, its last value and its total.
import { chartGeometry, type ChartBox } from "./chart-geometry.ts";
import { h, svg, type Child } from "./dom.ts";
import type { El } from "./browser.ts";

export type ChartLine = { worker: string; target: string; values: Array<number | null> };

const BOX: ChartBox = { width: 640, height: 200, left: 56, right: 12, top: 12, bottom: 26 };
const PALETTE = 8;

export function lineChart(o: {
  metric: string;
  title: string;
  lines: ChartLine[];
  /** The time of each point (ISO), shared by every line. */
  times: string[];
  format: (v: number) => string;
  /** The y axis reaches at least this. */
  floor?: number;
}): El {
  const g = chartGeometry(
    o.lines.map((l) => ({ key: `${l.worker}@${l.target}`, values: l.values })),
    BOX,
    { ...(o.floor !== undefined ? { floor: o.floor } : {}) },
  );
  const hhmm = (iso: string | undefined) => (iso ? new Date(iso).toTimeString().slice(0, 5) : "");
  const numbers = (vs: Array<number | null>) => vs.filter((v): v is number => v !== null);
  const children: Child[] = [
    svg("title", {}, o.title),
    ...g.yTicks.map((t) =>
      svg(
        "g",
        { class: "tick" },
        svg("line", { x1: BOX.left, x2: BOX.width - BOX.right, y1: t.y, y2: t.y, class: "grid" }),
        svg("text", { x: BOX.left - 6, y: t.y + 4, "text-anchor": "end", class: "sub" }, o.format(t.value)),
      ),
    ),
    ...g.xTicks.map((t, i, all) =>
      svg(
        "text",
        { x: t.x, y: BOX.height - 8, "text-anchor": i === 0 ? "start" : i === all.length - 1 ? "end" : "middle", class: "sub" },
        hhmm(o.times[t.index]),
      ),
    ),
    ...g.lines.map((line, i) => {
      const src = o.lines[i]!;
      const vs = numbers(src.values);
      return svg(
        "g",
        { class: `series-group series-${i % PALETTE}` },
        svg("path", {
          d: line.d || "M0,0",
          class: `series series-${i % PALETTE}`,
          "data-worker": src.worker,
          "data-target": src.target,
          "data-points": line.points,
          "data-last": vs.at(-1) ?? "",
          "data-total": vs.reduce((a, b) => a + b, 0),
        }),
        ...line.dots.map((p) => svg("circle", { cx: p.x, cy: p.y, r: 3, class: "dot" })),
      );
    }),
  ];
  return h(
    "figure",
    { class: "chart-box" },
    h("figcaption", {}, o.title),
    svg(
      "svg",
      { class: "chart", "data-metric": o.metric, viewBox: `0 0 ${BOX.width} ${BOX.height}`, role: "img", "aria-label": o.title },
      ...children,
    ),
    h(
      "ul",
      { class: "legend chart-legend" },
      ...o.lines.map((l, i) =>
        h("li", {}, h("span", { class: `swatch series-${i % PALETTE}`, "aria-hidden": "true" }), `${l.worker} @ ${l.target}`),
      ),
    ),
  );
}
