// A route's query parameters, each given at most once: `?limit=1&limit=500` (a script appending
// its own parameter to a user's URL) was read as its first value, silently dropping the other.
import type * as z from "zod";
import { CboError } from "../kit/errors.ts";

export function singleQuery(all: Record<string, string[]>, schema: z.ZodObject<z.ZodRawShape>): Record<string, string> {
  const issues = Object.keys(schema.shape)
    .filter((k) => (all[k]?.length ?? 0) > 1)
    .map((k) => ({ path: `query.${k}`, message: `given ${all[k]!.length} times; give it once` }));
  if (issues.length > 0)
    throw new CboError("ERR_VALIDATION", `Invalid request: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`, {
      details: { issues },
    });
  return Object.fromEntries(Object.entries(all).map(([k, v]) => [k, v[0]!]));
}
