// The one way the engine puts traffic back on a target: a split (one version at 100% for a
// rollback, recovery and `cbo rollback`; the desired split for a drift revert), level-based: after a
// failed attempt (or when asked) it first reads what the edge serves, so a call that landed but
// whose answer was lost is not sent twice, and a target already serving it costs one read and no
// write.
//
// Always with force: Cloudflare refuses (10220) to put traffic back on a version whose secrets differ
// from the live ones unless forced. Every caller restores a version on purpose, with the secrets it
// shipped with: a failed release's rollback and its recovery (the version that served before),
// `cbo rollback` (after its preview and the secret-downgrade confirmation, our own gate for what
// wrangler asks interactively), a drift revert (the split we deployed). Without force, a release that
// rotated a binding secret and failed after reaching 100% could not be rolled back.
import { backoffDelay, sleep } from "../kit/backoff.ts";
import { isCboError } from "../kit/errors.ts";
import { readDeployment, sameSplit, servesOnly } from "../targets/live-read.ts";
import type { Split, TargetRuntime } from "../targets/types.ts";

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

/** One version at 100% on the target. */
export function restoreTarget(
  runtime: TargetRuntime,
  worker: string,
  versionId: string,
  opts: RestoreOptions = {},
): Promise<RestoreResult> {
  return restoreSplit(runtime, worker, [{ versionId, percentage: 100 }], opts);
}

/** This split on the target. */
export async function restoreSplit(
  runtime: TargetRuntime,
  worker: string,
  split: Split,
  opts: RestoreOptions = {},
): Promise<RestoreResult> {
  const attempts = opts.attempts ?? 4;
  const backoff = opts.backoff ?? { baseMs: 500, maxMs: 4_000 };
  const served = (live: Split) =>
    split.length === 1 && split[0]!.percentage >= 100 ? servesOnly(live, split[0]!.versionId) : sameSplit(live, split);
  let check = opts.checkFirst ?? false;
  for (let attempt = 0; ; attempt++) {
    try {
      if (check && served(await readDeployment(runtime, worker))) return { changed: false, attempts: attempt + 1 };
      await runtime.client.createDeployment(worker, split, {
        message: opts.message ?? "cbo rollback",
        force: true,
      });
      return { changed: true, attempts: attempt + 1 };
    } catch (e) {
      // A refused request (unknown version, bad split) will be refused again.
      if (attempt + 1 >= attempts || (isCboError(e) && !e.retryable)) throw e;
      await sleep(Math.max(100, backoffDelay(attempt, backoff)));
      check = true;
    }
  }
}
