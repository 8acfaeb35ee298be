// `d1QueriesAdaptiveGroups`, the dataset `wrangler d1 insights` reads:
//   d1QueriesAdaptiveGroups(limit: N, filter: {AND: [{datetimeHour_geq, datetimeHour_leq, databaseId?}]},
//                           orderBy: [sum_queryDurationMs_DESC | avg_rowsRead_ASC | count_DESC | …])
//     { sum { queryDurationMs rowsRead rowsWritten rowsReturned } avg { …the same… } count
//       dimensions { query databaseId } }
// One row per (database, query text) over the range, from what the databases recorded per hour
// (d1/usage.ts). Without databaseId, every database of the account. Only these fields exist;
// others are refused by name, as Cloudflare refuses unknown fields.
import type { FieldNode } from "graphql/language";
import { argsOf, expectObject } from "./ast.ts";
import { GraphqlError } from "./errors.ts";
import {
  checkedArgs,
  conditions,
  onlyKnown,
  render,
  stringCondition,
  timeArg,
  type D1QueryRow,
  type Path,
  type StorageContext,
} from "./storage-datasets.ts";

const TYPE = "AccountD1QueriesAdaptiveGroups";
const MEASURES = ["queryDurationMs", "rowsRead", "rowsWritten", "rowsReturned"] as const;
type Measure = (typeof MEASURES)[number];
const DEFAULT_LIMIT = 100;

const sumOf = (r: D1QueryRow): Record<Measure, number> => ({
  queryDurationMs: r.durationMs,
  rowsRead: r.rowsRead,
  rowsWritten: r.rowsWritten,
  rowsReturned: r.rowsReturned,
});
const avgOf = (r: D1QueryRow): Record<Measure, number> => {
  const s = sumOf(r);
  return Object.fromEntries(MEASURES.map((m) => [m, r.count === 0 ? 0 : s[m] / r.count])) as Record<Measure, number>;
};

/** `count_DESC`, `sum_rowsRead_ASC`, `avg_queryDurationMs_DESC`: a value to sort by and a direction. */
function sorterOf(orderBy: unknown, path: Path): (a: D1QueryRow, b: D1QueryRow) => number {
  const items = orderBy === undefined ? [] : Array.isArray(orderBy) ? orderBy : [orderBy];
  const keys = items.map((item) => {
    const m = typeof item === "string" ? /^(?:(sum|avg)_([A-Za-z]+)|(count))_(ASC|DESC)$/.exec(item) : null;
    if (!m || (m[2] !== undefined && !(MEASURES as readonly string[]).includes(m[2])))
      throw new GraphqlError(
        `error parsing args: orderBy takes values like count_DESC, sum_queryDurationMs_DESC or avg_rowsRead_ASC, not ${JSON.stringify(item)}`,
        400,
        path,
      );
    const value = m[3]
      ? (r: D1QueryRow) => r.count
      : m[1] === "sum"
        ? (r: D1QueryRow) => sumOf(r)[m[2] as Measure]
        : (r: D1QueryRow) => avgOf(r)[m[2] as Measure];
    return { value, sign: m[4] === "ASC" ? 1 : -1 };
  });
  return (a, b) => {
    for (const k of keys) {
      const d = k.value(a) - k.value(b);
      if (d !== 0) return d * k.sign;
    }
    return a.databaseId === b.databaseId ? (a.query < b.query ? -1 : a.query > b.query ? 1 : 0) : a.databaseId < b.databaseId ? -1 : 1;
  };
}

export function d1QueriesAdaptiveGroups(field: FieldNode, ctx: StorageContext, path: Path): Record<string, unknown>[] {
  expectObject(field, path);
  const args = checkedArgs(argsOf(field, ctx.vars), "d1QueriesAdaptiveGroups", path, DEFAULT_LIMIT);
  const cond = conditions(args.filter, path);
  onlyKnown(cond, ["databaseId", "datetimeHour_geq", "datetimeHour_leq", "date_geq", "date_leq"], "d1QueriesAdaptiveGroups", path);
  const from = timeArg(cond["datetimeHour_geq"] ?? cond["date_geq"], "datetimeHour_geq", path) ?? 0;
  const to = timeArg(cond["datetimeHour_leq"] ?? cond["date_leq"], "datetimeHour_leq", path) ?? ctx.now;
  const id = stringCondition(cond, "databaseId", path);
  const rows = [...(ctx.d1Queries?.(id, from, to) ?? [])].sort(sorterOf(args.orderBy, path));
  return rows.slice(0, args.limit).map((r, i) =>
    render(field, ctx, TYPE, { sum: sumOf(r), avg: avgOf(r), dimensions: { query: r.query, databaseId: r.databaseId } }, [...path, i], {
      count: r.count,
    }),
  );
}
