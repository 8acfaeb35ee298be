// What every page gets and gives back. A page draws into its root at once (a skeleton), loads
// what it shows, and receives each live event while it is on screen.
import type { DaemonClient } from "../client/index.ts";
import { hist, loc, type El } from "./browser.ts";
import type { Features } from "./features.ts";
import type { Role, SessionInfo, StoredEvent } from "./types.ts";

export type PageCtx = {
  /** The one daemon client, on this session (its cookie, its CSRF token on mutations). */
  api: DaemonClient;
  session: SessionInfo;
  features: Features;
  /** Goes to another page (`#/releases/<id>`). */
  go(hash: string): void;
  /** Whether the session's role allows what needs `role` (the API decides; this only hides buttons). */
  can(role: Role): boolean;
};

export type PageHandle = { onEvent?(e: StoredEvent): void; dispose?(): void };

/** `#/releases/<id>?worker=x`: the part after the page name, and the query. */
export type Route = { param: string | undefined; query: URLSearchParams };

export type Page = (root: El, ctx: PageCtx, route: Route) => PageHandle;

/** Calls `fn` once, `ms` after the last of a burst of calls. */
export function debounce(fn: () => void, ms: number): { (): void; cancel(): void } {
  let t: ReturnType<typeof setTimeout> | undefined;
  const run = () => {
    if (t) clearTimeout(t);
    t = setTimeout(() => {
      t = undefined;
      fn();
    }, ms);
  };
  run.cancel = () => t && clearTimeout(t);
  return run;
}

/**
 * Writes what a page shows (its filters) into the address, `#/metrics?worker=x&target=eu`, so that
 * a reload or a copied link shows the same. It replaces the history entry (no hashchange, so the
 * page is not built again; Back leaves the page rather than stepping through each filter).
 */
export function keepQuery(values: Record<string, string>): void {
  const path = loc().hash.replace(/^#\/?/, "").split("?")[0] ?? "";
  const q = new URLSearchParams(Object.entries(values).filter(([, v]) => v !== ""));
  const hash = `#/${path}${q.size ? `?${q}` : ""}`;
  if (hash !== loc().hash) hist().replaceState(null, "", hash);
}
