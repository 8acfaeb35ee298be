// `cbo up` starting: between its checks and the daemon's first answer (the local edge and workerd
// start, the store opens) there is no <data>/daemon.json yet, or one left by the previous run
// that points at an API not listening yet. A command run then would say "not answering; start it"
// to someone who just did. So `cbo up` writes <data>/starting.json ({pid}) before it starts
// anything and removes it once the daemon answers; the CLI reads it only when no daemon answers.
// A file left by a `cbo up` that was killed (its pid gone) means nothing.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as z from "zod";
import { CboError } from "../kit/errors.ts";

const StartingSchema = z.object({ pid: z.number().int().positive(), startedAt: z.string() });
export type Starting = z.infer<typeof StartingSchema>;

const fileOf = (dataDir: string) => join(dataDir, "starting.json");

// Its own copy of config/process-alive.ts: the CLI's client layer may not import config.
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
  return !zombie(pid);
}

/**
 * A process that has exited but whose parent has not reaped it yet (state Z in /proc/<pid>/stat)
 * still answers signal 0. Just after a `kill -9` of a daemon started by a shell or a supervisor
 * that reaps late, that made the CLI say the plain "not answering" instead of "no longer running".
 * Where /proc is not there (macOS), no process counts as a zombie.
 */
function zombie(pid: number): boolean {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return false;
  }
  // "pid (comm) state …": comm may hold spaces and parentheses, so the state follows the last ")".
  if (text[text.lastIndexOf(")") + 2] !== "Z") return false;
  // The main thread of a multithreaded process (node, workerd) is a zombie while its other threads
  // are still exiting, and they hold the shared files (a port, a SQLite lock) until the last is gone:
  // it has exited only once the main thread is all that is left.
  try {
    return readdirSync(`/proc/${pid}/task`).length <= 1;
  } catch {
    return true;
  }
}

/** Says that this process starts the daemon of `dataDir`; the function returned takes it back. */
export function markStarting(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const mine: Starting = { pid: process.pid, startedAt: new Date().toISOString() };
  writeFileSync(fileOf(dataDir), JSON.stringify(mine) + "\n", { mode: 0o600 });
  return () => {
    // Only our own: a later `cbo up` on the same directory may have written its own since.
    if (upStarting(dataDir)?.pid === mine.pid) rmSync(fileOf(dataDir), { force: true });
  };
}

/** The `cbo up` starting the daemon of `dataDir` now, or undefined when none is. */
export function upStarting(dataDir: string): Starting | undefined {
  try {
    const s = StartingSchema.parse(JSON.parse(readFileSync(fileOf(dataDir), "utf8")));
    return alive(s.pid) ? s : undefined;
  } catch {
    return undefined;
  }
}

/** A second `cbo up` while the first still starts the same data directory (it has no daemon.json yet). */
export function refuseWhileStarting(dataDir: string): void {
  const s = upStarting(dataDir);
  if (!s || s.pid === process.pid) return;
  throw new CboError("ERR_CONFLICT", `A \`cbo up\` (pid ${s.pid}) is already starting the daemon of ${dataDir}.`, {
    details: { dataDir, pid: s.pid },
    hint: `wait for it and use that one, or stop it first (Ctrl-C where it runs, or kill ${s.pid}); a second orchestrator needs a data directory of its own (--data DIR)`,
  });
}

/** No daemon answers for `dataDir` because its `cbo up` is still starting it: wait, do not start another. */
export function startingError(dataDir: string, s: Starting, cause?: unknown): CboError {
  const secs = Math.max(0, Math.round((Date.now() - Date.parse(s.startedAt)) / 1000));
  return new CboError("ERR_IO", `The daemon of ${dataDir} is still starting (\`cbo up\`, pid ${s.pid}, for ${secs} s so far).`, {
    hint: "wait until `cbo up` prints its summary (the dashboard and API addresses), then run this again",
    details: { dataDir, pid: s.pid },
    ...(cause === undefined ? {} : { cause }),
  });
}
