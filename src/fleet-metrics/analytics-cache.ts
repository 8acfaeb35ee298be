// Cloudflare's invocation analytics per target, kept in the daemon as a small time series: per
// worker and minute, requests, errors and p99 wall time, for the last `keepMinutes`. Read from
// GraphQL (workersInvocationsAdaptive, one query per target for every worker on it) when a reader
// asks and the last read is older than `freshMs`; concurrent readers share one read. A read
// replaces the minutes it covers, from ten minutes before the newest one already held (Cloudflare
// fills recent minutes in late) or from the first minute asked for when that is older.
import type { TargetRuntime } from "../targets/types.ts";
import { toCboError } from "../kit/errors.ts";
import type { Logger } from "../telemetry/index.ts";

export type AnalyticsCell = { requests: number; errors: number; p99Ms: number | null };
export type TargetAnalytics = {
  status: "ok" | "error" | "none";
  readAt: number | null;
  error: string | null;
  /** worker -> minute start (ms) -> cell */
  cells: Map<string, Map<number, AnalyticsCell>>;
};

const MINUTE = 60_000;
const OVERLAP_MS = 10 * MINUTE;

export function createAnalyticsCache(deps: {
  targets: () => Map<string, TargetRuntime>;
  freshMs: number;
  keepMinutes: number;
  log?: Logger;
}) {
  const byTarget = new Map<string, TargetAnalytics & { coveredFrom: number; workers: string; reading?: Promise<void> }>();

  function entry(target: string) {
    let e = byTarget.get(target);
    if (!e)
      byTarget.set(
        target,
        (e = { status: "none", readAt: null, error: null, cells: new Map(), coveredFrom: Number.POSITIVE_INFINITY, workers: "" }),
      );
    return e;
  }

  async function read(target: string, workers: string[], fromMs: number, toMs: number): Promise<void> {
    const e = entry(target);
    const runtime = deps.targets().get(target);
    if (!runtime || workers.length === 0) return;
    // A worker new to the target has no history here yet: read the whole range again.
    const names = [...workers].sort().join(",");
    if (names !== e.workers) (e.coveredFrom = Number.POSITIVE_INFINITY), (e.workers = names);
    const newest = Math.max(-1, ...[...e.cells.values()].flatMap((m) => [...m.keys()]));
    const start = fromMs < e.coveredFrom ? fromMs : Math.max(fromMs, newest >= 0 ? newest - OVERLAP_MS : fromMs);
    try {
      const rows = await runtime.client.workersInvocationsByMinute({ from: new Date(start), to: new Date(toMs), scripts: workers });
      // The minutes read are replaced whole: a minute with no row had no invocations.
      for (const m of e.cells.values()) for (const t of [...m.keys()]) if (t >= start && t < toMs) m.delete(t);
      for (const r of rows) {
        let m = e.cells.get(r.script);
        if (!m) e.cells.set(r.script, (m = new Map()));
        m.set(Date.parse(r.minute), { requests: r.requests, errors: r.errors, p99Ms: r.wallTimeP99Ms });
      }
      const oldest = toMs - deps.keepMinutes * MINUTE;
      for (const m of e.cells.values()) for (const t of [...m.keys()]) if (t < oldest) m.delete(t);
      e.coveredFrom = Math.max(Math.min(e.coveredFrom, start), oldest);
      e.status = "ok";
      e.error = null;
    } catch (err) {
      const c = toCboError(err);
      if (e.error !== `${c.code}: ${c.message}`)
        deps.log?.warn(`metrics: analytics of ${target} could not be read: ${c.code}: ${c.message}`);
      e.status = "error";
      e.error = `${c.code}: ${c.message}`;
    }
    e.readAt = Date.now();
  }

  return {
    /** The target's series, read again first when older than freshMs (or not reaching back to `fromMs`). */
    async get(target: string, workers: string[], fromMs: number, toMs: number): Promise<TargetAnalytics> {
      const e = entry(target);
      const stale = e.readAt === null || Date.now() - e.readAt >= deps.freshMs || (e.status === "ok" && fromMs < e.coveredFrom);
      if (stale) {
        e.reading ??= read(target, workers, fromMs, toMs).finally(() => {
          e.reading = undefined;
        });
        await e.reading;
      }
      return e;
    },
  };
}
