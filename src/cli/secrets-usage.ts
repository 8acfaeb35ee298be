// What the two files of `cbo secrets` share: the help text and hints.
import type { CboError } from "../kit/errors.ts";
import { DAEMON_FLAGS_USAGE } from "./daemon-flags.ts";

export const SECRETS_USAGE = `usage: cbo secrets <command> ${DAEMON_FLAGS_USAGE}
  set <name> [--from-file F] [--cas N] [--mode binding|relay] [--jurisdiction eu ...]
                 the value comes from stdin (one trailing newline dropped) or --from-file F (byte for byte),
                 never from the command line; --cas N: only if the secret is at version N (0: new)
  get <name> [--version N]        prints the value and nothing else (admin; audited)
  list                            every secret: version, mode, jurisdictions; never values
  versions <name>                 the kept versions; never values
  rollback <name> --to N [--cas N]  a new version holding version N's value
  delete <name> [--cas N]         soft delete (undelete brings it back)
  undelete <name>                 (admin)
  destroy <name> [--version N ...] --yes   erase versions (all without --version) for good (admin)
  deliver <name> [--wait]         release every worker that lists it, so each target ships the current
                                  version (canary steps and gates); --wait follows those releases`;

export const VALUE_HINT = 'pipe the value in (`printf %s "$VALUE" | cbo secrets set NAME`) or pass --from-file FILE';

/** ERR_CONFLICT from check-and-set carries the current version: say which --cas would pass. */
export function conflictHint(e: CboError): string | undefined {
  const current = e.details?.["current_version"] ?? e.details?.["currentVersion"];
  return typeof current === "number"
    ? `it is at version ${current} now: check it (\`cbo secrets versions NAME\`) and retry with --cas ${current}`
    : undefined;
}
