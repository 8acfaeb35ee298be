// Every exit code `cbo` gives, in one place (README, "Exit codes", and `cbo help` say the same).
// A finished release, rollback, key rotation or secret delivery exits with its outcome's code,
// whoever finished it: the daemon that ran it, or the one that recovered it after a restart.
//
//   0  ok: the command did what was asked; a release or rollback succeeded
//   1  user error: bad input or usage (unknown flag, missing argument), refused (ERR_* user errors)
//   2  system error: ERR_* system errors (the daemon unreachable, the edge down, a disk full); a
//      release failed (a target could not be put back); the outcome could not be learnt (the
//      daemon stayed away, the follow was detached)
//   3  a release (or rollback) rolled back or was aborted: a gate failed, someone aborted it, or
//      a recovered release was rolled back. Nothing is wrong with the command or the system: the
//      release did not ship, and every target is back on its previous version.
//   4  `cbo diff --strict`: a target runs something the spec does not know (a version the
//      orchestrator never uploaded there: a `wrangler deploy`, a dashboard edit), for CI.
import type { CboError } from "../kit/errors.ts";

export const EXIT = { ok: 0, userError: 1, systemError: 2, rolledBack: 3, drift: 4 } as const;

/** One line per code, for `cbo help` (README's table says the same). */
export const EXIT_CODES_HELP = `exit codes: 0 ok; 1 user error (usage, bad input, refused); 2 system error (daemon unreachable, edge down,
            a release failed or its outcome unknown); 3 a release or rollback rolled back or was aborted;
            4 cbo diff --strict found drift (a target runs a version the orchestrator never uploaded)`;

/** A release's (or rollback's) status as an exit code; anything not finished is "could not learn it". */
const OUTCOMES: Readonly<Record<string, number>> = {
  succeeded: EXIT.ok,
  unchanged: EXIT.ok,
  rolled_back: EXIT.rolledBack,
  aborted: EXIT.rolledBack,
  failed: EXIT.systemError,
};

export function exitForOutcome(status: string): number {
  return Object.hasOwn(OUTCOMES, status) ? OUTCOMES[status]! : EXIT.systemError;
}

export function exitForError(err: Pick<CboError, "isUserError">): number {
  return err.isUserError ? EXIT.userError : EXIT.systemError;
}

/** How bad each code is, for a command that ends several releases (`cbo secrets deliver --wait`). */
const SEVERITY: Readonly<Record<number, number>> = {
  [EXIT.ok]: 0,
  [EXIT.rolledBack]: 1,
  [EXIT.drift]: 1,
  [EXIT.userError]: 2,
  [EXIT.systemError]: 3,
};

/** The worse of two exit codes: a failure outweighs a rollback, which outweighs a success. */
export function worseExit(a: number, b: number): number {
  return (SEVERITY[b] ?? 3) > (SEVERITY[a] ?? 3) ? b : a;
}
