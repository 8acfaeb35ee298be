// Metrics: requests, error rate and p99 latency per worker and region over time
// (GET /v1/metrics/series: Cloudflare's invocation analytics, and the edge agents' heartbeats
// where a target has no analytics), read again every few seconds while the page is shown.
import type { Field } from "./browser.ts";
import { tickNumber } from "./chart-geometry.ts";
import { lineChart } from "./chart.ts";
import { failure, h, put, when } from "./dom.ts";
import { keepQuery, type Page } from "./page.ts";
import type { MetricsSeries, WorkerSummary } from "./types.ts";

/** How often the series are asked for again (the daemon reads Cloudflare at most every 10 s). */
export const METRICS_REFRESH_MS = 3_000;
const RANGES = [30, 60, 180, 360];

export const metricsPage: Page = (root, ctx, route) => {
  const worker = h("select", { id: "metrics-worker", name: "worker" }, h("option", { value: "" }, "all workers")) as Field;
  const target = h("select", { id: "metrics-target", name: "target" }, h("option", { value: "" }, "all targets")) as Field;
  // A deep link (#/metrics?worker=x&target=eu&minutes=180) shows what it names.
  const asked = { worker: route.query.get("worker") ?? "", target: route.query.get("target") ?? "", minutes: route.query.get("minutes") };
  const minutes = RANGES.find((m) => String(m) === asked.minutes) ?? 60;
  const range = h(
    "select",
    { id: "metrics-range", name: "minutes" },
    ...RANGES.map((m) => h("option", { value: m, selected: m === minutes }, `last ${m} min`)),
  ) as Field;
  const charts = h("div", { class: "charts", "aria-live": "off" }, h("p", { class: "muted" }, "Loading…"));
  const sources = h("p", { class: "muted sources", role: "status" });
  const field = (label: string, el: Field) => h("div", { class: "field" }, h("label", { for: el.id }, label), el);
  put(
    root,
    h("div", { class: "page-head" }, h("h1", {}, "Metrics")),
    h(
      "form",
      { class: "filters", "aria-label": "Which series", onsubmit: (e) => e.preventDefault(), onchange: () => changed() },
      field("Worker", worker),
      field("Target", target),
      field("Range", range),
    ),
    sources,
    charts,
  );

  let timer: ReturnType<typeof setTimeout> | undefined;
  let disposed = false;
  let loading = false;

  async function options(): Promise<void> {
    try {
      const workers: WorkerSummary[] = await ctx.api.workers();
      for (const w of workers) worker.append(h("option", { value: w.name }, w.name));
      for (const t of [...new Set(workers.flatMap((w) => w.targets))]) target.append(h("option", { value: t }, t));
      // What the address asked for, once it is a choice (an unknown name stays "all").
      if (workers.some((w) => w.name === asked.worker)) worker.value = asked.worker;
      if (workers.some((w) => w.targets.includes(asked.target))) target.value = asked.target;
    } catch {
      // The charts say what failed.
    }
  }

  function changed(): void {
    keepQuery({ worker: worker.value, target: target.value, minutes: range.value === "60" ? "" : range.value });
    void load();
  }

  function draw(s: MetricsSeries): void {
    const times = s.series[0]?.points.map((p) => p.t) ?? [];
    const lines = (pick: (p: MetricsSeries["series"][number]["points"][number]) => number | null) =>
      s.series.map((x) => ({ worker: x.worker, target: x.target, values: x.points.map(pick) }));
    put(
      charts,
      s.series.length === 0
        ? h("p", { class: "muted" }, "No worker runs on the chosen target.")
        : h(
            "div",
            { class: "chart-grid" },
            lineChart({
              metric: "requests",
              title: "Requests per minute",
              lines: lines((p) => p.requests),
              times,
              format: tickNumber,
            }),
            lineChart({
              metric: "error-rate",
              title: "Error rate",
              lines: lines((p) => p.errorRate),
              times,
              format: (v) => `${Math.round(v * 1000) / 10}%`,
              floor: 0.01,
            }),
            lineChart({
              metric: "p99",
              title: "p99 wall time (ms)",
              lines: lines((p) => p.p99Ms),
              times,
              format: (v) => `${tickNumber(v)} ms`,
            }),
          ),
    );
    put(
      sources,
      `${when(s.from)} – ${when(s.to)}, per minute. Analytics: `,
      ...s.sources.flatMap((src, i) => [
        i > 0 ? ", " : "",
        h(
          "span",
          { "data-source": src.target, "data-analytics": src.analytics, title: src.error ?? "" },
          `${src.target} ${src.analytics === "ok" ? "read" : src.analytics === "error" ? "unavailable (heartbeats shown)" : "not read yet"}`,
        ),
      ]),
    );
  }

  /** A filter changed while a read was under way: read again at once after it. */
  let again = false;
  async function load(): Promise<void> {
    if (disposed) return;
    if (loading) {
      again = true;
      return;
    }
    loading = true;
    again = false;
    if (timer) clearTimeout(timer);
    try {
      draw(
        await ctx.api.metricsSeries({
          ...(worker.value ? { worker: worker.value } : {}),
          ...(target.value ? { target: target.value } : {}),
          minutes: Number(range.value),
        }),
      );
    } catch (e) {
      put(charts, failure(e));
    } finally {
      loading = false;
      if (!disposed) timer = setTimeout(() => void load(), again ? 0 : METRICS_REFRESH_MS);
    }
  }

  // The first read waits for the choices, so that a deep link's series are the first drawn.
  void options().then(load);
  return {
    dispose() {
      disposed = true;
      if (timer) clearTimeout(timer);
    },
  };
};
