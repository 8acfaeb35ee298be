// What the list pages (releases, D1) share: the "Show [all workers | …]" filter, filled with the
// spec's workers, and a list that loads at once and again after the live events that change it.
import type { Field } from "./browser.ts";
import { h } from "./dom.ts";
import { debounce, type PageCtx, type PageHandle } from "./page.ts";
import type { WorkerSummary } from "./types.ts";

/** A select of the workers (first "all workers"), showing `initial`, calling `onChange` with the choice. */
export function workerFilter(ctx: PageCtx, id: string, initial: string, onChange: (worker: string) => void): Field {
  const filter = h("select", { id, onchange: () => onChange(filter.value) }, h("option", { value: "" }, "all workers")) as Field;
  void ctx.api.workers().then(
    (ws: WorkerSummary[]) => {
      filter.append(...ws.map((w) => h("option", { value: w.name }, w.name)));
      filter.value = initial;
    },
    // Only the filter misses them: the list says what failed.
    () => {},
  );
  return filter;
}

/** Loads now, and again (at most every 150 ms) after each event whose type matches `on`. */
export function liveList(load: () => Promise<void>, on: RegExp): PageHandle {
  const reload = debounce(() => void load(), 150);
  void load();
  return { onEvent: (e) => on.test(e.type) && reload(), dispose: () => reload.cancel() };
}
