// `cbo edge`: run the local edge until stopped. `cbo edge fault …`: inject or clear a fault in a
// running edge through its admin endpoint, and `cbo edge trigger …` fires a Worker's cron now
// (neither needs Miniflare: the edge is loaded only to run).
//
// Which directory: `--edge DIR` is the edge's own directory on every command that names one (here,
// and `cbo daemon --edge`); `--data DIR` is the data directory as everywhere else, whose edge is
// <DIR>/edge (where `cbo up --data DIR` keeps it). Older command lines said `--data` for the edge's
// own directory: still taken, with a warning, when DIR is one (it holds edge.json), and on
// `cbo edge` itself, where deployment kits and scripts start the edge that way.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { CboError } from "../../kit/errors.ts";
import { takeSecretEnv } from "../../config/child-env.ts";
import { readEdgeDir } from "../../config/edge-files.ts";
import type { Fault } from "../../local-edge/types.ts";
import { parse, portFlag, regionsFlag, WHOLE_NUMBER } from "../args.ts";
import { DEFAULT_EDGE_DATA, DEFAULT_EDGE_PORT } from "../defaults.ts";
import { printJsonLine, untilSignal } from "../output.ts";
import { usageOf } from "../usage/index.ts";

export const EDGE_USAGE = usageOf("edge");
const FAULT_USAGE = usageOf("edge", "fault");

const DIR_FLAGS = { edge: { type: "string" }, data: { type: "string" } } as const;
const warn = (line: string) => process.stderr.write(`cbo: warning: ${line}\n`);

function bothDirs(flags: { edge?: string | undefined; data?: string | undefined }, usage: string): void {
  if (flags.edge !== undefined && flags.data !== undefined)
    throw new CboError("ERR_USAGE", "--edge names the edge's directory and --data the data directory holding it: give one.", {
      hint: usage,
    });
}

/** The directory `cbo edge` runs the edge in: --edge, else --data (the old name, warned), else .cbo/edge. */
export function runDir(flags: { edge?: string | undefined; data?: string | undefined }, say: (line: string) => void = warn): string {
  bothDirs(flags, EDGE_USAGE);
  if (flags.data !== undefined)
    say(`--data on \`cbo edge\` names the edge's own directory; say --edge ${flags.data} (--data is the data directory everywhere else)`);
  return resolve(flags.edge ?? flags.data ?? DEFAULT_EDGE_DATA);
}

/** The directory of the running edge `cbo edge fault|trigger` talk to: --edge, else <data>/edge (see the top). */
export function runningDir(flags: { edge?: string | undefined; data?: string | undefined }, say: (line: string) => void = warn): string {
  bothDirs(flags, EDGE_USAGE);
  if (flags.edge !== undefined) return resolve(flags.edge);
  if (flags.data === undefined) return resolve(DEFAULT_EDGE_DATA);
  const dir = resolve(flags.data);
  if (existsSync(join(dir, "edge.json")) && !existsSync(join(dir, "edge", "edge.json"))) {
    say(`${dir} is an edge's own directory: say --edge ${flags.data} (--data DIR names the data directory, whose edge is DIR/edge)`);
    return dir;
  }
  return join(dir, "edge");
}

export async function edgeCommand(args: string[]): Promise<number> {
  if (args[0] === "fault") return faultCommand(args.slice(1));
  if (args[0] === "trigger") return triggerCommand(args.slice(1));
  const { values, positionals } = parse(
    args,
    { port: { type: "string" }, ...DIR_FLAGS, regions: { type: "string" }, "no-crons": { type: "boolean" } },
    EDGE_USAGE,
  );
  if (positionals.length > 0) throw new CboError("ERR_USAGE", `Unknown argument "${positionals[0]}".`, { hint: EDGE_USAGE });
  const port = portFlag(values.port, "port") ?? DEFAULT_EDGE_PORT;
  const dataDir = runDir(values);
  const regions = regionsFlag(values.regions);
  // The edge needs none of the daemon's secrets; its workerd children must not inherit them.
  takeSecretEnv();
  const { startLocalEdge } = await import("../../local-edge/index.ts");
  // Due cron triggers fire while `cbo edge` runs, as at Cloudflare, unless --no-crons.
  const edge = await startLocalEdge({ port, dataDir, ...(regions ? { regions } : {}), crons: !values["no-crons"] });
  printJsonLine({
    apiUrl: edge.apiUrl,
    adminUrl: edge.adminUrl,
    tokenFile: join(dataDir, "token"),
    regions: edge.regions.map((r) => ({
      name: r.name,
      accountId: r.accountId,
      publicUrl: r.publicUrl,
      workerUrl: `http://<worker>.localhost:${r.port}/`,
    })),
  });
  await untilSignal();
  await edge.close();
  return 0;
}

