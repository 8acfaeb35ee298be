// Walking a paged list (src/contract/pages.ts): each page is asked for with the previous one's
// `next`, until a page comes without one. Keyset cursors: entries added while walking cause neither
// a duplicate nor a gap.
import type { Page } from "../contract/index.ts";

/** Every page of a list, in order; `fetchPage(undefined)` is the first. */
export async function* pages<T>(fetchPage: (cursor: string | undefined) => Promise<Page<T>>): AsyncGenerator<Page<T>> {
  let cursor: string | undefined;
  do {
    const page = await fetchPage(cursor);
    yield page;
    cursor = page.next;
  } while (cursor !== undefined);
}

/** Every item of every page. */
export async function allItems<T>(walk: AsyncIterable<Page<T>>): Promise<T[]> {
  const out: T[] = [];
  for await (const p of walk) out.push(...p.items);
  return out;
}
