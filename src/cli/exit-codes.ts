// Every exit code `cbo` gives, in one place (README, "Exit codes", says the same). A finished
// release, rollback, key rotation or secret delivery exits with its outcome's code, whoever
// finished it: the daemon that ran it, or the one that recovered it after a restart.
//
//   0  ok: the command did what was asked; a release or rollback succeeded
//   1  the user's to look at: bad input, refused (ERR_* user errors); a release rolled back or aborted
//   2  the system failed: ERR_* system errors; a release failed (a target could not be put back);
//      the outcome could not be learnt (the daemon stayed away, the follow was detached)
import type { CboError } from "../kit/errors.ts";

export const EXIT = { ok: 0, userError: 1, systemError: 2 } as const;

/** A release's (or rollback's) status as an exit code; anything not finished is "could not learn it". */
const OUTCOMES: Readonly<Record<string, number>> = {
  succeeded: EXIT.ok,
  rolled_back: EXIT.userError,
  aborted: EXIT.userError,
  failed: EXIT.systemError,
};

export function exitForOutcome(status: string): number {
  return Object.hasOwn(OUTCOMES, status) ? OUTCOMES[status]! : EXIT.systemError;
}

export function exitForError(err: Pick<CboError, "isUserError">): number {
  return err.isUserError ? EXIT.userError : EXIT.systemError;
}
