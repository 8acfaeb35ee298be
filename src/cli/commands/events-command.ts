// `cbo events [--follow] [--after N] [--release ID]`: the event log. Without --follow, one page
// (GET /v1/events); with it, the live stream, resumable with --after, until Ctrl-C.
import { parse, intFlag } from "../args.ts";
import type { AnyEvent } from "../../contract/index.ts";
import { DAEMON_FLAGS, DAEMON_FLAGS_USAGE, connect, positionalsAs, printUsage, stdoutPaint } from "../daemon-flags.ts";
import { formatEventLine } from "../format-event.ts";
import { printJsonLine } from "../output.ts";

export const EVENTS_USAGE = `usage: cbo events [--follow] [--after N] [--release ID] [--limit N] ${DAEMON_FLAGS_USAGE}`;

export async function eventsCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      ...DAEMON_FLAGS,
      follow: { type: "boolean", short: "f" },
      after: { type: "string" },
      release: { type: "string" },
      limit: { type: "string" },
    },
    EVENTS_USAGE,
  );
  if (values.help) return printUsage(EVENTS_USAGE);
  positionalsAs(positionals, [], EVENTS_USAGE);
  const after = intFlag(values.after, "after", 0, Number.MAX_SAFE_INTEGER) ?? 0;
  const limit = intFlag(values.limit, "limit", 1, 10_000);
  const client = connect(values);
  const paint = stdoutPaint();
  const print = (e: AnyEvent) => (values.json ? printJsonLine(e) : process.stdout.write(formatEventLine(e, paint) + "\n"));

  if (!values.follow) {
    const { items: events } = await client.events({
      after,
      ...(values.release ? { release: values.release } : {}),
      ...(limit ? { limit } : {}),
    });
    if (values.json) printJsonLine(events);
    else if (events.length === 0) process.stdout.write(`no events after #${after}\n`);
    else events.forEach(print);
    return 0;
  }

  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    for await (const e of client.followEvents(after, { signal: stop.signal })) {
      if (values.release && e.release_id !== values.release) continue;
      print(e);
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  return 0;
}
