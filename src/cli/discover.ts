// Where the daemon is and which token to show it. Explicit beats implicit: the flag, then the
// environment, then what the daemon wrote into its data directory when it started
// (`<data>/daemon.json` {url, pid} and `<data>/admin-token`, mode 0600).
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import * as z from "zod";
import { CboError } from "../kit/errors.ts";

export const DEFAULT_DATA_DIR = ".cbo";

/** What to do when no daemon answers. */
export const DAEMON_DOWN_HINT = "start it with `cbo up` or `npm start`";

export type DaemonFlags = { url?: string | undefined; token?: string | undefined; data?: string | undefined };
export type DaemonAddress = { url: string; token: string | undefined; dataDir: string };

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

export function discoverDaemon(flags: DaemonFlags, env: NodeJS.ProcessEnv = process.env): DaemonAddress {
  const dataDir = resolve(flags.data ?? DEFAULT_DATA_DIR);
  const file = join(dataDir, "daemon.json");
  const explicit = flags.url !== undefined ? checkUrl(flags.url, "--url") : env.CBO_URL ? checkUrl(env.CBO_URL, "CBO_URL") : undefined;
  // With an explicit URL a broken daemon file does not matter; without one it is the only source.
  const fromFile = explicit === undefined ? daemonFileUrl(file) : quietly(() => daemonFileUrl(file));
  const url = explicit ?? fromFile;
  if (url === undefined) {
    throw new CboError("ERR_IO", `No daemon found: ${file} does not exist.`, {
      hint: `${DAEMON_DOWN_HINT}, or point at a running daemon with --url or CBO_URL (or at its data with --data DIR)`,
    });
  }
  // The admin token on disk belongs to the daemon of this data directory: it is never sent to
  // another address given by --url or CBO_URL (that one needs its own --token or CBO_TOKEN).
  const ownDaemon = fromFile !== undefined && sameOrigin(fromFile, url);
  const token = flags.token ?? (env.CBO_TOKEN || undefined) ?? (ownDaemon ? readIfExists(join(dataDir, "admin-token"))?.trim() : undefined);
  return { url, token: token || undefined, dataDir };
}
