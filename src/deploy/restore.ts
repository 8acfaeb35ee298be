// Puts one version at 100% on one target, level-based: after a failed attempt (or when asked) it
// first reads what the edge serves, so a call that landed but whose answer was lost is not sent
// twice, and a target already serving the version costs one read and no write. Used by a failed
// release's rollback, by `cbo rollback` and by recovery after a crash.
import { backoffDelay, sleep } from "../kit/backoff.ts";
import { isCboError } from "../kit/errors.ts";
import { readDeployment, servesOnly } from "../targets/live-read.ts";
import type { TargetRuntime } from "../targets/types.ts";

export type RestoreOptions = {
  /** Read the live deployment before the first write (recovery, `cbo rollback`). */
  checkFirst?: boolean;
  /** Attempts in all, each already retried by the client's transport. Default 4. */
  attempts?: number;
  message?: string;
  /** Between attempts. */
  backoff?: { baseMs: number; maxMs: number };
};

export type RestoreResult = { changed: boolean; attempts: number };

export async function restoreTarget(runtime: TargetRuntime, worker: string, versionId: string, opts: RestoreOptions = {}): Promise<RestoreResult> {
  const attempts = opts.attempts ?? 4;
  const backoff = opts.backoff ?? { baseMs: 500, maxMs: 4_000 };
  let check = opts.checkFirst ?? false;
  for (let attempt = 0; ; attempt++) {
    try {
      if (check && servesOnly(await readDeployment(runtime, worker), versionId)) return { changed: false, attempts: attempt + 1 };
      await runtime.client.createDeployment(worker, [{ versionId, percentage: 100 }], { message: opts.message ?? "cbo rollback" });
      return { changed: true, attempts: attempt + 1 };
    } catch (e) {
      // A refused request (unknown version, bad split) will be refused again.
      if (attempt + 1 >= attempts || (isCboError(e) && !e.retryable)) throw e;
      await sleep(Math.max(100, backoffDelay(attempt, backoff)));
      check = true;
    }
  }
}
