// The loop of the monitor and of the drift checker: passes chained so they never overlap (two
// observations of one target are never written out of order), a jittered pause between them.
//   idle ── start() ──> running a pass ── settled ──> sleeping (interval ± jitter) ── timer ──> running
//   running | sleeping ── stop() ──> the pass in flight settles ──> idle
// checkNow() adds one pass in any state.
import { sleep } from "./backoff.ts";
import { jitteredDelay } from "./jitter.ts";

export type PassLoop = { start(): void; stop(): Promise<void>; checkNow(): Promise<void> };

export function createPassLoop(pass: () => Promise<void>, opts: { intervalMs: number; jitter: number; random?: () => number }): PassLoop {
  let passes: Promise<void> = Promise.resolve();
  let loop: { abort: AbortController; done: Promise<void> } | undefined;

  function checkNow(): Promise<void> {
    passes = passes.then(pass);
    return passes;
  }

  async function run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await checkNow();
      try {
        await sleep(jitteredDelay(opts.intervalMs, opts.jitter, opts.random), signal);
      } catch {
        return; // stopped while sleeping
      }
    }
  }

  return {
    start() {
      if (loop) return;
      const abort = new AbortController();
      loop = { abort, done: run(abort.signal) };
    },
    async stop() {
      const current = loop;
      loop = undefined;
      current?.abort.abort();
      await current?.done;
      await passes;
    },
    checkNow,
  };
}
