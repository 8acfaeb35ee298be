// Moves the routers' invocation counts into the analytics store: every few seconds, before a
// GraphQL query reads them (so an answer holds every request served before it was asked), and
// once more when the edge stops. Minutes older than the retention are pruned as it goes.
//
// Loop: idle -> (timer | drain(account) | stop) -> drain the region(s) -> ingest -> idle. Drains of
// one region are chained, so counts arrive in order and a stop waits for the drain in flight.
import * as z from "zod";
import { CellSchema, type InvocationStore } from "../state/invocations.ts";

const DrainSchema = z.object({ cells: z.array(CellSchema) });

export type CollectorDeps = {
  store: InvocationStore;
  /** The region runtimes by account id (a region that is not up yet is skipped). */
  drainers: () => Array<{ accountId: string; region: string; drain: () => Promise<unknown> }>;
  retentionMs: number;
  intervalMs?: number;
  now?: () => number;
  log?: (line: string) => void;
};

const PRUNE_EVERY_MS = 10 * 60_000;

export function createAnalyticsCollector(deps: CollectorDeps) {
  const now = deps.now ?? (() => Date.now());
  const chains = new Map<string, Promise<void>>();
  let timer: ReturnType<typeof setInterval> | undefined;
  let lastPrune = 0;

  /** Drains one region; a failure is handed to `failed` (the message), never thrown. */
  const drainOne = (accountId: string, drain: () => Promise<unknown>, failed: (why: string) => void): Promise<void> => {
    const next = (chains.get(accountId) ?? Promise.resolve()).then(async () => {
      const parsed = DrainSchema.safeParse(await drain());
      if (!parsed.success) {
        deps.log?.(`local-edge: a router handed over invocation counts the edge cannot read: ${parsed.error.issues[0]?.message}`);
        return;
      }
      deps.store.add(accountId, parsed.data.cells);
    });
    const settled = next.catch((e) => failed(e instanceof Error ? e.message : String(e)));
    chains.set(accountId, settled);
    return settled;
  };
  const logFailure = (why: string) => deps.log?.(`local-edge: draining invocation counts failed: ${why}`);

  const prune = () => {
    if (now() - lastPrune < PRUNE_EVERY_MS) return;
    lastPrune = now();
    deps.store.pruneBefore(now() - deps.retentionMs);
  };

  /** Drains one account's region (or every region) now and waits until its counts are stored. */
  const drain = async (accountId?: string, failed: (region: string, why: string) => void = (_, why) => logFailure(why)): Promise<void> => {
    await Promise.all(
      deps
        .drainers()
        .filter((d) => accountId === undefined || d.accountId === accountId)
        .map((d) => drainOne(d.accountId, d.drain, (why) => failed(d.region, why))),
    );
    prune();
  };

  return {
    drain,
    start(): void {
      if (timer) return;
      timer = setInterval(() => void drain(), deps.intervalMs ?? 5000);
      timer.unref();
    },
    /** Stops the timer and drains once more, so what the routers counted before a stop is kept. */
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = undefined;
      // A Ctrl-C in the terminal reaches every workerd at the same moment as the edge, so their
      // last counts are often gone by now: said once, in those words, not once per region.
      const lost: string[] = [];
      let reason = "";
      await drain(undefined, (region, why) => {
        lost.push(region);
        reason ||= why;
      });
      if (lost.length > 0)
        deps.log?.(
          `local-edge: on stop, the invocation counts since the last save (at most ${(deps.intervalMs ?? 5000) / 1000} s) could not be read from ${lost.join(", ")} (${reason}): a Ctrl-C stops workerd at the same moment`,
        );
    },
  };
}
export type AnalyticsCollector = ReturnType<typeof createAnalyticsCollector>;
