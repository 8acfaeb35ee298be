// `cbo logs <worker> [--target T] [--follow] [--status ok|error] [--search S] [--limit N] [--json]`:
// the Workers' logs from every target, merged and labelled. Without --follow, the lines the daemon
// kept (GET /v1/logs); with it, live lines from every target through the daemon's log stream until
// Ctrl-C (the daemon holds the tail sessions: the Cloudflare token stays on its host).
import { intFlag, parse } from "../args.ts";
import type { LogLine, LogVerdict } from "../../contract/index.ts";
import { CboError } from "../../kit/errors.ts";
import { DAEMON_FLAGS, connect, positionalsAs, printUsage, stdoutPaint } from "../daemon-flags.ts";
import { formatLogLine } from "../format-log.ts";
import { printJsonLine } from "../output.ts";
import { usageOf } from "../usage/index.ts";

export const LOGS_USAGE = usageOf("logs");

export async function logsCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      ...DAEMON_FLAGS,
      target: { type: "string" },
      follow: { type: "boolean", short: "f" },
      status: { type: "string" },
      search: { type: "string" },
      limit: { type: "string" },
    },
    LOGS_USAGE,
  );
  if (values.help) return printUsage(LOGS_USAGE);
  const { worker } = positionalsAs(positionals, ["worker"], LOGS_USAGE);
  if (values.status !== undefined && values.status !== "ok" && values.status !== "error")
    throw new CboError("ERR_USAGE", `--status takes ok or error (got "${values.status}").`, { hint: LOGS_USAGE });
  const limit = intFlag(values.limit, "limit", 1, 1000);
  const filter = {
    worker,
    ...(values.target ? { target: values.target } : {}),
    ...(values.status ? { status: values.status as LogVerdict } : {}),
    ...(values.search ? { search: values.search } : {}),
  };
  const client = connect(values);
  const paint = stdoutPaint();
  const print = (l: LogLine) => (values.json ? printJsonLine(l) : process.stdout.write(`${formatLogLine(l, paint)}\n`));

  if (!values.follow) {
    const lines = await client.logs({ ...filter, ...(limit ? { limit } : {}) });
    if (values.json) printJsonLine(lines);
    else if (lines.length === 0) process.stdout.write(`no kept log lines of ${worker}${values.target ? ` on ${values.target}` : ""}\n`);
    else lines.forEach(print);
    return 0;
  }

  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    let first = true;
    for await (const l of client.followLogs(filter, {
      signal: stop.signal,
      onOpen: () => {
        // On stderr, so that --json output stays one line per log line.
        if (first)
          process.stderr.write(`following ${worker}${values.target ? ` on ${values.target}` : " on every target"} (Ctrl-C to stop)\n`);
        first = false;
      },
      onLost: (e) => process.stderr.write(`lost the daemon (${e.code}); reconnecting…\n`),
    })) {
      print(l);
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  return 0;
}
