// A daemon that does not answer because it is no longer running: <data>/daemon.json (written by
// every start, left in place by every stop) names its pid, and that process is gone, stopped or
// killed. Said so, with how to start it again on the same directory, instead of the bare "not
// answering; start it with `cbo up`", which for an operator running `cbo daemon` next to `cbo edge`
// names the wrong command. Only when daemon.json names the URL that did not answer.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as z from "zod";
import { CboError } from "../kit/errors.ts";
import { alive } from "./starting.ts";
import { DEFAULT_DAEMON_PORT, DEFAULT_EDGE_PORT } from "./defaults.ts";

const DaemonFileSchema = z.looseObject({ url: z.string(), pid: z.number().int().positive(), config: z.string().optional() });
const EdgeFileSchema = z.looseObject({ apiUrl: z.string() });

const portOf = (url: string): number | undefined => {
  try {
    const u = new URL(url);
    return u.port === "" ? undefined : Number(u.port);
  } catch {
    return undefined;
  }
};

/**
 * The command lines that start it again as it ran: the spec it read (daemon.json names it; without
 * it `cbo up` in another directory would take ./orchestrator.yaml or the bundled example fleet) and
 * the ports it listened on when they were not the defaults (the edge's from <data>/edge/edge.json).
 */
function startAgain(dataDir: string, last: z.infer<typeof DaemonFileSchema>): { daemon: string; up: string } {
  const config = last.config ? ` --config ${last.config}` : "";
  const port = portOf(last.url);
  const daemonPort = port !== undefined && port !== DEFAULT_DAEMON_PORT ? ` --port ${port}` : "";
  let edgePort = "";
  try {
    const edge = portOf(EdgeFileSchema.parse(JSON.parse(readFileSync(join(dataDir, "edge", "edge.json"), "utf8"))).apiUrl);
    if (edge !== undefined && edge !== DEFAULT_EDGE_PORT) edgePort = ` --edge-port ${edge}`;
  } catch {
    // no edge of its own in <data>/edge: `cbo up` would start one on the default ports
  }
  return { daemon: `cbo daemon --data ${dataDir}${config}${daemonPort}`, up: `cbo up --data ${dataDir}${config}${daemonPort}${edgePort}` };
}

const sameOrigin = (a: string, b: string) => {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
};

/** ERR_IO saying the daemon of `dataDir` is gone (its pid no longer runs), or undefined when that is not known. */
export function goneDaemonError(dataDir: string, url: string, cause?: unknown): CboError | undefined {
  const file = join(dataDir, "daemon.json");
  let last: z.infer<typeof DaemonFileSchema>;
  try {
    last = DaemonFileSchema.parse(JSON.parse(readFileSync(file, "utf8")));
  } catch {
    return undefined;
  }
  if (!sameOrigin(last.url, url) || alive(last.pid)) return undefined;
  const again = startAgain(dataDir, last);
  return new CboError(
    "ERR_IO",
    `The daemon at ${url} is not answering: the daemon that last ran on ${dataDir} (pid ${last.pid}) is no longer running (stopped, killed or crashed).`,
    {
      details: { dataDir, pid: last.pid },
      hint:
        `start it again on ${dataDir} the way it was started (\`${again.daemon}\` beside its \`cbo edge\`, or \`${again.up}\`); ` +
        "a release it was running is finished or rolled back as it starts, and `cbo status` and `cbo events` then say which",
      ...(cause === undefined ? {} : { cause }),
    },
  );
}
