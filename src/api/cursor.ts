// Opaque cursors of the paged lists (src/contract/pages.ts): the position of the last item sent
// (a keyset: an id, a seq, or created_at plus a tie-breaker), bound to the list and to the query's
// filters, base64url JSON. Not signed: a forged cursor only starts a page elsewhere in a list the
// caller may read anyway (the tenant is never in it; it comes from the request).
import { createHash } from "node:crypto";
import * as z from "zod";
import { CboError } from "../kit/errors.ts";
import type { Page } from "../contract/index.ts";

type Position = Array<string | number>;
const CursorSchema = z.object({ l: z.string(), f: z.string(), p: z.array(z.union([z.string(), z.number()])).min(1) }).strict();

/** The filters' fingerprint: a cursor answers only the query that produced it. */
const fingerprint = (filters: Record<string, unknown>) =>
  createHash("sha256")
    .update(
      JSON.stringify(
        Object.entries(filters)
          .filter(([, v]) => v !== undefined)
          .sort(([a], [b]) => (a < b ? -1 : 1)),
      ),
    )
    .digest("base64url")
    .slice(0, 16);

export function encodeCursor(list: string, filters: Record<string, unknown>, position: Position): string {
  return Buffer.from(JSON.stringify({ l: list, f: fingerprint(filters), p: position })).toString("base64url");
}

/** The position a cursor names; ERR_VALIDATION when it is not one of this list's, for these filters. */
export function decodeCursor(list: string, filters: Record<string, unknown>, cursor: string): Position {
  let parsed: z.output<typeof CursorSchema> | undefined;
  try {
    const r = CursorSchema.safeParse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")));
    if (r.success) parsed = r.data;
  } catch {
    parsed = undefined;
  }
  if (!parsed || parsed.l !== list)
    throw new CboError("ERR_VALIDATION", "query.cursor: not a cursor of this list.", {
      hint: "Send back the `next` of the previous page unchanged, or leave cursor out for the first page.",
    });
  if (parsed.f !== fingerprint(filters))
    throw new CboError("ERR_VALIDATION", "query.cursor: it belongs to a query with other filters.", {
      hint: "Send the same filters as for the previous page along with its cursor.",
    });
  return parsed.p;
}

/**
 * A page from `rows`, fetched with one row more than `limit`: that extra row only says whether
 * there is a next page, whose cursor names the last row kept.
 */
export function pageFrom<R, T>(
  rows: R[],
  limit: number,
  o: { list: string; filters: Record<string, unknown>; position: (r: R) => Position; item: (r: R) => T },
): Page<T> {
  const kept = rows.slice(0, limit);
  const last = kept.at(-1);
  return {
    items: kept.map(o.item),
    ...(rows.length > limit && last !== undefined ? { next: encodeCursor(o.list, o.filters, o.position(last)) } : {}),
  };
}
