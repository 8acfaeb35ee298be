// Owed restores: a target a release touched and could not put back yet stays owed. The engine keeps
// trying, with jittered and capped backoff, until the edge answers, and the release's final word
// (rolled_back, aborted, failed) waits for it. The board is what status and the dashboard read
// meanwhile ("restore pending"); the journal's restore.owed entry, and the release left unfinished,
// are what a restart resumes from (src/deploy/recover.ts).
//
// Per owed target:
//   attempt ──landed, and journaled──> done (release.restore.completed when it had been owed)
//   attempt ──the edge refused it for good (a 4xx: unknown version, bad token)──> refused
//   attempt ──edge unreachable, 5xx, 429, or the store refused the journal entry──> owed:
//            restore.owed + release.restore.pending the first time ──> wait (backoff) ──> attempt
//   waiting or attempting ──halt (the daemon stops)──> left as it is for the next start
// The release's record is written the same way (finishRecorded): a terminal status the store
// cannot take yet is retried until it can, so a release never stays `running` for good.
import { backoffDelay, sleep, type BackoffOptions } from "../kit/backoff.ts";
import { isCboError, toCboError, type CboError } from "../kit/errors.ts";
import type { Release, ReleaseStatus } from "../store/index.ts";
import { J } from "./journal.ts";
import { RecordFailure, describeError, type PendingEvent, type Recorder } from "./record.ts";
import type { PendingRestore } from "./types.ts";

export const DEFAULT_RESTORE_BACKOFF: BackoffOptions = { baseMs: 1_000, maxMs: 30_000 };
const MIN_WAIT_MS = 100;

/** The restores owed right now, in memory: rebuilt from the journal by recovery after a restart. */
export function createRestoreBoard() {
  const pending = new Map<string, PendingRestore>();
  const key = (releaseId: string, target: string) => `${releaseId}\u0000${target}`;
  return {
    set(p: PendingRestore): void {
      pending.set(key(p.releaseId, p.target), p);
    },
    clear(releaseId: string, target: string): void {
      pending.delete(key(releaseId, target));
    },
    of(releaseId: string): PendingRestore[] {
      return [...pending.values()].filter((p) => p.releaseId === releaseId);
    },
    list(): PendingRestore[] {
      return [...pending.values()].map((p) => ({ ...p }));
    },
  };
}
export type RestoreBoard = ReturnType<typeof createRestoreBoard>;

/** What a restore retries with: where it reports, and what stops it. */
export type OwedContext = {
  rec: Recorder;
  release: Pick<Release, "id" | "tenant" | "worker">;
  board: RestoreBoard;
  /** The daemon stopping: the loop ends with its reason, leaving the journal to the next start. */
  halt: AbortSignal;
  backoff?: BackoffOptions;
  /** Called once, when the first attempt did not land (recovery stops waiting for it then). */
  onOwed?: () => void;
};

export type Settled<T> = { ok: true; value: T; attempts: number; owed: boolean } | { ok: false; error: CboError; attempts: number };

/** An answer from the edge that another attempt cannot change. A store failure never is one. */
export function refusedForGood(e: unknown): boolean {
  if (e instanceof RecordFailure) return false;
  return isCboError(e) && (e.code === "ERR_CF_REQUEST" || e.code === "ERR_NOT_FOUND" || e.code === "ERR_VALIDATION");
}

/**
 * Runs `attempt` until it resolves (done), throws a refusal (refused), or the halt signal fires
 * (throws its reason). `versionId` is what the target goes back to, for the board and the events
 * (null while the edge has to be read to know it).
 */
export async function untilRestored<T>(
  ctx: OwedContext,
  target: string,
  versionId: string | null,
  attempt: (round: number) => Promise<T>,
): Promise<Settled<T>> {
  const { rec, release, board, halt } = ctx;
  const backoff = ctx.backoff ?? DEFAULT_RESTORE_BACKOFF;
  let owedSince: number | undefined;
  for (let round = 0; ; round++) {
    if (halt.aborted) throw halt.reason;
    try {
      const value = await attempt(round);
      board.clear(release.id, target);
      if (owedSince !== undefined) {
        const pendingMs = Date.now() - owedSince;
        rec.log(`${target}: restore landed after ${round + 1} attempts (${Math.round(pendingMs / 1000)} s pending)`);
        rec.tryTo(() => rec.emit("release.restore.completed", target, { versionId, attempts: round + 1, pendingMs }));
      }
      return { ok: true, value, attempts: round + 1, owed: owedSince !== undefined };
    } catch (e) {
      if (halt.aborted) throw halt.reason;
      if (refusedForGood(e)) {
        board.clear(release.id, target);
        return { ok: false, error: toCboError(e), attempts: round + 1 };
      }
      const error = describeError(e);
      const wait = Math.max(MIN_WAIT_MS, backoffDelay(round, backoff));
      const now = Date.now();
      if (owedSince === undefined) {
        owedSince = now;
        rec.log(`${target}: restore pending (${error}); retrying until it lands`);
        rec.tryTo(() => rec.journal(J.restoreOwed, target, { versionId, error }));
        rec.tryTo(() => rec.emit("release.restore.pending", target, { versionId, reason: error, retryInMs: wait }));
        ctx.onOwed?.();
      }
      board.set({
        releaseId: release.id,
        tenant: release.tenant,
        worker: release.worker,
        target,
        versionId,
        since: new Date(owedSince).toISOString(),
        attempts: round + 1,
        lastError: error,
        nextAttemptAt: new Date(now + wait).toISOString(),
      });
      await sleep(wait, halt);
    }
  }
}

/**
 * The release's terminal status and its events, retried until the store takes them (a full disk).
 * `first` (a journal entry the end depends on) is written once before it. Returns the record as
 * the store has it; on halt, unfinished, for the next start.
 */
export async function finishRecorded(
  ctx: Pick<OwedContext, "rec" | "halt" | "backoff">,
  end: { status: ReleaseStatus; reason: string; events: PendingEvent[]; first?: () => void },
  read: () => Release,
): Promise<Release> {
  const backoff = ctx.backoff ?? DEFAULT_RESTORE_BACKOFF;
  let first = end.first;
  for (let round = 0; ; round++) {
    try {
      first?.();
      first = undefined;
      const r = ctx.rec.finish(end.status, end.reason);
      for (const e of end.events) ctx.rec.tryTo(() => ctx.rec.emitPending(e));
      return r;
    } catch (e) {
      if (round === 0) ctx.rec.log(`the end (${end.status}) cannot be recorded yet: ${describeError(e)}; retrying`);
      try {
        await sleep(Math.max(MIN_WAIT_MS, backoffDelay(round, backoff)), ctx.halt);
      } catch {
        return read();
      }
    }
  }
}
