// workerd processes an edge left behind. Miniflare spawns one workerd per region and stops it on
// dispose; an edge killed with SIGKILL (or OOM-killed) never disposes, and its workerd processes
// live on as orphans: they keep serving the Workers as they were and keep the region ports, so the
// edge started again on the same directory could not bind them ("Address already in use") and
// would stay down. So each edge records its workerd processes in <data>/workerd.pids, and the next
// start on that directory stops those still running, once the edge that started them is gone.
//
// Linux only (/proc): a process is named by its pid and its start time, so a pid reused since by
// another process is never touched. Elsewhere nothing is recorded and nothing stopped.
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writePrivateFile } from "../../config/private-fs.ts";

type Proc = { pid: number; start: string };
type Recorded = { edge: Proc; workerd: Proc[] };

const FILE = "workerd.pids";

/** The command name, parent and start time (clock ticks since boot) of a live process. */
function stat(pid: number): { comm: string; ppid: number; state: string; start: string } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ")".
  const close = text.lastIndexOf(")");
  const rest = text.slice(close + 2).split(" ");
  return { comm: text.slice(text.indexOf("(") + 1, close), state: rest[0] ?? "", ppid: Number(rest[1]), start: rest[19] ?? "" };
}

const alive = (p: Proc) => {
  const s = stat(p.pid);
  return s !== undefined && s.start === p.start && s.state !== "Z";
};

/**
 * Whether a killed process may still hold its files (the region ports above all). A multithreaded
 * process's main thread shows as a zombie while its other threads are still exiting, and those hold
 * the shared file table, listening sockets included, until the last of them is gone: starting the
 * edge then met EADDRINUSE on the port the dying workerd still held. Done once only the main thread
 * is left in /proc/<pid>/task (every other thread has closed its files), or the pid is gone.
 */
function holdsFiles(p: Proc): boolean {
  const s = stat(p.pid);
  if (s === undefined || s.start !== p.start) return false;
  if (s.state !== "Z") return true;
  try {
    return readdirSync(`/proc/${p.pid}/task`).length > 1;
  } catch {
    return false;
  }
}

/** This process's workerd children now (none where there is no /proc). */
export function workerdChildren(): Proc[] {
  if (!existsSync("/proc/self/stat")) return [];
  const out: Proc[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const s = stat(Number(name));
    if (s && s.ppid === process.pid && s.comm === "workerd") out.push({ pid: Number(name), start: s.start });
  }
  return out;
}

/** Records the workerd processes this edge started (those not in `before`) for the next start. */
export function recordWorkerd(dataDir: string, before: Proc[]): void {
  const self = stat(process.pid);
  if (!self) return;
  const known = new Set(before.map((p) => p.pid));
  const recorded: Recorded = { edge: { pid: process.pid, start: self.start }, workerd: workerdChildren().filter((p) => !known.has(p.pid)) };
  writePrivateFile(join(dataDir, FILE), JSON.stringify(recorded) + "\n");
}

/** Forgets them (a clean close stopped them). */
export function forgetWorkerd(dataDir: string): void {
  rmSync(join(dataDir, FILE), { force: true });
}

/**
 * The pid of the edge that recorded `dataDir`'s workerd processes, when it still runs (the same
 * process: pid and start time) and so does at least one of them: an edge serving that directory,
 * whatever its edge.json says (in-use.ts asks when that file is damaged or missing). Undefined when
 * nothing is recorded, the file is unreadable, or that edge is gone.
 */
export function recordedEdgeRunning(dataDir: string): number | undefined {
  let recorded: Recorded;
  try {
    recorded = JSON.parse(readFileSync(join(dataDir, FILE), "utf8")) as Recorded;
  } catch {
    return undefined;
  }
  if (!recorded?.edge || !Array.isArray(recorded.workerd) || !alive(recorded.edge)) return undefined;
  return recorded.workerd.some((p) => alive(p) && stat(p.pid)?.comm === "workerd") ? recorded.edge.pid : undefined;
}

/**
 * Stops the workerd processes a previous edge on `dataDir` recorded, if that edge is gone and they
 * still run; waits (up to 5 s) until they have exited and freed their ports. Returns how many.
 */
export async function stopLeftoverWorkerd(dataDir: string, log: (line: string) => void): Promise<number> {
  let recorded: Recorded;
  try {
    recorded = JSON.parse(readFileSync(join(dataDir, FILE), "utf8")) as Recorded;
  } catch {
    return 0; // none recorded (a first start, a clean close, not Linux) or unreadable: nothing to go on
  }
  if (!recorded?.edge || !Array.isArray(recorded.workerd) || alive(recorded.edge)) return 0;
  const left = recorded.workerd.filter((p) => alive(p) && stat(p.pid)?.comm === "workerd");
  for (const p of left) {
    try {
      process.kill(p.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + 5_000;
  while (left.some(holdsFiles) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  if (left.length > 0)
    log(
      `local-edge: stopped ${left.length} workerd process(es) (pid ${left.map((p) => p.pid).join(", ")}) left running by the edge (pid ${recorded.edge.pid}) that last ran on ${dataDir} and was killed`,
    );
  return left.length;
}
