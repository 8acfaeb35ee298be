// `workersInvocationsAdaptive(limit, filter, orderBy) { sum {…} quantiles {…} dimensions {…} }`:
// the account's minute rows, filtered, grouped by the selected dimensions, ordered (by default by
// those dimensions), cut to `limit`, and rendered with only the fields the query selected.
import type { FieldNode } from "graphql/language";
import type { InvocationRow, RowQuery } from "../state/invocations.ts";
import { argsOf, expectObject, expectScalar, fieldsOf, keyOf, type Fragments, type Vars } from "./ast.ts";
import { GraphqlError } from "./errors.ts";
import { boundsOf, compileFilter } from "./filter.ts";
import {
  addRow,
  DIMENSIONS,
  emptyGroup,
  NOT_EMULATED,
  quantileField,
  SUMS,
  TYPE_NAMES,
  type Group,
  type RowContext,
} from "./invocations-fields.ts";

export const MAX_LIMIT = 10_000;

export type DatasetContext = RowContext & {
  rows(q: Omit<RowQuery, "accountId">): InvocationRow[];
  now: number;
  retentionMs: number;
  /** Injected analytics lag: a minute shows this long after it ends (0: rows show as they fill). */
  lagMs: number;
  fragments: Fragments;
  vars: Vars;
};

type Path = Array<string | number>;

function unknownField(name: string, type: string, path: Path): GraphqlError {
  const why = NOT_EMULATED.has(name) ? " (Cloudflare has it; the local edge does not measure it)" : "";
  return new GraphqlError(`unknown field "${name}" on type "${type}"${why}`, 400, [...path, name]);
}

type Plan = {
  dims: FieldNode[];
  render: (key: string[], g: Group) => Record<string, unknown>;
};

/** Checks the selection of a row and builds its renderer. */
function planRow(field: FieldNode, ctx: DatasetContext, path: Path): Plan {
  const dims: FieldNode[] = [];
  const parts: Array<(key: string[], g: Group, out: Record<string, unknown>) => void> = [];
  for (const f of fieldsOf(field.selectionSet, ctx.fragments, ctx.vars)) {
    const name = f.name.value;
    const k = keyOf(f);
    if (name === "__typename") {
      parts.push((_k, _g, out) => (out[k] = TYPE_NAMES.row));
      continue;
    }
    if (name !== "sum" && name !== "quantiles" && name !== "dimensions") throw unknownField(name, TYPE_NAMES.row, path);
    expectObject(f, path);
    const sub = fieldsOf(f.selectionSet, ctx.fragments, ctx.vars);
    const subPath = [...path, k];
    const getters: Array<[string, (key: string[], g: Group) => unknown]> = [];
    for (const s of sub) {
      const sname = s.name.value;
      const skey = keyOf(s);
      expectScalar(s, subPath);
      if (sname === "__typename") {
        getters.push([skey, () => TYPE_NAMES[name]]);
      } else if (name === "sum") {
        const get = SUMS[sname];
        if (!get) throw unknownField(sname, TYPE_NAMES.sum, subPath);
        getters.push([skey, (_k, g) => get(g)]);
      } else if (name === "quantiles") {
        const get = quantileField(sname);
        if (!get) throw unknownField(sname, TYPE_NAMES.quantiles, subPath);
        getters.push([skey, (_k, g) => get(g)]);
      } else {
        if (!DIMENSIONS[sname]) throw unknownField(sname, TYPE_NAMES.dimensions, subPath);
        const index = dims.length;
        dims.push(s);
        getters.push([skey, (key) => key[index]]);
      }
    }
    parts.push((key, g, out) => {
      const o: Record<string, unknown> = {};
      for (const [gk, get] of getters) o[gk] = get(key, g);
      out[k] = o;
    });
  }
  return {
    dims,
    render(key, g) {
      const out: Record<string, unknown> = {};
      for (const p of parts) p(key, g, out);
      return out;
    },
  };
}

type Sorter = (a: { key: string[]; g: Group }, b: { key: string[]; g: Group }) => number;

