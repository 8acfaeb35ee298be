// Whether a process still exists, for the files that name their writer by pid (daemon.json,
// edge.json, starting.json, working copies `*.tmp-<pid>`, restore markers): a file whose process is
// gone is left over from a crash or a kill, and is ignored or removed. Signal 0 checks without
// sending anything. EPERM means it exists under another user: still alive, and maybe still holding
// the files. A pid can be reused by an unrelated process; callers that must not be fooled by that
// check more than the pid (the daemon's and edge's answers on their URL, workerd's start time).
import { readdirSync, readFileSync } from "node:fs";

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
  return !zombie(pid);
}

/**
 * Exited but not yet reaped by its parent (state Z in /proc/<pid>/stat): it still answers signal 0
 * but holds no file any more, so just after a `kill -9` it is gone. Without /proc, never a zombie.
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
