// The child a daemon killed with -9 left running. The supervisor's stop() never ran, and nothing
// else stops a child when its parent is SIGKILLed: cloudflared lived on with the old token and
// config, and the next daemon started a second one beside it (one more per kill). So the running
// child is recorded in a file (pid and start time), and the next start stops a recorded child that
// still runs before spawning its own. A data directory has one daemon at a time (data-dir lock),
// so a recorded child that outlived its daemon is a leftover.
//
// Linux only (/proc): a process is named by its pid and start time, so a pid reused since by
// another process is never touched. Elsewhere nothing is recorded and nothing stopped.
import { readFileSync, rmSync } from "node:fs";
import { writePrivateFile } from "../config/private-fs.ts";

type Recorded = { pid: number; start: string };

/** The start time (clock ticks since boot) of a live, non-zombie process; undefined if gone or no /proc. */
function startOf(pid: number): string | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ")".
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return rest[0] === "Z" ? undefined : rest[19];
}

export function recordChild(file: string, pid: number): void {
  const start = startOf(pid);
  if (start === undefined) return;
  try {
    writePrivateFile(file, JSON.stringify({ pid, start } satisfies Recorded) + "\n");
  } catch {
    // Not recorded (a full disk): a kill -9 now would leave this child running, as before.
  }
}

export function forgetChild(file: string, pid: number): void {
  try {
    const r = JSON.parse(readFileSync(file, "utf8")) as Recorded;
    if (r.pid !== pid) return;
  } catch {
    // unreadable: nothing of ours to keep
  }
  rmSync(file, { force: true });
}

/** Stops (SIGKILL) the child recorded in `file` if it still runs; its pid, else undefined. */
export function stopRecordedChild(file: string): number | undefined {
  let r: Recorded;
  try {
    r = JSON.parse(readFileSync(file, "utf8")) as Recorded;
  } catch {
    return undefined; // none recorded (a clean stop, a first start) or unreadable
  }
  rmSync(file, { force: true });
  if (typeof r?.pid !== "number" || typeof r.start !== "string" || startOf(r.pid) !== r.start) return undefined;
  try {
    process.kill(r.pid, "SIGKILL");
  } catch {
    return undefined; // gone meanwhile
  }
  return r.pid;
}
