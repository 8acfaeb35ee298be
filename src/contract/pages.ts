// Cursor pagination on the wire: the lists that grow without bound (releases, events, the audit
// log, a worker's versions) answer one page at a time, `{ items, next }`. `next` is an opaque
// cursor for the page after this one (keyset: it names the last item, never an offset, so entries
// inserted meanwhile cause neither a duplicate nor a gap); it is absent on the last page. Send it
// back as `?cursor=` with the same other parameters.
import * as z from "zod";

export const CursorQueryShape = {
  cursor: z
    .string()
    .min(1)
    .max(512)
    .optional()
    .describe("The `next` of the previous page (opaque); the other parameters must be the same as for that page"),
};

/** One page of `item`s; `next` is absent on the last page. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    next: z.string().optional().describe("Cursor of the next page (send it as ?cursor=); absent on the last page"),
  });
}
export type Page<T> = { items: T[]; next?: string | undefined };
