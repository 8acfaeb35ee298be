// How the CLI reports: results to stdout (JSON with --json), errors as `error ERR_X: message`
// plus a hint on stderr, or with --json as one object `{"error":{"code","message","hint","details"}}`
// on stdout and nothing else there; exit 1 for user errors, 2 for system errors (exit-codes.ts);
// stacks only with --debug (on stderr, either way).
import { toCboError, type CboError } from "../kit/errors.ts";
import { maskTokens } from "../kit/mask-tokens.ts";
import { exitForError } from "./exit-codes.ts";
import { asInvoked } from "./invocation.ts";

/** The error as `--json` prints it: the API's error body, plus the hint the CLI would print. */
export function errorJson(err: CboError): { error: { code: string; message: string; hint?: string; details?: Record<string, unknown> } } {
  return {
    error: {
      code: err.code,
      message: err.message,
      ...(err.hint ? { hint: asInvoked(err.hint) } : {}),
      ...(err.details ? { details: err.details } : {}),
    },
  };
}

export function printError(e: unknown, debug: boolean, json = false): number {
  const err = toCboError(e);
  // An error may echo a flag's value back ("--url is not a URL: …"): a token pasted there is masked.
  if (json) process.stdout.write(maskTokens(JSON.stringify(errorJson(err))) + "\n");
  else {
    process.stderr.write(maskTokens(`error ${err.code}: ${err.message}\n`));
    if (err.hint) process.stderr.write(maskTokens(`hint: ${asInvoked(err.hint)}\n`));
  }
  if (debug && err.stack) process.stderr.write(maskTokens(`${err.stack}\n`));
  if (debug && err.cause instanceof Error && err.cause.stack) process.stderr.write(maskTokens(`cause: ${err.cause.stack}\n`));
  return exitForError(err);
}

export function printJsonLine(value: unknown): void {
  process.stdout.write(JSON.stringify(value) + "\n");
}

/**
 * Resolves on the first SIGINT/SIGTERM: long-running commands serve until then, then clean up.
 * A long-running command owns its process, so it takes these signals over: Miniflare's exit hook
 * answers them with an immediate process.exit, which would skip our cleanup (the audit log's last
 * signed checkpoint, the WAL checkpoint). Miniflare's `exit` hook stays, so workerd still stops
 * if we exit abnormally. The handlers stay installed until the process ends; a second signal
 * during cleanup exits at once.
 */
export function untilSignal(say: (line: string) => void = (line) => void process.stderr.write(`${line}\n`)): Promise<string> {
  process.removeAllListeners("SIGINT");
  process.removeAllListeners("SIGTERM");
  return new Promise((resolve) => {
    let received = false;
    const handler = (sig: string) => {
      if (received) {
        say(`cbo: ${sig} again: exiting without finishing cleanup`);
        process.exit(sig === "SIGINT" ? 130 : 143);
      }
      received = true;
      say(`cbo: ${sig}: shutting down`);
      resolve(sig);
    };
    process.on("SIGINT", handler);
    process.on("SIGTERM", handler);
  });
}
