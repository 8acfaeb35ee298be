// One daemon per data directory. A second one (a second `npm start` with --port 0, `cbo daemon`
// beside `cbo up`) would share the first's SQLite store, vault and audit chain (under `cbo up`, the
// local edge's files and workerd storage too) and write its own daemon.json over the first's, so
// every CLI command would lose the first daemon. Refused before anything is opened or written.
// The running daemon is known by <data>/daemon.json: its pid still alive and its URL answering
// GET /v1/health. A file left by a daemon that crashed or was killed (its pid gone, or reused by a
// process that does not answer there) is no daemon, and the start goes on.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as z from "zod";
import { CboError } from "../kit/errors.ts";
import { processAlive } from "../config/process-alive.ts";

const DaemonFileSchema = z.object({ url: z.string(), pid: z.number().int().positive() });
const HEALTH_TIMEOUT_MS = 2_000;

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(new URL("/v1/health", url), { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
    const body = (await res.json().catch(() => undefined)) as { ok?: unknown } | undefined;
    return res.ok && body?.ok === true;
  } catch {
    return false;
  }
}

/** The daemon serving `dataDir` now ({url, pid}), or undefined when none does. */
export async function daemonServing(dataDir: string): Promise<{ url: string; pid: number } | undefined> {
  let text: string;
  try {
    text = readFileSync(join(dataDir, "daemon.json"), "utf8");
  } catch {
    return undefined;
  }
  let parsed: z.infer<typeof DaemonFileSchema>;
  try {
    parsed = DaemonFileSchema.parse(JSON.parse(text));
  } catch {
    return undefined;
  }
  if (!processAlive(parsed.pid)) return undefined;
  return (await answers(parsed.url)) ? parsed : undefined;
}

/** Throws ERR_CONFLICT when another daemon serves `dataDir`, naming it and what to do. */
export async function refuseDataDirInUse(dataDir: string): Promise<void> {
  const running = await daemonServing(dataDir);
  if (!running) return;
  throw new CboError("ERR_CONFLICT", `A daemon already runs on the data directory ${dataDir} (pid ${running.pid}, ${running.url}).`, {
    details: { dataDir, pid: running.pid, url: running.url },
    hint:
      `use that one (cbo status, or its dashboard at ${running.url}/ui/), or stop it first (Ctrl-C where it runs, or kill ${running.pid}); ` +
      "a second orchestrator needs a data directory of its own (--data DIR)",
  });
}
