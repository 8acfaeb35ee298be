// `cbo events [--follow] [--after N] [--release ID] [--limit N]`: the event log. Without --follow,
// one page (GET /v1/events): the newest events, or with --after N those after #N; with it, the same
// page, then the live stream (resumable with --after) until Ctrl-C. Always oldest first.
import { parse, intFlag } from "../args.ts";
import type { AnyEvent } from "../../contract/index.ts";
import { DAEMON_FLAGS, connect, positionalsAs, printUsage, stdoutPaint } from "../daemon-flags.ts";
import { formatEventLine } from "../format-event.ts";
import { printJsonLine } from "../output.ts";
import { usageOf } from "../usage/index.ts";

export const EVENTS_USAGE = usageOf("events");

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
  // --after N pages forward from #N; without it, the newest events (`cbo events --limit 8`: the last 8).
  const after = intFlag(values.after, "after", 0, Number.MAX_SAFE_INTEGER);
  const limit = intFlag(values.limit, "limit", 1, 10_000);
  const client = connect(values);
  const paint = stdoutPaint();
  const print = (e: AnyEvent) => (values.json ? printJsonLine(e) : process.stdout.write(formatEventLine(e, paint) + "\n"));
  const release = values.release ? { release: values.release } : {};
  /** One page, oldest first; `newest`: the last ones (asked newest first, shown oldest first). */
  const page = async (q: { after?: number; release?: string; limit?: number }, newest: boolean) =>
    newest ? (await client.events({ ...q, order: "desc" })).items.reverse() : (await client.events(q)).items;

  if (!values.follow) {
    const events = await page({ after: after ?? 0, ...release, ...(limit ? { limit } : {}) }, after === undefined);
    if (values.json) printJsonLine(events);
    else if (events.length === 0) process.stdout.write(after === undefined ? "no events yet\n" : `no events after #${after}\n`);
    else events.forEach(print);
    return 0;
  }

  // Without --after: the newest events first (as above), then live from the last one shown.
  let from = after;
  if (from === undefined) {
    const recent = await page({ ...release, ...(limit ? { limit } : {}) }, true);
    recent.forEach(print);
    from = recent.at(-1)?.id ?? (await page({ limit: 1 }, true)).at(-1)?.id ?? 0;
  }
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    for await (const e of client.followEvents(from, { signal: stop.signal })) {
      if (values.release && e.release_id !== values.release) continue;
      print(e);
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  return 0;
}
