// Files written whole go first to a working copy named by the writing process, `<file>.tmp-<pid>`,
// then are renamed over `file`. A writer killed in between (SIGKILL, OOM, the machine off) never
// removes its copy, which may hold what `file` holds (the tunnel's connector token, an audit
// export). The next writer of the same file removes the copies whose process is gone; a live
// process's copy, this one's included, is left alone (backups do the same: backup/create.ts).
import { readdirSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { processAlive } from "./process-alive.ts";

/** This process's working copy of `file`. */
export const tempOf = (file: string): string => `${file}.tmp-${process.pid}`;

/** Removes the working copies of `file` left by processes that are gone. */
export function removeDeadTemps(file: string): void {
  const prefix = `${basename(file)}.tmp-`;
  removeLeftBehind(dirname(file), (name) => (name.startsWith(prefix) ? name.slice(prefix.length) : undefined));
}

/**
 * Removes the entries of `dir` (files or whole directories) whose writer's pid, as `pidOf` reads it
 * from the name, is a process that is gone; this process's and live ones' are left alone.
 */
export function removeLeftBehind(dir: string, pidOf: (name: string) => string | undefined): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = pidOf(name);
    if (pid === undefined || !/^[1-9]\d*$/.test(pid) || Number(pid) === process.pid || processAlive(Number(pid))) continue;
    rmSync(join(dir, name), { recursive: true, force: true });
  }
}
