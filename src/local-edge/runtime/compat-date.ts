// A version's compatibility date, as the edge's workerd can run it. Cloudflare's runtime knows
// every date up to today, ours only up to its release (a few weeks older), and refuses later ones
// ("This Worker requires compatibility date …"): a Worker dated today, as `wrangler init` dates
// it, would never start. It runs on the newest date workerd has instead, as `wrangler dev` falls
// back. A date after today is refused at upload, as Miniflare (and Cloudflare) refuse it.
import { createRequire } from "node:module";
import { CfApiError, CF_CODES } from "../api/envelope.ts";

/** The newest date the installed workerd supports (its package says so; Miniflare depends on it). */
const WORKERD_DATE = (createRequire(import.meta.url)("workerd") as { compatibilityDate: string }).compatibilityDate;

/** The date the runtime is given for `date` (the version keeps its own date everywhere else). */
export function runnableCompatibilityDate(date: string): string {
  return date > WORKERD_DATE ? WORKERD_DATE : date;
}

/** Refuses a date after today (UTC, with a day's grace for clocks east of it): Miniflare's words. */
export function checkCompatibilityDate(date: string | undefined, nowMs: number): void {
  if (date === undefined) return;
  const latest = new Date(nowMs + 24 * 3600_000).toISOString().slice(0, 10);
  if (date > latest) throw new CfApiError(400, CF_CODES.SCRIPT_INVALID, `Compatibility date "${date}" is in the future and unsupported`);
}
