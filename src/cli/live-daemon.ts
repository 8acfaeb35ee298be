// Is a daemon running on this data directory? Commands that can work either through the daemon or
// on the files (`cbo backup`, `cbo vault rotate-master-key`) ask this first: through the daemon
// what they do is on the audit record; on the files it must not race a daemon that holds them.
// The daemon writes <data>/daemon.json when it listens; a file left by one that crashed or was
// killed names a URL where nothing (or something else) answers, which is "not running".
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { cliDaemonDown } from "./connect.ts";
import { startingError, upStarting } from "./starting.ts";
import { DEFAULT_DATA_DIR, discoverDaemon, type DaemonAddress, type DaemonFlags } from "./discover.ts";

const HEALTH_TIMEOUT_MS = 2_000;

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/v1/health`, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
    const body = (await res.json().catch(() => undefined)) as { ok?: unknown } | undefined;
    return res.ok && body?.ok === true;
  } catch {
    return false;
  }
}

/**
 * The running daemon, or undefined when none runs on the data directory. A URL given with --url or
 * CBO_URL must answer (asking for a daemon that is not there is an error, not a fallback).
 */
export async function liveDaemon(flags: DaemonFlags, env: NodeJS.ProcessEnv = process.env): Promise<DaemonAddress | undefined> {
  const explicit = flags.url !== undefined || Boolean(env.CBO_URL);
  const dataDir = resolve(flags.data ?? DEFAULT_DATA_DIR);
  // A `cbo up` still starting holds the files already but answers nothing yet: neither way is safe.
  const starting = () => {
    const s = upStarting(dataDir);
    if (s) throw startingError(dataDir, s);
  };
  if (!explicit && !existsSync(join(dataDir, "daemon.json"))) return void starting();
  const address = discoverDaemon(flags, env);
  if (await answers(address.url)) return address;
  if (!explicit) starting();
  if (explicit) throw cliDaemonDown(address.url);
  return undefined;
}
