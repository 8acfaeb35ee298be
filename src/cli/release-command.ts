// `cbo release <worker>` and `cbo rollback <worker> [--to <release|version>]`: start it through
// the API, then follow its events live until it ends. Exit 0 when it succeeded, 1 when the
// version failed a gate and was rolled back (or it was aborted), 2 when the system failed.
import type { ApiClient } from "./api-client.ts";
import { PlanSchema, type ApiEvent, type ApiRelease } from "./api-schemas.ts";
import { parse } from "./args.ts";
import { DAEMON_FLAGS, DAEMON_FLAGS_USAGE, connect, positionalsAs, printUsage, stdoutPaint } from "./daemon-flags.ts";
import { describeEvent } from "./describe-event.ts";
import { TERMINAL_STATUSES, exitCodeFor, followRelease, type FollowResult } from "./follow-release.ts";
import { printJsonLine } from "./output.ts";
import { clock, percent, type Paint } from "./table.ts";

export const RELEASE_USAGE = `usage: cbo release <worker> [--no-wait] ${DAEMON_FLAGS_USAGE}`;
export const ROLLBACK_USAGE = `usage: cbo rollback <worker> [--to <release id|version id>] [--no-wait] ${DAEMON_FLAGS_USAGE}`;

/** First line of the live view: what is being released where, from the plan stored with it. */
export function startLine(r: ApiRelease): string {
  const plan = PlanSchema.safeParse(r.plan);
  if (r.kind === "rollback") {
    const to = typeof r.plan?.resolved === "string" ? ` to ${r.plan.resolved}` : "";
    return `rollback ${r.id} of ${r.worker}${to} started`;
  }
  if (!plan.success) return `release ${r.id} of ${r.worker} started`;
  const waves = plan.data.waves.map((w) => `[${w.join(", ")}]`).join(" -> ");
  return `release ${r.id} of ${r.worker} started: waves ${waves}, steps ${plan.data.steps.map(percent).join(" -> ")}`;
}

export function progressLine(e: ApiEvent, paint: Paint): string {
  return `  ${paint.dim(clock(e.at))}  ${(e.target ?? "").padEnd(6)} ${describeEvent(e, paint)}`;
}

export function endLine(r: ApiRelease, startedAt: number, paint: Paint, now: number = Date.now()): string {
  const secs = ((now - startedAt) / 1000).toFixed(1);
  const what = r.kind === "rollback" ? "rollback" : "release";
  const colour = r.status === "succeeded" ? paint.ok : r.status === "rolled_back" || r.status === "aborted" ? paint.warn : paint.bad;
  return `${what} ${r.id} ${colour(r.status.replace("_", " "))} after ${secs} s${r.reason ? `: ${r.reason}` : ""}`;
}

async function startAndFollow(start: () => Promise<ApiRelease>, client: ApiClient, values: { json?: boolean | undefined; "no-wait"?: boolean | undefined }): Promise<number> {
  const startedAt = Date.now();
  const release = await start();
  if (values["no-wait"]) {
    if (values.json) printJsonLine({ release });
    else process.stdout.write(`${startLine(release)}\nfollow it with: cbo events --follow --release ${release.id}\n`);
    return 0;
  }
  const paint = stdoutPaint();
  if (!values.json) process.stdout.write(startLine(release) + "\n");
  // Ctrl-C stops following, not the release: it goes on in the daemon (exit 2: not finished here).
  const detach = new AbortController();
  const onSignal = () => detach.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  let result: FollowResult;
  try {
    result = await followRelease(client, release, {
      signal: detach.signal,
      ...(values.json ? {} : { onEvent: (e: ApiEvent) => process.stdout.write(progressLine(e, paint) + "\n") }),
    });
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  if (values.json) printJsonLine(result);
  else process.stdout.write(endLine(result.release, startedAt, paint) + "\n");
  if (detach.signal.aborted && !TERMINAL_STATUSES.has(result.release.status)) {
    process.stderr.write(`${release.kind} ${release.id} goes on in the daemon; follow it with: cbo events --follow --release ${release.id}\n`);
  }
  return exitCodeFor(result.release, result.events);
}

export async function releaseCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { ...DAEMON_FLAGS, "no-wait": { type: "boolean" } }, RELEASE_USAGE);
  if (values.help) return printUsage(RELEASE_USAGE);
  const { worker } = positionalsAs(positionals, ["worker"], RELEASE_USAGE);
  const client = connect(values);
  return startAndFollow(() => client.release(worker), client, values);
}

export async function rollbackCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { ...DAEMON_FLAGS, to: { type: "string" }, "no-wait": { type: "boolean" } }, ROLLBACK_USAGE);
  if (values.help) return printUsage(ROLLBACK_USAGE);
  const { worker } = positionalsAs(positionals, ["worker"], ROLLBACK_USAGE);
  const client = connect(values);
  return startAndFollow(() => client.rollback(worker, values.to), client, values);
}
