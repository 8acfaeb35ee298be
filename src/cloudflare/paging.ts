// Cloudflare's list endpoints page in three ways; each list names its way (the same as the official
// SDK's page class for that endpoint, and as wrangler pages):
//   "pages"        `result` is an array; ask `page=2, 3, …` until `result_info.total_pages` is
//                  reached or a page comes back empty
//   "page-items"   the same, with the items in `result.items` (Workers versions)
//   "cursor"       `result` is an array; follow `result_info.cursor` until it is empty (KV keys)
//   "single"       one request, one page
// Page loop:  request (first without page/cursor) ── items? ──no──> done
//               └─ yes ── same items as the page before, or MAX_PAGES reached ──> ERR_CF_RESPONSE
//                      └─ next page (page+1 | cursor) or, for single/no cursor, done
// A server that ignores `page` would otherwise send a pages loop round forever.
import * as z from "zod";
import { responseShapeError, type RequestContext } from "./errors.ts";

export type Paging = "pages" | "page-items" | "cursor" | "single";

type Query = Record<string, string | number | boolean | undefined>;
type Page = { result: unknown; resultInfo: unknown };

/** A list that has not ended after this many pages is a server ignoring `page`/`cursor`. */
export const MAX_PAGES = 10_000;

const ArrayResult = z.array(z.unknown());
const ItemsResult = z.looseObject({ items: z.array(z.unknown()).nullish() });
const CursorInfo = z.looseObject({ cursor: z.string().nullish() }).nullish();
const PageInfo = z.looseObject({ total_pages: z.number().int().nullish() }).nullish();

export async function listPages(
  paging: Paging,
  query: Query,
  fetchPage: (query: Query) => Promise<Page>,
  where: RequestContext,
): Promise<unknown[]> {
  const all: unknown[] = [];
  let previous: string | undefined;
  let next: Query = query;
  for (let page = 1; ; page++) {
    if (page > MAX_PAGES) throw responseShapeError({ ...where, problem: `more than ${MAX_PAGES} pages (is \`page\`/\`cursor\` ignored?)` });
    const answer = await fetchPage(next);
    const items = itemsOf(paging, answer.result, where);
    if (items.length === 0) break;
    const fingerprint = JSON.stringify(items);
    if (fingerprint === previous)
      throw responseShapeError({ ...where, problem: "the same page again and again (is `page`/`cursor` ignored?)" });
    previous = fingerprint;
    all.push(...items);
    if (paging === "single") break;
    if (paging === "cursor") {
      const info = CursorInfo.safeParse(answer.resultInfo);
      const cursor = info.success ? info.data?.cursor : undefined;
      if (!cursor) break;
      next = { ...query, cursor };
    } else {
      // The last page by Cloudflare's own count: no request for an empty page after it (as
      // wrangler pages), so a list costs what the plan says it costs.
      const info = PageInfo.safeParse(answer.resultInfo);
      const pages = info.success ? info.data?.total_pages : undefined;
      if (typeof pages === "number" && page >= pages) break;
      next = { ...query, page: page + 1 };
    }
  }
  return all;
}

function itemsOf(paging: Paging, result: unknown, where: RequestContext): unknown[] {
  if (paging === "page-items") {
    const parsed = ItemsResult.safeParse(result ?? {});
    if (parsed.success) return parsed.data.items ?? [];
  } else {
    const parsed = ArrayResult.safeParse(result ?? []);
    if (parsed.success) return parsed.data;
  }
  throw responseShapeError({
    ...where,
    problem: `a list result of unexpected shape (${paging === "page-items" ? "no items array" : "not an array"})`,
  });
}
