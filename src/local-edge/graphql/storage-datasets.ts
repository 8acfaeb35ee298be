// The two storage datasets `wrangler d1 info` and `wrangler r2 bucket info` read:
//   d1AnalyticsAdaptiveGroups(filter: {AND: [{datetimeHour_geq, datetimeHour_leq, databaseId}]})
//     { sum { readQueries writeQueries rowsRead rowsWritten } dimensions { datetimeHour } }
//   r2StorageAdaptiveGroups(filter: {datetime_geq, datetime_leq, bucketName}, orderBy: [datetime_DESC], limit: 1)
//     { max { objectCount payloadSize metadataSize } dimensions { datetime } }
// D1 rows are the database's hours (d1/usage.ts), one row per hour when datetimeHour is selected,
// else one row for the whole range. R2 storage is sampled now: one row, at the current minute,
// when the range includes it. Only the fields named here exist; others are refused by name.
import type { FieldNode } from "graphql/language";
import { argsOf, expectObject, expectScalar, fieldsOf, keyOf, type Fragments, type Vars } from "./ast.ts";
import { GraphqlError } from "./errors.ts";

export type D1UsageRow = { hourMs: number; readQueries: number; writeQueries: number; rowsRead: number; rowsWritten: number };
export type D1QueryRow = {
  databaseId: string;
  query: string;
  count: number;
  durationMs: number;
  rowsRead: number;
  rowsWritten: number;
  rowsReturned: number;
};
export type R2StorageRow = { objectCount: number; payloadSize: number; metadataSize: number };

export type StorageContext = {
  now: number;
  /** The database's hours in [fromMs, toMs]; undefined for a database the account does not have. */
  d1Usage?: (databaseId: string, fromMs: number, toMs: number) => D1UsageRow[] | undefined;
  /**
   * Each query text's figures per database over the hours starting in [fromMs, toMs]: one database,
   * or every database of the account when `databaseId` is undefined (d1/usage.ts).
   */
  d1Queries?: (databaseId: string | undefined, fromMs: number, toMs: number) => D1QueryRow[];
  /** `bucketName` is `<jurisdiction>_<name>` for a bucket in a jurisdiction; undefined for an unknown bucket. */
  r2Storage?: (bucketName: string) => R2StorageRow | undefined;
  fragments: Fragments;
  vars: Vars;
};

export type Path = Array<string | number>;

/** `{AND: [{…}, {…}]}` and plain `{…}` filters, merged into one object of conditions. */
export function conditions(filter: unknown, path: Path): Record<string, unknown> {
  if (filter === undefined || filter === null) return {};
  if (typeof filter !== "object" || Array.isArray(filter))
    throw new GraphqlError("error parsing args: filter must be an object", 400, path);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(filter as Record<string, unknown>)) {
    if (k === "AND" && Array.isArray(v)) for (const part of v) Object.assign(out, conditions(part, path));
    else out[k] = v;
  }
  return out;
}

export function timeArg(v: unknown, name: string, path: Path): number | undefined {
  if (v === undefined) return undefined;
  const ms = typeof v === "string" ? Date.parse(v) : Number.NaN;
  if (Number.isNaN(ms)) throw new GraphqlError(`error parsing args: ${name} must be an ISO 8601 time`, 400, path);
  return ms;
}

/** Most rows an adaptive-groups dataset answers (Cloudflare's GraphQL limit for these datasets). */
export const MAX_LIMIT = 10_000;

/**
 * The arguments a dataset takes, refused by name otherwise, and its `limit`: an integer from 0 to
 * MAX_LIMIT, `fallback` when absent. A negative, fractional or huge limit is refused in the words
 * d1QueriesAdaptiveGroups uses, the one of these datasets that checked it first (Cloudflare's
 * exact wording for it is unconfirmed).
 */
