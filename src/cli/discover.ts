// Where the daemon is and which token to show it. Explicit beats implicit: the flag, then the
// environment, then what the daemon wrote into its data directory when it started
// (`<data>/daemon.json` {url, pid} and `<data>/admin-token`, mode 0600).
//
// The token: the first of --token-file FILE, --token TOKEN, CBO_TOKEN_FILE, CBO_TOKEN, and
// <data>/admin-token (only for the daemon of that data directory). A file beats a value given the
// same way (a flag, or the environment) because it keeps the token off the command line and out of
// the environment of every child; --token works, with a warning: other users see it in `ps`.
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import * as z from "zod";
import { CboError } from "../kit/errors.ts";
import { startingError, upStarting } from "./starting.ts";
import { readTokenFile } from "./token-file.ts";

export const DEFAULT_DATA_DIR = ".cbo";

/** What to do when no daemon answers. */
export const DAEMON_DOWN_HINT = "start it with `cbo up` or `npm start`";

export type DaemonFlags = {
  url?: string | undefined;
  token?: string | undefined;
  "token-file"?: string | undefined;
  data?: string | undefined;
};
/** Where the token came from (never the token itself). */
export type TokenSource = "--token-file" | "--token" | "CBO_TOKEN_FILE" | "CBO_TOKEN" | "admin-token";
export type DaemonAddress = { url: string; token: string | undefined; tokenSource?: TokenSource; dataDir: string };

/** Said once per process, on stderr: a token on the command line is visible to every user of the host. */
export const TOKEN_FLAG_WARNING =
  "cbo: warning: --token puts the token on the command line, where other users can read it (`ps`) and your shell history keeps it; use --token-file FILE or CBO_TOKEN_FILE";
const toStderr = (line: string) => process.stderr.write(line + "\n");
/** Who has been told (per warn function: once per process for stderr). */
const warnedAboutTokenFlag = new WeakSet<(line: string) => void>();

/** The token by the precedence above; undefined when none is given and the daemon wrote none. */
export function resolveToken(
  flags: DaemonFlags,
  env: NodeJS.ProcessEnv,
  adminTokenFile: string | undefined,
  warn: (line: string) => void = toStderr,
): { token: string; source: TokenSource } | undefined {
  if (flags["token-file"] !== undefined) return { token: readTokenFile(flags["token-file"], "--token-file"), source: "--token-file" };
  if (flags.token) {
    if (!warnedAboutTokenFlag.has(warn)) warn(TOKEN_FLAG_WARNING);
    warnedAboutTokenFlag.add(warn);
    return { token: flags.token.trim(), source: "--token" };
  }
  if (env.CBO_TOKEN_FILE) return { token: readTokenFile(env.CBO_TOKEN_FILE, "CBO_TOKEN_FILE"), source: "CBO_TOKEN_FILE" };
  if (env.CBO_TOKEN?.trim()) return { token: env.CBO_TOKEN.trim(), source: "CBO_TOKEN" };
  if (adminTokenFile === undefined || readIfExists(adminTokenFile) === undefined) return undefined;
  return { token: readTokenFile(adminTokenFile, "the daemon's admin token"), source: "admin-token" };
}

const DaemonFileSchema = z.looseObject({ url: z.string(), pid: z.number().int().optional() });

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new CboError("ERR_IO", `Cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
}

function checkUrl(url: string, from: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CboError("ERR_USAGE", `${from} is not a URL: "${url}".`, { hint: "e.g. --url http://127.0.0.1:8700" });
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new CboError("ERR_USAGE", `${from} must be an http:// or https:// URL (got "${url}").`);
  }
  // user:password@ would be printed back in every error naming the daemon's URL, and the daemon
  // reads none: it takes a token. Refused without echoing the URL.
  if (parsed.username !== "" || parsed.password !== "") {
    throw new CboError("ERR_USAGE", `${from} holds a user name or password (user:pass@host); the daemon takes a token instead.`, {
      hint: `give the URL without them, e.g. ${parsed.protocol}//${parsed.host}, and the token with --token-file FILE`,
    });
  }
  return url.replace(/\/+$/, "");
}

/** The daemon file's URL, or undefined when there is none; throws when it exists but is unreadable. */
function daemonFileUrl(file: string): string | undefined {
  const text = readIfExists(file);
  if (text === undefined) return undefined;
  let parsed;
  try {
    parsed = DaemonFileSchema.safeParse(JSON.parse(text));
  } catch {
    parsed = undefined;
  }
  if (!parsed?.success)
    throw new CboError("ERR_IO", `${file} is not a daemon file ({"url", "pid"}).`, { hint: "restart the daemon, or pass --url" });
  return checkUrl(parsed.data.url, file);
}

function quietly<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

const sameOrigin = (a: string, b: string) => new URL(a).origin === new URL(b).origin;

/** Where the daemon is (no token read): --url, CBO_URL, else <data>/daemon.json. */
export function discoverUrl(
  flags: DaemonFlags,
  env: NodeJS.ProcessEnv = process.env,
): { url: string; fromFile: string | undefined; dataDir: string } {
  const dataDir = resolve(flags.data ?? DEFAULT_DATA_DIR);
  const file = join(dataDir, "daemon.json");
  const explicit = flags.url !== undefined ? checkUrl(flags.url, "--url") : env.CBO_URL ? checkUrl(env.CBO_URL, "CBO_URL") : undefined;
  // With an explicit URL a broken daemon file does not matter; without one it is the only source.
  const fromFile = explicit === undefined ? daemonFileUrl(file) : quietly(() => daemonFileUrl(file));
  const url = explicit ?? fromFile;
  if (url === undefined) {
    const starting = upStarting(dataDir);
    if (starting) throw startingError(dataDir, starting);
    // Run from a subdirectory of the project (npx finds the project's cbo from there, and says
    // where the project is): its data directory is named, as the flag that reaches it.
    const project = flags.data === undefined ? env.npm_config_local_prefix : undefined;
    const there = project ? join(resolve(project), DEFAULT_DATA_DIR) : undefined;
    const elsewhere = there !== undefined && there !== dataDir && existsSync(join(there, "daemon.json"));
    throw new CboError("ERR_IO", `No daemon found: ${file} does not exist.`, {
      hint: elsewhere
        ? `the project's daemon writes ${join(there, "daemon.json")}: run this from ${resolve(project!)}, or pass --data ${there}`
        : `${DAEMON_DOWN_HINT}, or point at a running daemon with --url or CBO_URL (or at its data with --data DIR)`,
    });
  }
  return { url, fromFile, dataDir };
}

export function discoverDaemon(flags: DaemonFlags, env: NodeJS.ProcessEnv = process.env): DaemonAddress {
  const { url, fromFile, dataDir } = discoverUrl(flags, env);
  // The admin token on disk belongs to the daemon of this data directory: it is never sent to
  // another address given by --url or CBO_URL (that one needs its own token).
  const ownDaemon = fromFile !== undefined && sameOrigin(fromFile, url);
  const given = resolveToken(flags, env, ownDaemon ? join(dataDir, "admin-token") : undefined);
  return { url, token: given?.token, ...(given ? { tokenSource: given.source } : {}), dataDir };
}
