// Which config a target's bundle carries: the worker's `values`, then the override for the
// target's jurisdiction, then the target's own (deep merge of objects; arrays and scalars
// replace). Pure, so `cbo config diff` shows exactly what publish will sign.
import type { ResolvedWorker } from "../config/load.ts";
import type { Target } from "../config/schema.ts";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

export function deepMerge(base: Obj, over: Obj): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isObj(v) && isObj(out[k]) ? deepMerge(out[k] as Obj, v) : v;
  return out;
}

export function configFor(worker: ResolvedWorker, target: Pick<Target, "name" | "jurisdiction">): Obj {
  const c = worker.config;
  if (!c) return {};
  let out = deepMerge({}, c.values);
  if (target.jurisdiction && c.jurisdictions?.[target.jurisdiction]) out = deepMerge(out, c.jurisdictions[target.jurisdiction]!);
  if (c.targets?.[target.name]) out = deepMerge(out, c.targets[target.name]!);
  return out;
}

/** Every target's config for this worker, in the worker's target order. */
export function configsFor(worker: ResolvedWorker, targets: Target[]): Record<string, Obj> {
  const byName = new Map(targets.map((t) => [t.name, t]));
  return Object.fromEntries(worker.targets.map((name) => [name, configFor(worker, byName.get(name) ?? { name })]));
}
