// Cloudflare's GraphQL filter syntax (analytics/graphql-api/features/filtering) over the edge's
// minute rows: `field: v` or `field_op: v` with op one of neq gt lt geq leq in notin like notlike,
// `AND: [...]`, `OR: [...]`, and a plain object meaning AND.
//
// Time: rows are whole minutes. On `datetime` a minute matches when any instant of it could (a
// minute overlapping the range counts whole); minute-aligned bounds with `datetime_geq` and
// `datetime_lt` are exact. The truncated dimensions (`datetimeMinute`, `datetimeHour`, …) compare
// their own truncated value, as at Cloudflare.
import type { InvocationRow } from "../state/invocations.ts";
import { GraphqlError } from "./errors.ts";
import { DIMENSIONS, type RowContext } from "./invocations-fields.ts";
import { wildcardMatch } from "../../kit/wildcard-match.ts";

export type RowPredicate = (row: InvocationRow, ctx: RowContext) => boolean;

/** What a filter says for certain about time and scripts, for reading fewer rows. */
export type Bounds = { fromMinute?: number; toMinute?: number; earliestMs?: number; scripts?: string[] };

const OPS = ["neq", "gt", "lt", "geq", "leq", "in", "notin", "like", "notlike"] as const;
type Op = (typeof OPS)[number] | "eq";
const MINUTE = 60_000;

const bad = (message: string) => new GraphqlError(`error parsing args: ${message}`);

function splitKey(key: string): { field: string; op: Op } {
  const i = key.lastIndexOf("_");
  if (i > 0) {
    const op = key.slice(i + 1) as Op;
    if ((OPS as readonly string[]).includes(op)) return { field: key.slice(0, i), op };
  }
  return { field: key, op: "eq" };
}

function timeOf(v: unknown, key: string): number {
  const ms = typeof v === "string" ? Date.parse(v) : typeof v === "number" ? v : NaN;
  if (!Number.isFinite(ms)) throw bad(`${key} must be an ISO 8601 time, not ${JSON.stringify(v)}`);
  return ms;
}

/**
 * SQL LIKE as Cloudflare's GraphQL filters take it (`%` any run, `_` one character, case kept),
 * matched without backtracking (kit/wildcard-match.ts): a regular expression built from the pattern
 * held the edge's event loop for longer than any client waits with a dozen `%`.
 */
export function likeMatch(pattern: string, text: string): boolean {
  return wildcardMatch(pattern, text, { any: "%", one: "_" });
}

/** One `field_op: value` condition. */
function condition(key: string, value: unknown): RowPredicate {
  const { field, op } = splitKey(key);
  const dim = DIMENSIONS[field];
  if (!dim) throw bad(`unknown filter field "${field}" (in "${key}")`);
  const list = op === "in" || op === "notin";
  if (list !== Array.isArray(value)) throw bad(`${key} takes ${list ? "a list" : "a single value"}`);
  const values = list ? (value as unknown[]) : [value];
  if (op === "like" || op === "notlike") {
    if (typeof value !== "string") throw bad(`${key} takes a string pattern`);
    return (r, c) => likeMatch(value, dim.value(r, c)) === (op === "like");
  }
  if (dim.kind === "time") {
    const times = values.map((v) => timeOf(v, key));
    const t = times[0]!;
    if (dim.widthMs === undefined) {
      // `datetime`: the row is the minute [m, m + 60 s).
      const within = (m: number, x: number) => m <= x && x < m + MINUTE;
      switch (op) {
        case "eq":
          return (r) => within(r.minute, t);
        case "neq":
          return (r) => !within(r.minute, t);
        case "in":
          return (r) => times.some((x) => within(r.minute, x));
        case "notin":
          return (r) => !times.some((x) => within(r.minute, x));
        case "gt":
          return (r) => r.minute + MINUTE - 1 > t;
        case "geq":
          return (r) => r.minute + MINUTE > t;
        case "lt":
          return (r) => r.minute < t;
        case "leq":
          return (r) => r.minute <= t;
      }
    }
    const w = dim.widthMs!;
    const at = (r: InvocationRow) => r.minute - (r.minute % w);
    return compare(op, (r) => at(r), times);
  }
  for (const v of values)
    if (typeof v !== "string" && typeof v !== "number")
      throw bad(`${key} takes ${list ? "strings" : "a string"}, not ${JSON.stringify(v)}`);
  const strings = values.map(String);
  return compare(op, (r, c) => dim.value(r, c), strings);
}

