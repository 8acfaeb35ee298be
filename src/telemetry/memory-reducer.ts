// Returns the daemon's idle memory to the operating system.
//
// V8 sizes its young generation by how much survives each scavenge. Start-up (some 560 modules and
// their schemas) and bursts of work (a release, a backup, a plan) make nearly everything survive, so
// the young generation doubles up to its maximum: two semi-spaces of 32 MiB on a machine with this
// much memory, about 30 MiB more RSS than an idle daemon needs (measured: 134 MiB idle with the young
// generation grown, 102 MiB after one reduction; `npm run bench -- --only release.daemon_idle_rss`).
// V8 gives that memory back only in a memory-reducing collection, which its own memory reducer starts
// after ~8 s of allocation under ~1 MB/s: a daemon probing six Workers and reading their deployments
// every second stays just above that, so the reduction never comes.
//
// Idle work then grows the old generation's pages faster than it fills them (about 6 MiB of
// committed but unused heap within two minutes), which V8 also keeps until a compacting collection.
//
// So the daemon asks for one at quiet moments: once start-up has settled, then whenever the heap
// holds more than 6 MiB committed but unused, at most once a minute, and never while a release runs (a
// full collection of a ~30 MiB heap pauses the daemon for 60-160 ms, which would land in the probe
// latencies a canary is judged on). It changes no heap limit and no flag of how the heap grows:
// under load the young generation grows as it always did.
//
// The collection is V8's low-memory notification, reached through its `gc` extension in a throwaway
// context (the same way Jest's leak detector gets it); `gc` never appears in the daemon's own global
// scope. Where that is not possible (a runtime that refuses the flag), the reducer does nothing.
import { getHeapSpaceStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { Logger } from "./logger.ts";

export type MemoryReducerOptions = {
  log: Logger;
  /** After start-up: the first reduction, once the first probes and drift reads are done (ms). */
  settleMs?: number;
  /** How often the heap's slack is looked at (ms). */
  checkEveryMs?: number;
  /** Never two reductions closer than this (ms). */
  minIntervalMs?: number;
  /** Reduce when the heap holds more than this committed but unused (bytes). */
  slackLimitBytes?: number;
  /** True while the daemon must not pause (a release running): a due reduction waits for the next check. */
  busy?: () => boolean;
  /** Called after each reduction (the metrics count them). */
  onReduced?: (r: Reduction) => void;
  /** Injected in tests; defaults to V8's (heapSlack). */
  slack?: () => number;
};

export type Reduction = {
  /** The heap's committed bytes before and after. */
  beforeBytes: number;
  afterBytes: number;
  ms: number;
  reason: "settled" | "grown";
};

export type MemoryReducer = {
  /** Runs one reduction now (false when this runtime offers none). */
  reduce(reason: Reduction["reason"]): Reduction | undefined;
  stop(): void;
};

/** Pure: is a reduction due now? */
export function reductionDue(s: {
  now: number;
  lastAt: number | undefined;
  slack: number;
  slackLimitBytes: number;
  minIntervalMs: number;
}): boolean {
  if (s.slack <= s.slackLimitBytes) return false;
  return s.lastAt === undefined || s.now - s.lastAt >= s.minIntervalMs;
}

/** What V8's heap holds committed but unused, over every space (the young generation's empty semi-space included). */
export function heapSlack(): number {
  let bytes = 0;
  for (const s of getHeapSpaceStatistics()) bytes += s.space_size - s.space_used_size;
  return bytes;
}

/** The committed size of V8's heap, every space. */
export function heapCommitted(): number {
  let bytes = 0;
  for (const s of getHeapSpaceStatistics()) bytes += s.space_size;
  return bytes;
}

/** The committed size of V8's young generation (both semi-spaces and its large objects). */
export function youngGenerationCommitted(): number {
  let bytes = 0;
  for (const s of getHeapSpaceStatistics())
    if (s.space_name === "new_space" || s.space_name === "new_large_object_space") bytes += s.space_size;
  return bytes;
}

type GcFn = (o: { type: "major"; execution: "sync"; flavor: "last-resort" }) => void;

/** V8's `gc` function from a fresh context, without leaving the flag on for anything created later. */
function lowMemoryGc(): GcFn | undefined {
  // Started with --expose-gc: the global one, and the flag stays as it was.
  const own: unknown = (globalThis as { gc?: unknown }).gc;
  if (typeof own === "function") return own as GcFn;
  try {
    setFlagsFromString("--expose-gc");
    const gc: unknown = runInNewContext("gc");
    return typeof gc === "function" ? (gc as GcFn) : undefined;
  } catch {
    return undefined;
  } finally {
    try {
      setFlagsFromString("--no-expose-gc");
    } catch {
      // Nothing to undo.
    }
  }
}

export function startMemoryReducer(o: MemoryReducerOptions): MemoryReducer {
  const settleMs = o.settleMs ?? 2_000;
  const checkEveryMs = o.checkEveryMs ?? 10_000;
  const minIntervalMs = o.minIntervalMs ?? 60_000;
  const slackLimitBytes = o.slackLimitBytes ?? 6 * 1024 * 1024;
  const slack = o.slack ?? heapSlack;
  const gc = lowMemoryGc();
  let lastAt: number | undefined;
  const timers: NodeJS.Timeout[] = [];

  const reduce = (reason: Reduction["reason"]): Reduction | undefined => {
    if (!gc) return undefined;
    const beforeBytes = heapCommitted();
    const started = performance.now();
    gc({ type: "major", execution: "sync", flavor: "last-resort" });
    const r: Reduction = { beforeBytes, afterBytes: heapCommitted(), ms: performance.now() - started, reason };
    lastAt = Date.now();
    const mib = (b: number) => (b / 1024 / 1024).toFixed(1);
    o.log.debug(`memory: heap ${mib(r.beforeBytes)} -> ${mib(r.afterBytes)} MiB committed (${reason}, ${r.ms.toFixed(0)} ms)`);
    o.onReduced?.(r);
    return r;
  };

  if (gc) {
    // Busy when start-up settles (`cbo up` releases at once): the checks below catch up once idle.
    timers.push(setTimeout(() => o.busy?.() || reduce("settled"), settleMs));
    timers.push(
      setInterval(() => {
        if (o.busy?.()) return;
        if (reductionDue({ now: Date.now(), lastAt, slack: slack(), slackLimitBytes, minIntervalMs })) reduce("grown");
      }, checkEveryMs),
    );
    // A daemon that is otherwise done must not stay up for these.
    for (const t of timers) t.unref();
  } else {
    o.log.debug("memory: this runtime offers no memory-reducing collection; the young generation is left to V8");
  }
  return {
    reduce,
    stop() {
      for (const t of timers) clearTimeout(t);
    },
  };
}
