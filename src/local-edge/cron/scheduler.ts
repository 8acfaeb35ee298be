// Fires due cron triggers while the edge runs, like Cloudflare's scheduler: at the start of each
// UTC minute, every live Worker whose schedules match that minute gets one scheduled event per
// matching cron. States: stopped -> waiting (a timer for the next minute boundary) -> firing (the
// minute's events start, not awaited) -> waiting … ; stop() clears the timer. A minute that passed
// while the edge was down is not fired afterwards (Cloudflare does not catch up either).
import { parseCron } from "../../kit/cron-expression.ts";

export type CronTarget = { accountId: string; script: string; crons: string[] };

export function createCronScheduler(deps: {
  /** Live Workers with schedules, read afresh each minute. */
  targets: () => CronTarget[];
  fire: (target: CronTarget, cron: string, scheduledTime: number) => Promise<void>;
  log?: (line: string) => void;
  now?: () => number;
}) {
  const now = deps.now ?? Date.now;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = true;

  function tick(minute: number): void {
    const date = new Date(minute);
    for (const t of deps.targets()) {
      for (const cron of t.crons) {
        let due = false;
        try {
          due = parseCron(cron).matches(date);
        } catch {
          continue; // stored schedules were validated; an old invalid one just never fires
        }
        if (!due) continue;
        deps
          .fire(t, cron, minute)
          .catch((e: unknown) =>
            deps.log?.(`local-edge: cron "${cron}" of ${t.script} failed: ${e instanceof Error ? e.message : String(e)}`),
          );
      }
    }
  }

  function arm(): void {
    if (stopped) return;
    const next = Math.floor(now() / 60_000) * 60_000 + 60_000;
    timer = setTimeout(
      () => {
        tick(next);
        arm();
      },
      Math.max(0, next - now()),
    );
    timer.unref?.();
  }

  return {
    start(): void {
      if (!stopped) return;
      stopped = false;
      arm();
    },
    stop(): void {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
    /** Fires the events of one minute now (for tests and `--once` style use). */
    tick,
  };
}
