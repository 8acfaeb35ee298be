// What the two files of `cbo secrets` share: the help text and hints.
import type { CboError } from "../kit/errors.ts";
import { usageOf } from "./usage/index.ts";

export const SECRETS_USAGE = usageOf("secrets");

export const VALUE_HINT = 'pipe the value in (`printf %s "$VALUE" | cbo secrets set NAME`) or pass --from-file FILE';

/** ERR_CONFLICT from check-and-set carries the current version: say which --cas would pass. */
export function conflictHint(e: CboError): string | undefined {
  const current = e.details?.["current_version"] ?? e.details?.["currentVersion"];
  return typeof current === "number"
    ? `it is at version ${current} now: check it (\`cbo secrets versions NAME\`) and retry with --cas ${current}`
    : undefined;
}
