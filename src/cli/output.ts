// How the CLI reports: results to stdout (JSON with --json), errors as `error ERR_X: message`
// plus a hint on stderr; exit 1 for user errors, 2 for system errors; stacks only with --debug.
import { toCboError } from "../kit/errors.ts";

export function printError(e: unknown, debug: boolean): number {
  const err = toCboError(e);
  process.stderr.write(`error ${err.code}: ${err.message}\n`);
  if (err.hint) process.stderr.write(`hint: ${err.hint}\n`);
  if (debug && err.stack) process.stderr.write(`${err.stack}\n`);
  if (debug && err.cause instanceof Error && err.cause.stack) process.stderr.write(`cause: ${err.cause.stack}\n`);
  return err.isUserError ? 1 : 2;
}

export function printJsonLine(value: unknown): void {
  process.stdout.write(JSON.stringify(value) + "\n");
}

/** Resolves on SIGINT/SIGTERM: long-running commands serve until then, then clean up. */
export function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const done = (sig: string) => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      resolve(sig);
    };
    const onInt = () => done("SIGINT");
    const onTerm = () => done("SIGTERM");
    process.once("SIGINT", onInt);
    process.once("SIGTERM", onTerm);
  });
}
