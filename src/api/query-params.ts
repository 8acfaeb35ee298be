// A route's query parameters: each one it takes given at most once, and none it does not take.
// `?limit=1&limit=500` (a script appending its own parameter to a user's URL) was read as its
// first value, silently dropping the other; `?limt=5` was ignored, so the default applied without
// a word. Bodies are strict objects already; a query is held to the same rule, a typo named with
// the parameter it most likely meant.
import type * as z from "zod";
import { closest } from "../kit/did-you-mean.ts";
import { CboError } from "../kit/errors.ts";

export function singleQuery(all: Record<string, string[]>, schema: z.ZodObject<z.ZodRawShape>): Record<string, string> {
  const known = Object.keys(schema.shape);
  const issues = Object.keys(all).flatMap((k) => {
    if (!known.includes(k)) {
      const meant = closest(k, known);
      const name = JSON.stringify(k.length > 100 ? `${k.slice(0, 100)}…` : k);
      return [{ path: "query", message: `unknown parameter ${name}${meant ? ` (did you mean "${meant}"?)` : ""}` }];
    }
    const n = all[k]!.length;
    return n > 1 ? [{ path: `query.${k}`, message: `given ${n} times; give it once` }] : [];
  });
  if (issues.length > 0)
    throw new CboError("ERR_VALIDATION", `Invalid request: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`, {
      details: { issues },
      hint: known.length ? `This route takes: ${known.join(", ")}.` : "This route takes no query parameters.",
    });
  return Object.fromEntries(Object.entries(all).map(([k, v]) => [k, v[0]!]));
}
