// What other users on the host could see of our processes: each descendant's environment
// (/proc/<pid>/environ, readable by the same user for as long as it runs) and `ps` output.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

export type ProcessView = { pid: number; command: string; environ: string };

/** Every living descendant of `root` (children, grandchildren, …), with its command and environment. */
export function descendants(root: number): ProcessView[] {
  const parent = new Map<number, number>();
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      // The command name may hold spaces or parentheses: the fields after the last ")" are fixed.
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      parent.set(Number(p), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out: ProcessView[] = [];
  const todo = [root];
  while (todo.length > 0) {
    const at = todo.pop()!;
    for (const [pid, ppid] of parent) {
      if (ppid !== at) continue;
      todo.push(pid);
      try {
        out.push({
          pid,
          command: readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim(),
          environ: readFileSync(`/proc/${pid}/environ`, "utf8"),
        });
      } catch {
        // gone meanwhile
      }
    }
  }
  return out;
}

/** `ps` as another user would run it (every process, full command lines), plus `ps e` (environments) of `pids`. */
export function psOutput(pids: number[]): string {
  const all = execFileSync("ps", ["-e", "-ww", "-o", "pid=,ppid=,args="], { encoding: "utf8" });
  const env = pids.length > 0 ? execFileSync("ps", ["eww", "-o", "pid=,args=", "-p", pids.join(",")], { encoding: "utf8" }) : "";
  return all + env;
}