/** Parses `outage | latency <ms> | errors <rate> | ratelimit <n>/<seconds> | clear`. Null = clear. */
export function parseFault(words: string[]): Fault | null {
  const [kind, arg] = words;
  const needArg = (what: string) => {
    if (arg === undefined) throw new CboError("ERR_USAGE", `"${kind}" needs ${what}.`, { hint: FAULT_USAGE });
    return arg;
  };
  switch (kind) {
    case "clear":
      return null;
    case "outage":
      return { outage: true };
    case "latency": {
      const text = needArg("a delay in ms");
      const ms = WHOLE_NUMBER.test(text) ? Number(text) : Number.NaN;
      if (!Number.isInteger(ms) || ms < 0 || ms > 60_000)
        throw new CboError("ERR_USAGE", "latency must be a whole number of ms from 0 to 60000.");
      return { latencyMs: ms };
    }
    case "errors": {
      const text = needArg("a rate between 0 and 1");
      // A decimal as written (0.3, .3, 1): Number() alone would take "" as 0, i.e. no fault at all.
      const rate = /^(\d+(\.\d*)?|\.\d+)$/.test(text) ? Number(text) : Number.NaN;
      if (!Number.isFinite(rate) || rate < 0 || rate > 1)
        throw new CboError("ERR_USAGE", "errors takes a rate between 0 and 1, e.g. 0.3 for 30%.");
      return { errorRate: rate };
    }
    case "ratelimit": {
      const m = /^(\d+)\/(\d+)s?$/.exec(needArg("<n>/<seconds>, e.g. 10/60"));
      if (!m || Number(m[2]) < 1 || Number(m[2]) > 3600)
        throw new CboError("ERR_USAGE", "ratelimit takes <n>/<seconds>, e.g. 10/60 (1 to 3600 seconds).");
      return { rateLimit: { limit: Number(m[1]), windowSec: Number(m[2]) } };
    }
    default:
      throw new CboError("ERR_USAGE", kind === undefined ? "Name a fault." : `Unknown fault "${kind}".`, { hint: FAULT_USAGE });
  }
}

/** The admin URL and token of the edge running in `dataDir`. */
function runningEdge(dataDir: string): { adminUrl: string; token: string } {
  const { adminUrl, token } = readEdgeDir(
    dataDir,
    "Start one with `cbo edge` (or `cbo up`), or name its directory with --edge DIR (or the data directory of `cbo up --data DIR` with --data DIR).",
  );
  if (adminUrl === undefined)
    throw new CboError("ERR_VALIDATION", `The local edge's file ${join(dataDir, "edge.json")} is damaged (no adminUrl).`, {
      hint: `restart the edge on ${dataDir} (stop it if it still runs, then \`cbo edge --edge ${dataDir}\`, or \`cbo up\`): it rewrites the file as it starts`,
    });
  return { adminUrl, token };
}

async function triggerCommand(args: string[]): Promise<number> {
  const usage = usageOf("edge", "trigger");
  const { values, positionals } = parse(args, { ...DIR_FLAGS, cron: { type: "string" } }, usage);
  const [region, worker, ...rest] = positionals;
  if (!region || !worker)
    throw new CboError("ERR_USAGE", 'Name the region and the Worker, e.g. `cbo edge trigger eu api --cron "*/5 * * * *"`.', {
      hint: usage,
    });
  if (rest.length > 0)
    throw new CboError("ERR_USAGE", `Unknown argument "${rest[0]}".`, { hint: 'Quote the cron expression: --cron "*/5 * * * *".' });
  const { adminUrl, token } = runningEdge(runningDir(values));
  let res: Response;
  try {
    res = await fetch(`${adminUrl}/trigger/${encodeURIComponent(region)}/${encodeURIComponent(worker)}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(values.cron === undefined ? {} : { cron: values.cron }),
    });
  } catch (e) {
    throw new CboError("ERR_IO", `The local edge at ${adminUrl} is not answering.`, { hint: "Is `cbo edge` still running?", cause: e });
  }
  const body = (await res.json().catch(() => ({}))) as {
    errors?: Array<{ message: string }>;
    cron?: string;
    outcome?: string;
    error?: string;
  };
  if (!res.ok) {
    const code =
      res.status === 404
        ? "ERR_NOT_FOUND"
        : res.status === 409
          ? "ERR_CONFLICT"
          : res.status >= 500
            ? "ERR_EDGE_RUNTIME"
            : "ERR_VALIDATION";
    throw new CboError(code, body.errors?.[0]?.message ?? `The edge answered ${res.status}.`);
  }
  if (values.json) printJsonLine(body);
  else process.stdout.write(`fired "${body.cron}" on ${worker} in ${region}: ${body.outcome}\n`);
  if (body.outcome !== "ok") {
    throw new CboError(
      "ERR_EDGE_RUNTIME",
      `The scheduled() handler of ${worker} did not finish ok (outcome: ${body.outcome}${body.error ? `: ${body.error}` : ""}).`,
      {
        hint: "The Worker's console output and exceptions are in the edge's log (stderr of `cbo edge`).",
      },
    );
  }
  return 0;
}

async function faultCommand(args: string[]): Promise<number> {
  const usage = FAULT_USAGE;
  const { values, positionals } = parse(args, DIR_FLAGS, usage);
  const [region, ...words] = positionals;
  if (!region) throw new CboError("ERR_USAGE", "Name the region, e.g. `cbo edge fault eu outage`.", { hint: usage });
  const fault = parseFault(words);
  const { adminUrl, token } = runningEdge(runningDir(values));
  let res: Response;
  try {
    res = await fetch(`${adminUrl}/faults/${encodeURIComponent(region)}`, {
      method: fault === null ? "DELETE" : "PUT",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      ...(fault === null ? {} : { body: JSON.stringify(fault) }),
    });
  } catch (e) {
    throw new CboError("ERR_IO", `The local edge at ${adminUrl} is not answering.`, { hint: "Is `cbo edge` still running?", cause: e });
  }
  const body = (await res.json().catch(() => ({}))) as { errors?: Array<{ message: string }> };
  if (!res.ok)
    throw new CboError(
      res.status === 404 ? "ERR_NOT_FOUND" : "ERR_VALIDATION",
      body.errors?.[0]?.message ?? `The edge answered ${res.status}.`,
    );
  if (values.json) printJsonLine(body);
  else
    process.stdout.write(
      fault === null ? `cleared faults in ${region}\n` : `${region}: ${JSON.stringify((body as { fault?: unknown }).fault)}\n`,
    );
  return 0;
}
