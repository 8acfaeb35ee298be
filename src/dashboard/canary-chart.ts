// One step of one target, drawn: canary against baseline in three small SVG charts (requests per
// minute, error rate, p99), the gate's bar as a dashed line, the verdict and the rules' numbers,
// and a note for each thing the analytics do not show. Drawn by hand (chart-geometry.ts), colours
// from CSS classes (strict CSP: no inline style). Each line carries data-series, data-points,
// data-total and data-last for tests and screen readers; the bar carries data-threshold.
import type { StepAnalysis, VersionWindow } from "../contract/index.ts";
import type { El } from "./browser.ts";
import { canaryView, ms, pct, type CanaryPanel } from "./canary-series.ts";
import { chartGeometry, tickNumber, yAt, type ChartBox } from "./chart-geometry.ts";
import { badge, h, short, svg, type Child } from "./dom.ts";

const BOX: ChartBox = { width: 320, height: 150, left: 52, right: 10, top: 10, bottom: 24 };
const SERIES = ["canary", "baseline"] as const;

export function canaryStep(step: StepAnalysis): El {
  const view = canaryView(step);
  return h(
    "section",
    {
      class: `canary-step verdict-${step.verdict}`,
      "data-target": step.target,
      "data-percent": step.percent,
      "data-state": step.state,
      "data-verdict": step.verdict,
      "aria-label": `${step.target} at ${step.percent}%: ${step.verdict}`,
    },
    h(
      "h4",
      {},
      `${step.target} · ${step.percent}% · `,
      badge(step.verdict, "verdict"),
      " ",
      badge(step.state),
      h("span", { class: "muted" }, ` canary ${short(step.versionId)} vs baseline ${short(step.baselineVersionId)}`),
    ),
    step.reason ? h("p", { class: "reason" }, step.reason) : null,
    view.notes.length ? h("ul", { class: "notes" }, ...view.notes.map((n) => h("li", {}, n))) : null,
    h("div", { class: "canary-charts" }, ...view.panels.map((p) => panelChart(p, step, view.partialLast))),
    totals(step),
  );
}

function panelChart(p: CanaryPanel, step: StepAnalysis, partialLast: boolean): El {
  const format = p.metric === "error-rate" ? pct : p.metric === "p99" ? ms : tickNumber;
  const g = chartGeometry(
    SERIES.map((k) => ({ key: k, values: k === "canary" ? p.canary : p.baseline })),
    BOX,
    // The bar stays inside the chart, with a little room above it.
    { floor: p.threshold !== null ? p.threshold * 1.15 : p.metric === "error-rate" ? 0.01 : 1, xTicks: 3 },
  );
  const hhmm = (iso: string | undefined) => (iso ? new Date(iso).toTimeString().slice(0, 5) : "");
  const numbers = (vs: Array<number | null>) => vs.filter((v): v is number => v !== null);
  const title = `${p.title}, ${step.target} at ${step.percent}%: canary against baseline`;
  const children: Child[] = [
    svg("title", {}, title),
    ...g.yTicks.map((t) =>
      svg(
        "g",
        { class: "tick" },
        svg("line", { x1: BOX.left, x2: BOX.width - BOX.right, y1: t.y, y2: t.y, class: "grid" }),
        svg("text", { x: BOX.left - 5, y: t.y + 4, "text-anchor": "end", class: "sub" }, format(t.value)),
      ),
    ),
    ...g.xTicks.map((t, i, all) =>
      svg(
        "text",
        { x: t.x, y: BOX.height - 7, "text-anchor": i === 0 ? "start" : i === all.length - 1 ? "end" : "middle", class: "sub" },
        `${hhmm(p.times[t.index])}${partialLast && t.index === p.times.length - 1 ? " (partial)" : ""}`,
      ),
    ),
    p.threshold !== null
      ? svg("line", {
          class: "threshold",
          x1: BOX.left,
          x2: BOX.width - BOX.right,
          y1: yAt(p.threshold, g.yMax, BOX),
          y2: yAt(p.threshold, g.yMax, BOX),
          "data-threshold": p.threshold,
        })
      : null,
    ...g.lines.map((line, i) => {
      const name = SERIES[i]!;
      const vs = numbers(name === "canary" ? p.canary : p.baseline);
      return svg(
        "g",
        { class: `series-group line-${name}` },
        svg("path", {
          d: line.d || "M0,0",
          class: `series line-${name}`,
          "data-series": name,
          "data-points": line.points,
          "data-last": vs.at(-1) ?? "",
          "data-total": vs.reduce((a, b) => a + b, 0),
        }),
        ...line.dots.map((d) => svg("circle", { cx: d.x, cy: d.y, r: 3, class: "dot" })),
      );
    }),
    p.times.length === 0
      ? svg("text", { x: BOX.width / 2, y: BOX.height / 2, "text-anchor": "middle", class: "sub no-data" }, "no analytics")
      : null,
  ];
  return h(
    "figure",
    { class: "chart-box canary-chart" },
    h("figcaption", {}, p.title, " ", p.check ? badge(p.check.verdict, "check") : null),
    svg(
      "svg",
      {
        class: "chart",
        "data-metric": p.metric,
        "data-target": step.target,
        "data-percent": step.percent,
        viewBox: `0 0 ${BOX.width} ${BOX.height}`,
        role: "img",
        "aria-label": title,
      },
      ...children,
    ),
    h(
      "ul",
      { class: "legend chart-legend" },
      h("li", {}, h("span", { class: "swatch line-canary", "aria-hidden": "true" }), "canary"),
      h("li", {}, h("span", { class: "swatch line-baseline", "aria-hidden": "true" }), "baseline"),
      p.threshold !== null ? h("li", {}, h("span", { class: "swatch line-threshold", "aria-hidden": "true" }), "fails above") : null,
    ),
    h("p", { class: "threshold-label" }, p.thresholdLabel),
    p.check ? h("p", { class: `check check-${p.check.verdict}` }, p.check.detail) : null,
  );
}

/** Both versions' totals over their windows, beside the rules' numbers. */
function totals(step: StepAnalysis): El {
  const row = (name: string, w: VersionWindow | null): El[] => [
    h("th", { scope: "row" }, name),
    ...[
      w ? h("code", {}, short(w.versionId)) : "—",
      w ? `${new Date(w.from).toTimeString().slice(0, 8)}–${new Date(w.to).toTimeString().slice(0, 8)}` : "not read",
      w ? String(w.requests) : "—",
      w ? String(w.errors) : "—",
      w?.errorRate != null ? pct(w.errorRate) : "—",
      w?.p50Ms != null ? ms(w.p50Ms) : "—",
      w?.p99Ms != null ? ms(w.p99Ms) : "—",
    ].map((c) => h("td", {}, c)),
  ];
  const other = step.checks.filter((c) => c.rule === "latency_p50");
  return h(
    "div",
    { class: "canary-totals" },
    h(
      "table",
      { class: "data compact" },
      h("caption", { class: "visually-hidden" }, `Totals over each version's window, ${step.target} at ${step.percent}%`),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ...["", "Version", "Window", "Requests", "Errors", "Error rate", "p50", "p99"].map((c) => h("th", { scope: "col" }, c)),
        ),
      ),
      h(
        "tbody",
        {},
        h("tr", { "data-series": "canary" }, ...row("canary", step.canary)),
        h("tr", { "data-series": "baseline" }, ...row("baseline", step.baseline)),
      ),
    ),
    ...other.map((c) => h("p", { class: `check check-${c.verdict}` }, `p50: ${c.detail} (${c.verdict})`)),
  );
}
