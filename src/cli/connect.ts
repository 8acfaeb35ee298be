// The CLI's way to the daemon: the one daemon client (src/client) with the CLI's words (its hints
// name the flags), the Node socket for the event stream, and the daemon found from --url, --token
// and --data (discover.ts). Every command that talks to the daemon gets its client here.
import { createDaemonClient, daemonDown, errorFromResponse, type Connection, type DaemonClient } from "../client/index.ts";
import type { CboError, ErrorCode } from "../kit/errors.ts";
import { DAEMON_DOWN_HINT, discoverDaemon, type DaemonFlags } from "./discover.ts";
import { asInvoked } from "./invocation.ts";
import { nodeSocket } from "./node-socket.ts";
import { startingError, upStarting } from "./starting.ts";
import { goneDaemonError } from "./daemon-gone.ts";
import { parseTraceparent } from "../kit/trace-context.ts";

export { DAEMON_DOWN_HINT };

/** What to do about an error the daemon answered, in the CLI's words. */
export const CLI_HINTS: Partial<Record<ErrorCode, string>> = {
  ERR_UNAUTHORIZED:
    "pass a valid token with --token-file FILE, CBO_TOKEN_FILE or CBO_TOKEN (the daemon writes its admin token to <data>/admin-token; none at hand: cbo tokens create --offline --data DIR --name admin --role admin, with the daemon stopped)",
  ERR_FORBIDDEN: "this token's role is too low; use a deployer or admin token",
  ERR_DISK_FULL: "free that much space on the daemon's disk; it resumes writing by itself, then retry",
  ERR_STORE_CORRUPT:
    "stop the daemon, keep its database for investigation, and restore the newest backup with `cbo restore <archive> --data <new dir>`",
  ERR_BUNDLE_CONFINED:
    "a Worker's bundle reads only files inside its project (the directory of orchestrator.yaml) and installed packages; move the file into the project, and keep secrets in the vault (cbo secrets set)",
};

const CLI_WORDS = {
  label: "daemon",
  hints: CLI_HINTS,
  downHint: DAEMON_DOWN_HINT,
  // What an answer of another shape most often means: the daemon still runs the version before an upgrade.
  versionHint:
    "the daemon probably runs another cbo version than this command (after git pull && npm install, or a new kit, restart the daemon: stop cbo up or cbo daemon and start it again, or restart its service)",
  refusedHint: "check the token (--token-file, --token, CBO_TOKEN_FILE, CBO_TOKEN or <data>/admin-token)",
} satisfies Partial<Connection> & { refusedHint: string };

let saidSpecRefused = false;

/** Once per command, on stderr: the daemon refuses orchestrator.yaml on disk and keeps the previous spec. */
export function warnSpecRefused(refused: string | undefined, write: (line: string) => void = (l) => process.stderr.write(l)): void {
  if (refused === undefined || saidSpecRefused) return;
  saidSpecRefused = true;
  write(
    `cbo: warning: the daemon refuses the spec file on disk and keeps using the previous one (what this command shows and does is the previous spec's): ${refused}\n` +
      asInvoked("cbo: fix the file (the daemon re-reads it when it changes); `cbo status` shows the refusal too\n"),
  );
}

/** The daemon client for a daemon at `url`, with the CLI's words; `dataDir`: the daemon's, when known. */
export function cliClient(o: { url: string; token: string | undefined; timeoutMs?: number; dataDir?: string }): DaemonClient {
  const dataDir = o.dataDir;
  return createDaemonClient({
    ...CLI_WORDS,
    // Not answering because its `cbo up` is still starting it, or because it is gone: said so,
    // rather than "start it with cbo up".
    ...(dataDir === undefined
      ? {}
      : { downError: (url: string, cause: unknown) => startingDown(dataDir, cause) ?? goneDaemonError(dataDir, url, cause) }),
    url: o.url,
    token: o.token,
    socket: nodeSocket,
    onSpecRefused: (r) => warnSpecRefused(r),
    ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
    // One trace per command; TRACEPARENT (a CI job's, a script's) makes the command part of that one.
    ...(parseTraceparent(process.env.TRACEPARENT) ? { traceparent: process.env.TRACEPARENT } : {}),
  });
}

/** The daemon client for the daemon the flags (or the environment, or the data directory) name. */
export function connect(flags: DaemonFlags): DaemonClient {
  const { url, token, dataDir } = discoverDaemon(flags);
  return cliClient({ url, token, dataDir });
}

function startingDown(dataDir: string, cause: unknown): CboError | undefined {
  const s = upStarting(dataDir);
  return s ? startingError(dataDir, s, cause) : undefined;
}

/** No daemon answers at `url`, in the CLI's words. */
export function cliDaemonDown(url: string, cause?: unknown): CboError {
  return daemonDown(CLI_WORDS, url, cause);
}

/** A non-2xx answer as the CboError the CLI reports (the daemon's code, the CLI's hint). */
export function cliErrorFromResponse(status: number, text: string): CboError {
  return errorFromResponse(CLI_WORDS, status, text);
}
