// What every command that talks to the daemon shares: the --url/--token/--data flags, the client
// built from them (connect.ts), and whether to print JSON or coloured text.
import { CboError } from "../kit/errors.ts";
import { connect } from "./connect.ts";
import { createPaint, useColour, type Paint } from "./table.ts";

export const DAEMON_FLAGS = {
  url: { type: "string" },
  token: { type: "string" },
  "token-file": { type: "string" },
  data: { type: "string" },
} as const;
export { DAEMON_FLAGS_USAGE } from "./usage/index.ts";

/** The daemon client for the daemon these flags name (connect.ts). */
export { connect };

export function stdoutPaint(): Paint {
  return createPaint(useColour(process.stdout));
}

/** The positional arguments a command takes, by name; anything more or less is a usage error. */
export function positionalsAs<N extends string>(positionals: string[], names: readonly N[], usage: string): Record<N, string> {
  if (positionals.length < names.length) throw new CboError("ERR_USAGE", `Missing <${names[positionals.length]}>.`, { hint: usage });
  if (positionals.length > names.length)
    throw new CboError("ERR_USAGE", `Unexpected argument "${positionals[names.length]}".`, { hint: usage });
  return Object.fromEntries(names.map((n, i) => [n, positionals[i]!])) as Record<N, string>;
}

export function printUsage(usage: string): number {
  process.stdout.write(usage + "\n");
  return 0;
}