function compare<T extends string | number>(op: Op, get: (r: InvocationRow, c: RowContext) => T, values: T[]): RowPredicate {
  const v = values[0]!;
  switch (op) {
    case "eq":
      return (r, c) => get(r, c) === v;
    case "neq":
      return (r, c) => get(r, c) !== v;
    case "in":
      return (r, c) => values.includes(get(r, c));
    case "notin":
      return (r, c) => !values.includes(get(r, c));
    case "gt":
      return (r, c) => get(r, c) > v;
    case "geq":
      return (r, c) => get(r, c) >= v;
    case "lt":
      return (r, c) => get(r, c) < v;
    case "leq":
      return (r, c) => get(r, c) <= v;
    default:
      throw bad(`operator ${op} does not apply here`);
  }
}

function asObject(v: unknown, what: string): Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw bad(`${what} must be an object`);
  return v as Record<string, unknown>;
}

export function compileFilter(filter: unknown): RowPredicate {
  if (filter === undefined || filter === null) return () => true;
  const obj = asObject(filter, "filter");
  const parts: RowPredicate[] = [];
  for (const [key, value] of Object.entries(obj)) {
    if (key === "AND" || key === "OR") {
      if (!Array.isArray(value)) throw bad(`${key} takes a list of filters`);
      const subs = value.map((v) => compileFilter(asObject(v, `each item of ${key}`)));
      parts.push(key === "AND" ? (r, c) => subs.every((p) => p(r, c)) : (r, c) => subs.some((p) => p(r, c)));
    } else {
      parts.push(condition(key, value));
    }
  }
  return (r, c) => parts.every((p) => p(r, c));
}

/**
 * Bounds implied by the conditions every match must meet (top-level keys and nested ANDs): a
 * minute range to read, the earliest instant asked for (checked against the retention) and
 * script names.
 */
export function boundsOf(filter: unknown): Bounds {
  const b: Bounds = {};
  const visit = (f: unknown) => {
    if (f === null || typeof f !== "object" || Array.isArray(f)) return;
    for (const [key, value] of Object.entries(f as Record<string, unknown>)) {
      if (key === "AND" && Array.isArray(value)) value.forEach(visit);
      if (key === "AND" || key === "OR") continue;
      const { field, op } = splitKey(key);
      const dim = DIMENSIONS[field];
      if (!dim) continue;
      if (field === "scriptName" && (op === "eq" || op === "in")) {
        const names = (Array.isArray(value) ? value : [value]).map(String);
        b.scripts = b.scripts ? b.scripts.filter((s) => names.includes(s)) : names;
      }
      if (dim.kind !== "time" && dim.kind !== "date") continue;
      const t = typeof value === "string" ? Date.parse(value) : NaN;
      if (!Number.isFinite(t)) continue;
      if (op === "geq" || op === "gt" || op === "eq") {
        b.earliestMs = Math.max(b.earliestMs ?? -Infinity, t);
        // A truncated dimension at or after t holds minutes from t on; `datetime` may start a minute earlier.
        const from = t - (t % MINUTE);
        b.fromMinute = Math.max(b.fromMinute ?? -Infinity, from);
      }
      if ((op === "leq" || op === "lt" || op === "eq") && (field === "datetime" || field === "datetimeMinute")) {
        b.toMinute = Math.min(b.toMinute ?? Infinity, t - (t % MINUTE));
      }
    }
  };
  visit(filter);
  return b;
}
