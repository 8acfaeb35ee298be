// Whether a process still exists, for the files that name their writer by pid (daemon.json,
// edge.json, starting.json, working copies `*.tmp-<pid>`, restore markers): a file whose process is
// gone is left over from a crash or a kill, and is ignored or removed. Signal 0 checks without
// sending anything. EPERM means it exists under another user: still alive, and maybe still holding
// the files. A pid can be reused by an unrelated process; callers that must not be fooled by that
// check more than the pid (the daemon's and edge's answers on their URL, workerd's start time).
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