function sorterOf(orderBy: unknown, dims: FieldNode[], path: Path): Sorter {
  const items = orderBy === undefined ? [] : Array.isArray(orderBy) ? orderBy : [orderBy];
  const keys: Sorter[] = [];
  for (const item of items) {
    const m = typeof item === "string" ? /^(.+)_(ASC|DESC)$/.exec(item) : null;
    if (!m)
      throw new GraphqlError(
        `error parsing args: orderBy takes values like datetimeMinute_ASC or sum_requests_DESC, not ${JSON.stringify(item)}`,
        400,
        path,
      );
    const sign = m[2] === "ASC" ? 1 : -1;
    const sum = /^sum_(.+)$/.exec(m[1]!);
    if (sum) {
      const get = SUMS[sum[1]!];
      if (!get) throw new GraphqlError(`error parsing args: cannot order by "${m[1]}": no such sum field`, 400, path);
      keys.push((a, b) => sign * (get(a.g) - get(b.g)));
      continue;
    }
    const index = dims.findIndex((d) => d.name.value === m[1]);
    if (index < 0)
      throw new GraphqlError(`error parsing args: cannot order by "${m[1]}": order by a selected dimension or a sum_ field`, 400, path);
    keys.push((a, b) => sign * a.key[index]!.localeCompare(b.key[index]!));
  }
  // Then by the grouped dimensions, ascending: Cloudflare's default order, and a stable tiebreak.
  keys.push((a, b) => {
    for (let i = 0; i < a.key.length; i++) {
      const c = a.key[i]!.localeCompare(b.key[i]!);
      if (c !== 0) return c;
    }
    return 0;
  });
  return (a, b) => {
    for (const k of keys) {
      const c = k(a, b);
      if (c !== 0) return c;
    }
    return 0;
  };
}

export function workersInvocationsAdaptive(field: FieldNode, ctx: DatasetContext, path: Path): unknown[] {
  expectObject(field, path.slice(0, -1));
  const args = argsOf(field, ctx.vars);
  for (const name of Object.keys(args)) {
    if (name !== "limit" && name !== "filter" && name !== "orderBy")
      throw new GraphqlError(`error parsing args: unknown argument "${name}"`, 400, path);
  }
  const limit = args["limit"];
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit <= 0 || limit > MAX_LIMIT) {
    throw new GraphqlError(`limit must be positive number and not greater than ${MAX_LIMIT}`, 400, path);
  }
  const predicate = compileFilter(args["filter"]);
  const bounds = boundsOf(args["filter"]);
  if (bounds.earliestMs !== undefined && bounds.earliestMs < ctx.now - ctx.retentionMs - 60_000) {
    throw new GraphqlError(`cannot request data older than ${Math.round(ctx.retentionMs / 1000)}s`, 400, path);
  }
  const plan = planRow(field, ctx, path);
  const sorter = sorterOf(args["orderBy"], plan.dims, path);

  const rows = ctx.rows({
    fromMinute: Math.max(bounds.fromMinute ?? -Infinity, ctx.now - ctx.retentionMs - 60_000),
    ...(bounds.toMinute !== undefined ? { toMinute: bounds.toMinute } : {}),
    ...(bounds.scripts !== undefined ? { scripts: bounds.scripts } : {}),
  });
  const groups = new Map<string, { key: string[]; g: Group }>();
  for (const r of rows) {
    if (ctx.lagMs > 0 && r.minute + 60_000 + ctx.lagMs > ctx.now) continue;
    if (!predicate(r, ctx)) continue;
    const key = plan.dims.map((d) => DIMENSIONS[d.name.value]!.value(r, ctx));
    const id = key.join("\u0000");
    let entry = groups.get(id);
    if (!entry) groups.set(id, (entry = { key, g: emptyGroup() }));
    addRow(entry.g, r);
  }
  return [...groups.values()]
    .filter((e) => e.g.requests > 0 || e.g.subrequests > 0)
    .sort(sorter)
    .slice(0, limit)
    .map((e) => plan.render(e.key, e.g));
}
