// One local edge per directory. A second one (`cbo edge --port 0` beside `npm start`) would share
// the first's edge.sqlite, D1 files and workerd storage, and write its own edge.json over the
// first's, so `cbo daemon --edge`, `cbo edge fault` and `cbo edge trigger` would lose the first.
// Refused before anything is opened or written. The running edge is known by <dir>/edge.json: its
// pid alive and its API answering (any HTTP answer). A file left by an edge that is gone is none.
// An edge.json damaged (cut off, emptied, edited) while its edge runs would hide that edge, so the
// edge's processes recorded in <dir>/workerd.pids (runtime/leftover-workerd.ts: the edge and its
// workerd, by pid and start time) are asked too; a live edge found there is named by its pid.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as z from "zod";
import { CboError } from "../kit/errors.ts";
import { processAlive } from "../config/process-alive.ts";
import { recordedEdgeRunning } from "./runtime/leftover-workerd.ts";

const EdgeFileSchema = z.looseObject({ apiUrl: z.string(), pid: z.number().int().positive() });
const ANSWER_TIMEOUT_MS = 2_000;

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS) });
    await res.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

/** The edge serving `dir` now ({apiUrl, pid}), or undefined when none does. */
export async function edgeServing(dir: string): Promise<{ apiUrl: string; pid: number } | undefined> {
  let parsed: z.infer<typeof EdgeFileSchema>;
  try {
    parsed = EdgeFileSchema.parse(JSON.parse(readFileSync(join(dir, "edge.json"), "utf8")));
  } catch {
    return undefined;
  }
  if (!processAlive(parsed.pid)) return undefined;
  return (await answers(parsed.apiUrl)) ? { apiUrl: parsed.apiUrl, pid: parsed.pid } : undefined;
}

/** Throws ERR_CONFLICT when another local edge serves `dir`, naming it and what to do. */
export async function refuseEdgeDirInUse(dir: string): Promise<void> {
  const running = await edgeServing(dir);
  if (!running) {
    const pid = recordedEdgeRunning(dir);
    if (pid === undefined) return;
    throw new CboError(
      "ERR_CONFLICT",
      `A local edge already runs on ${dir} (pid ${pid}), though its ${join(dir, "edge.json")} is damaged or missing.`,
      {
        details: { dir, pid },
        hint:
          `stop it first (Ctrl-C where it runs, or kill ${pid}) and start it again (it writes edge.json anew); ` +
          "a second edge needs a directory of its own (--edge DIR)",
      },
    );
  }
  throw new CboError("ERR_CONFLICT", `A local edge already runs on ${dir} (pid ${running.pid}, API ${running.apiUrl}).`, {
    details: { dir, pid: running.pid, apiUrl: running.apiUrl },
    hint:
      `use that one (\`cbo edge fault|trigger --edge ${dir}\` reach it; one started alone by \`cbo edge\` takes a daemon with ` +
      `\`cbo daemon --edge ${dir}\`), or stop it first (Ctrl-C where it runs, or kill ${running.pid}); ` +
      "a second edge needs a directory of its own (--edge DIR)",
  });
}
