// A small metrics registry and its Prometheus text exposition (format 0.0.4). In-house rather than
// prom-client: measured on Node 24, importing prom-client and rendering one counter adds ~21 MiB of
// RSS to a process (this file: well under 1 MiB), and the daemon's idle memory has a goal.
//
// Counters, gauges and histograms with named labels. Each family holds at most `maxSeries` label
// sets; past that new ones are dropped and counted in cbo_metrics_series_dropped_total, so a label
// that turned out unbounded cannot grow the daemon's memory. Gauges that mirror state elsewhere
// (queue lengths, open sockets) are set by collectors, which run at each scrape.

type LabelValues<L extends string> = { readonly [K in L]: string };

export type Counter<L extends string = never> = {
  inc(...args: [L] extends [never] ? [by?: number] : [labels: LabelValues<L>, by?: number]): void;
  /** The current value (tests, collectors). */
  get(...args: [L] extends [never] ? [] : [labels: LabelValues<L>]): number;
};

export type Gauge<L extends string = never> = {
  set(...args: [L] extends [never] ? [value: number] : [labels: LabelValues<L>, value: number]): void;
  get(...args: [L] extends [never] ? [] : [labels: LabelValues<L>]): number;
  /** Forgets every label set (a collector that sets all current ones afresh). */
  reset(): void;
};

export type Histogram<L extends string = never> = {
  observe(...args: [L] extends [never] ? [value: number] : [labels: LabelValues<L>, value: number]): void;
};

export type Registry = {
  counter<L extends string = never>(name: string, help: string, labels?: readonly L[]): Counter<L>;
  gauge<L extends string = never>(name: string, help: string, labels?: readonly L[]): Gauge<L>;
  histogram<L extends string = never>(name: string, help: string, labels: readonly L[], buckets: readonly number[]): Histogram<L>;
  /** Runs before each render (set gauges from the state they mirror). A collector that throws is skipped. */
  collect(fn: () => void): void;
  /** The exposition text. */
  render(): string;
};

export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

type Kind = "counter" | "gauge" | "histogram";
type Series = { labels: readonly string[]; value: number; buckets?: number[]; sum?: number };
type Family = {
  name: string;
  help: string;
  kind: Kind;
  labels: readonly string[];
  buckets?: readonly number[];
  series: Map<string, Series>;
};

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function createRegistry(opts: { maxSeries?: number } = {}): Registry {
  const maxSeries = opts.maxSeries ?? 2000;
  const families = new Map<string, Family>();
  const collectors: Array<() => void> = [];
  let dropped = 0;

  function family(name: string, help: string, kind: Kind, labels: readonly string[], buckets?: readonly number[]): Family {
    if (!NAME.test(name) || families.has(name)) throw new Error(`metric ${name}: invalid or registered twice`);
    for (const l of labels) if (!LABEL.test(l) || l === "le") throw new Error(`metric ${name}: invalid label ${l}`);
    const f: Family = { name, help, kind, labels, series: new Map(), ...(buckets ? { buckets: [...buckets].sort((a, b) => a - b) } : {}) };
    families.set(name, f);
    return f;
  }

  function series(f: Family, given: Record<string, string> | undefined, create: boolean): Series | undefined {
    const values = f.labels.map((l) => String(given?.[l] ?? ""));
    const key = values.join("\u0000");
    let s = f.series.get(key);
    if (!s && create) {
      if (f.series.size >= maxSeries) {
        dropped++;
        return undefined;
      }
      s = { labels: values, value: 0, ...(f.buckets ? { buckets: f.buckets.map(() => 0), sum: 0 } : {}) };
      f.series.set(key, s);
    }
    return s;
  }

  // The overloads take (labels, value) or (value) alone; a family without labels has only the latter.
  const split = (f: Family, args: unknown[]): [Record<string, string> | undefined, number | undefined] =>
    f.labels.length === 0 ? [undefined, args[0] as number | undefined] : [args[0] as Record<string, string>, args[1] as number | undefined];

  const registry: Registry = {
    counter(name, help, labels = []) {
      const f = family(name, help, "counter", labels);
      return {
        inc: (...args: unknown[]) => {
          const [l, by = 1] = split(f, args);
          if (!(by >= 0)) return; // a counter only goes up
          const s = series(f, l, true);
          if (s) s.value += by;
        },
        get: (...args: unknown[]) => series(f, args[0] as Record<string, string>, false)?.value ?? 0,
      } as never;
    },
    gauge(name, help, labels = []) {
      const f = family(name, help, "gauge", labels);
      return {
        set: (...args: unknown[]) => {
          const [l, v] = split(f, args);
          const s = series(f, l, true);
          if (s && v !== undefined) s.value = v;
        },
        get: (...args: unknown[]) => series(f, args[0] as Record<string, string>, false)?.value ?? 0,
        reset: () => f.series.clear(),
      } as never;
    },
    histogram(name, help, labels, buckets) {
      const f = family(name, help, "histogram", labels, buckets);
      return {
        observe: (...args: unknown[]) => {
          const [l, v] = split(f, args);
          if (v === undefined || Number.isNaN(v)) return;
          const s = series(f, l, true);
          if (!s) return;
          s.value++;
          s.sum! += v;
          const bs = f.buckets!;
          for (let i = 0; i < bs.length; i++) if (v <= bs[i]!) s.buckets![i]!++;
        },
      } as never;
    },
    collect(fn) {
      collectors.push(fn);
    },
    render() {
      for (const c of collectors) {
        try {
          c();
        } catch {
          // A collector that cannot read its state this time leaves its gauges as they were.
        }
      }
      const out: string[] = [];
      for (const f of families.values()) renderFamily(f, out);
      out.push(
        "# HELP cbo_metrics_series_dropped_total Label sets not kept because their metric had too many.",
        "# TYPE cbo_metrics_series_dropped_total counter",
        `cbo_metrics_series_dropped_total ${dropped}`,
      );
      return `${out.join("\n")}\n`;
    },
  };
  return registry;
}

function renderFamily(f: Family, out: string[]): void {
  out.push(`# HELP ${f.name} ${f.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`, `# TYPE ${f.name} ${f.kind}`);
  for (const s of f.series.values()) {
    const pairs = f.labels.map((l, i) => `${l}="${escapeLabel(s.labels[i]!)}"`);
    if (f.kind !== "histogram") {
      out.push(`${f.name}${pairs.length ? `{${pairs.join(",")}}` : ""} ${num(s.value)}`);
      continue;
    }
    const le = (b: string) => `{${[...pairs, `le="${b}"`].join(",")}}`;
    f.buckets!.forEach((b, i) => out.push(`${f.name}_bucket${le(num(b))} ${s.buckets![i]}`));
    out.push(`${f.name}_bucket${le("+Inf")} ${s.value}`);
    const plain = pairs.length ? `{${pairs.join(",")}}` : "";
    out.push(`${f.name}_sum${plain} ${num(s.sum!)}`, `${f.name}_count${plain} ${s.value}`);
  }
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function num(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Number.POSITIVE_INFINITY) return "+Inf";
  if (v === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(v);
}