export function checkedArgs(
  args: Record<string, unknown>,
  dataset: string,
  path: Path,
  fallback: number,
): { limit: number; filter: unknown; orderBy: unknown[] } {
  for (const name of Object.keys(args))
    if (name !== "limit" && name !== "filter" && name !== "orderBy")
      throw new GraphqlError(`unknown argument "${name}" on field "${dataset}"`, 400, path);
  const limit = args["limit"] === undefined ? fallback : args["limit"];
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 0 || limit > MAX_LIMIT)
    throw new GraphqlError(`error parsing args: limit must be an integer from 0 to ${MAX_LIMIT}`, 400, path);
  const orderBy = args["orderBy"] === undefined ? [] : Array.isArray(args["orderBy"]) ? args["orderBy"] : [args["orderBy"]];
  return { limit, filter: args["filter"], orderBy };
}

/** A filter value that must be a string when given. */
export function stringCondition(cond: Record<string, unknown>, name: string, path: Path): string | undefined {
  const v = cond[name];
  if (v !== undefined && typeof v !== "string") throw new GraphqlError(`error parsing args: ${name} must be a string`, 400, path);
  return v;
}

/**
 * `orderBy` of a dataset whose rows are ordered by one of `allowed` (e.g. datetimeHour_ASC),
 * refused by name otherwise; the first one decides: ascending or not.
 */
export function orderedAscending(orderBy: unknown[], allowed: string[], dataset: string, path: Path): boolean | undefined {
  for (const item of orderBy)
    if (typeof item !== "string" || !allowed.includes(item))
      throw new GraphqlError(
        `error parsing args: the local edge's ${dataset} orders by ${allowed.join(", ")}, not ${JSON.stringify(item)}`,
        400,
        path,
      );
  return orderBy.length === 0 ? undefined : (orderBy[0] as string).endsWith("_ASC");
}

export function onlyKnown(cond: Record<string, unknown>, known: string[], dataset: string, path: Path): void {
  for (const k of Object.keys(cond))
    if (!known.includes(k))
      throw new GraphqlError(`error parsing args: the local edge's ${dataset} filters by ${known.join(", ")}, not "${k}"`, 400, path);
}

/**
 * Renders one row with the selection of `field`: `groups` maps a group name (sum, max, dimensions)
 * to its values; `scalars` the row's plain fields (`count`).
 */
export function render(
  field: FieldNode,
  ctx: Pick<StorageContext, "fragments" | "vars">,
  typeName: string,
  groups: Record<string, Record<string, unknown>>,
  path: Path,
  scalars: Record<string, unknown> = {},
) {
  const out: Record<string, unknown> = {};
  for (const g of fieldsOf(field.selectionSet, ctx.fragments, ctx.vars)) {
    const gk = keyOf(g);
    const name = g.name.value;
    if (name === "__typename" || name in scalars) {
      expectScalar(g, path);
      out[gk] = name === "__typename" ? typeName : scalars[name];
      continue;
    }
    const values = groups[name];
    if (!values) throw new GraphqlError(`unknown field "${name}" on type "${typeName}"`, 400, [...path, gk]);
    expectObject(g, path);
    const sub: Record<string, unknown> = {};
    for (const f of fieldsOf(g.selectionSet, ctx.fragments, ctx.vars)) {
      expectScalar(f, [...path, gk]);
      if (!(f.name.value in values))
        throw new GraphqlError(`unknown field "${f.name.value}" on type "${typeName}_${name}"`, 400, [...path, gk, keyOf(f)]);
      sub[keyOf(f)] = values[f.name.value];
    }
    out[gk] = sub;
  }
  return out;
}

const hourIso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

const D1_MEASURES = ["readQueries", "writeQueries", "rowsRead", "rowsWritten"] as const;

