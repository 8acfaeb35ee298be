// A strict parser of the Prometheus text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/), written for the tests: it throws
// on anything the format does not allow (a sample before its TYPE, a bad name, a bad escape, a
// duplicate series, a histogram without +Inf or with buckets that go down, counts that disagree),
// so a /metrics answer that parses here is one Prometheus scrapes.
export type Sample = { name: string; labels: Record<string, string>; value: number };
export type MetricFamily = { name: string; type: string; help: string; samples: Sample[] };

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

export function parsePrometheusText(text: string): Map<string, MetricFamily> {
  if (!text.endsWith("\n")) throw new Error("the exposition must end with a newline");
  const families = new Map<string, MetricFamily>();
  const seen = new Set<string>();
  let current: MetricFamily | undefined;
  const lines = text.slice(0, -1).split("\n");
  lines.forEach((line, i) => {
    const where = `line ${i + 1}: ${line.slice(0, 80)}`;
    if (line === "") return;
    if (line.startsWith("#")) {
      const m = /^# (HELP|TYPE) ([^ ]+) ?(.*)$/.exec(line);
      if (!m) return; // a plain comment
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (!NAME.test(name) || NAME.exec(name)![0] !== name) throw new Error(`${where}: bad metric name`);
      let f = families.get(name);
      if (!f) {
        if (seen.has(name)) throw new Error(`${where}: family ${name} appears twice`);
        f = { name, type: "untyped", help: "", samples: [] };
        families.set(name, f);
        seen.add(name);
      } else if (current !== f) throw new Error(`${where}: family ${name} is not contiguous`);
      if (kind === "TYPE") {
        if (!TYPES.has(rest)) throw new Error(`${where}: unknown type`);
        if (f.samples.length > 0) throw new Error(`${where}: TYPE after samples`);
        f.type = rest;
      } else f.help = unescapeHelp(rest, where);
      current = f;
      return;
    }
    const sample = parseSample(line, where);
    const family = familyOf(sample.name, families);
    if (!family) throw new Error(`${where}: sample of no declared family`);
    if (family !== current) throw new Error(`${where}: sample away from its family`);
    const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (seen.has(key)) throw new Error(`${where}: duplicate series`);
    seen.add(key);
    family.samples.push(sample);
  });
  for (const f of families.values()) if (f.type === "histogram") checkHistogram(f);
  return families;
}

function familyOf(sample: string, families: Map<string, MetricFamily>): MetricFamily | undefined {
  const direct = families.get(sample);
  if (direct && direct.type !== "histogram") return direct;
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (!sample.endsWith(suffix)) continue;
    const f = families.get(sample.slice(0, -suffix.length));
    if (f?.type === "histogram" || f?.type === "summary") return f;
  }
  return direct;
}

function parseSample(line: string, where: string): Sample {
  const nameMatch = NAME.exec(line);
  if (!nameMatch) throw new Error(`${where}: bad sample name`);
  const name = nameMatch[0];
  let rest = line.slice(name.length);
  const labels: Record<string, string> = {};
  if (rest.startsWith("{")) {
    rest = rest.slice(1);
    while (!rest.startsWith("}")) {
      const l = LABEL.exec(rest);
      if (!l) throw new Error(`${where}: bad label name`);
      const label = l[0];
      rest = rest.slice(label.length);
      if (!rest.startsWith('="')) throw new Error(`${where}: expected ="`);
      rest = rest.slice(2);
      let value = "";
      for (;;) {
        const c = rest[0];
        if (c === undefined) throw new Error(`${where}: unterminated label value`);
        rest = rest.slice(1);
        if (c === '"') break;
        if (c === "\\") {
          const e = rest[0];
          rest = rest.slice(1);
          if (e === "\\") value += "\\";
          else if (e === '"') value += '"';
          else if (e === "n") value += "\n";
          else throw new Error(`${where}: bad escape \\${e}`);
        } else if (c === "\n") throw new Error(`${where}: raw newline in a label value`);
        else value += c;
      }
      if (Object.hasOwn(labels, label)) throw new Error(`${where}: label ${label} twice`);
      labels[label] = value;
      if (rest.startsWith(",")) rest = rest.slice(1);
      else if (!rest.startsWith("}")) throw new Error(`${where}: expected , or }`);
    }
    rest = rest.slice(1);
  }
  const m = /^ ([^ ]+)( -?\d+)?$/.exec(rest);
  if (!m) throw new Error(`${where}: expected one value (and an optional timestamp)`);
  return { name, labels, value: parseValue(m[1]!, where) };
}

function parseValue(v: string, where: string): number {
  if (v === "+Inf") return Number.POSITIVE_INFINITY;
  if (v === "-Inf") return Number.NEGATIVE_INFINITY;
  if (v === "NaN") return Number.NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v)) throw new Error(`${where}: bad value ${v}`);
  return Number(v);
}

function unescapeHelp(s: string, where: string): string {
  return s.replace(/\\(.)/g, (_, e: string) => {
    if (e === "\\") return "\\";
    if (e === "n") return "\n";
    throw new Error(`${where}: bad escape in HELP`);
  });
}

function checkHistogram(f: MetricFamily): void {
  const groups = new Map<string, { buckets: Array<[number, number]>; count?: number; sum?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const g = groups.get(key) ?? { buckets: [] };
    groups.set(key, g);
    if (s.name.endsWith("_bucket")) {
      if (le === undefined) throw new Error(`${f.name}: a bucket without le`);
      g.buckets.push([parseValue(le, f.name), s.value]);
    } else if (s.name.endsWith("_count")) g.count = s.value;
    else if (s.name.endsWith("_sum")) g.sum = s.value;
  }
  for (const g of groups.values()) {
    const sorted = [...g.buckets].sort((a, b) => a[0] - b[0]);
    if (sorted.at(-1)?.[0] !== Number.POSITIVE_INFINITY) throw new Error(`${f.name}: no +Inf bucket`);
    for (let i = 1; i < sorted.length; i++) if (sorted[i]![1] < sorted[i - 1]![1]) throw new Error(`${f.name}: buckets go down`);
    if (g.count === undefined || g.sum === undefined) throw new Error(`${f.name}: _count or _sum missing`);
    if (sorted.at(-1)![1] !== g.count) throw new Error(`${f.name}: +Inf bucket differs from _count`);
  }
}

/** The value of one series (0 when absent: a counter that never moved is not exported yet). */
export function valueOf(families: Map<string, MetricFamily>, name: string, labels: Record<string, string> = {}): number {
  for (const f of families.values())
    for (const s of f.samples)
      if (
        s.name === name &&
        Object.entries(labels).every(([k, v]) => s.labels[k] === v) &&
        Object.keys(s.labels).length >= Object.keys(labels).length
      )
        return s.value;
  return 0;
}