export function d1AnalyticsAdaptiveGroups(field: FieldNode, ctx: StorageContext, path: Path): Record<string, unknown>[] {
  expectObject(field, path);
  const name = "d1AnalyticsAdaptiveGroups";
  const args = checkedArgs(argsOf(field, ctx.vars), name, path, MAX_LIMIT);
  const cond = conditions(args.filter, path);
  onlyKnown(cond, ["databaseId", "datetimeHour_geq", "datetimeHour_leq", "date_geq", "date_leq"], name, path);
  const from = timeArg(cond["datetimeHour_geq"] ?? cond["date_geq"], "datetimeHour_geq", path) ?? 0;
  const to = timeArg(cond["datetimeHour_leq"] ?? cond["date_leq"], "datetimeHour_leq", path) ?? ctx.now;
  const id = stringCondition(cond, "databaseId", path);
  const ascending = orderedAscending(
    args.orderBy,
    ["datetimeHour", "date", ...D1_MEASURES.map((m) => `sum_${m}`)].flatMap((k) => [`${k}_ASC`, `${k}_DESC`]),
    name,
    path,
  );
  const hours = id !== undefined ? (ctx.d1Usage?.(id, from, to) ?? []) : [];
  const byHour = fieldsOf(field.selectionSet, ctx.fragments, ctx.vars).some((g) => g.name.value === "dimensions");
  const rows = byHour
    ? [...hours]
    : hours.length === 0
      ? []
      : [
          hours.reduce((a, h) => ({
            hourMs: a.hourMs,
            readQueries: a.readQueries + h.readQueries,
            writeQueries: a.writeQueries + h.writeQueries,
            rowsRead: a.rowsRead + h.rowsRead,
            rowsWritten: a.rowsWritten + h.rowsWritten,
          })),
        ];
  const first = args.orderBy[0] as string | undefined;
  const measure = first?.startsWith("sum_") ? (first.slice(4, first.lastIndexOf("_")) as (typeof D1_MEASURES)[number]) : undefined;
  if (ascending !== undefined) {
    const value = (h: D1UsageRow) => (measure ? h[measure] : h.hourMs);
    rows.sort((a, b) => (ascending ? value(a) - value(b) : value(b) - value(a)) || a.hourMs - b.hourMs);
  }
  return rows.slice(0, args.limit).map((h, i) =>
    render(
      field,
      ctx,
      "AccountD1AnalyticsAdaptiveGroups",
      {
        sum: { readQueries: h.readQueries, writeQueries: h.writeQueries, rowsRead: h.rowsRead, rowsWritten: h.rowsWritten },
        dimensions: { datetimeHour: hourIso(h.hourMs), databaseId: id },
      },
      [...path, i],
    ),
  );
}

export function r2StorageAdaptiveGroups(field: FieldNode, ctx: StorageContext, path: Path): Record<string, unknown>[] {
  expectObject(field, path);
  const name = "r2StorageAdaptiveGroups";
  const args = checkedArgs(argsOf(field, ctx.vars), name, path, MAX_LIMIT);
  const cond = conditions(args.filter, path);
  onlyKnown(cond, ["bucketName", "datetime_geq", "datetime_leq"], name, path);
  const from = timeArg(cond["datetime_geq"], "datetime_geq", path) ?? 0;
  const to = timeArg(cond["datetime_leq"], "datetime_leq", path) ?? ctx.now;
  const bucket = stringCondition(cond, "bucketName", path);
  // One row at most: any order is the same.
  orderedAscending(
    args.orderBy,
    ["datetime", "max_objectCount", "max_payloadSize", "max_metadataSize"].flatMap((k) => [`${k}_ASC`, `${k}_DESC`]),
    name,
    path,
  );
  const minute = Math.floor(ctx.now / 60_000) * 60_000;
  const stored = bucket !== undefined && minute >= from - 60_000 && minute <= to ? ctx.r2Storage?.(bucket) : undefined;
  if (!stored || args.limit === 0) return [];
  return [
    render(
      field,
      ctx,
      "AccountR2StorageAdaptiveGroups",
      { max: { ...stored }, dimensions: { datetime: hourIso(minute), bucketName: bucket } },
      [...path, 0],
    ),
  ];
}

/** A dataset the edge records nothing for (execute.ts): no rows, after the same checks of its arguments. */
export function emptyDataset(field: FieldNode, ctx: Pick<StorageContext, "vars">, name: string, path: Path): [] {
  expectObject(field, path);
  const args = checkedArgs(argsOf(field, ctx.vars), name, path, MAX_LIMIT);
  conditions(args.filter, path);
  return [];
}
