// Following a started release or rollback (`cbo release`, `cbo rollback`, `cbo keys rotate --wait`,
// `cbo secrets deliver --wait`): a start line, each event, an end line, and the outcome's exit
// code (exit-codes.ts), whoever finished it. Ctrl-C stops following, not the release: it goes on
// in the daemon. A daemon that goes away meanwhile is waited for (its next start finishes the
// release); one that stays away longer than the follow waits is a system error: outcome unknown.
import type { DaemonClient } from "../client/index.ts";
import { isTerminal, ReleasePlanSchema, type AnyEvent, type Release } from "../contract/index.ts";
import type { CliIo } from "./cli-io.ts";
import { describeEvent } from "./describe-event.ts";
import { CboError, toCboError } from "../kit/errors.ts";
import { DAEMON_AWAY_GIVE_UP_MS, exitCodeFor, followRelease, type FollowResult } from "./follow-release.ts";
import { clock, createPaint, percent, useColour, type Paint } from "./table.ts";
import { asInvoked } from "./invocation.ts";

/** What the first line needs of a stored plan (read alone: the rest of the plan may be of another version). */
const PlanHead = ReleasePlanSchema.pick({ waves: true, steps: true, warnings: true });

/** First line of the live view: what is being released where, from the plan stored with it. */
export function startLine(r: Release): string {
  const plan = PlanHead.safeParse(r.plan);
  if (r.kind === "rollback") {
    const to = typeof r.plan.resolved === "string" ? ` to ${r.plan.resolved}` : "";
    return `rollback ${r.id} of ${r.worker}${to} started`;
  }
  if (r.status === "unchanged") return `release ${r.id} of ${r.worker}: nothing to do`;
  if (!plan.success) return `release ${r.id} of ${r.worker} started`;
  const waves = plan.data.waves.map((w) => `[${w.join(", ")}]`).join(" -> ");
  // What wrangler deploy would have warned about, said where the release starts.
  const warnings = (plan.data.warnings ?? []).map((w) => `\nwarning: ${w}`).join("");
  return `release ${r.id} of ${r.worker} started: waves ${waves}, steps ${plan.data.steps.map(percent).join(" -> ")}${warnings}`;
}

export function progressLine(e: AnyEvent, paint: Paint): string {
  return `  ${paint.dim(clock(e.at))}  ${(e.target ?? "").padEnd(6)} ${describeEvent(e, paint)}`;
}

export function endLine(r: Release, startedAt: number, paint: Paint, now: number = Date.now()): string {
  const secs = ((now - startedAt) / 1000).toFixed(1);
  const what = r.kind === "rollback" ? "rollback" : "release";
  const colour =
    r.status === "succeeded" || r.status === "unchanged"
      ? paint.ok
      : r.status === "rolled_back" || r.status === "aborted"
        ? paint.warn
        : paint.bad;
  return `${what} ${r.id} ${colour(r.status.replace("_", " "))} after ${secs} s${r.reason ? `: ${r.reason}` : ""}`;
}

export type Followed = FollowResult & { code: number };

export async function followStarted(
  client: DaemonClient,
  release: Release,
  io: CliIo,
  opts: { json?: boolean | undefined; giveUpMs?: number },
): Promise<Followed> {
  const startedAt = Date.now();
  const paint = createPaint(useColour(io.stdout));
  if (!opts.json) io.stdout.write(startLine(release) + "\n");
  const detach = new AbortController();
  const onSignal = () => detach.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  let result: FollowResult;
  const giveUpMs = opts.giveUpMs ?? DAEMON_AWAY_GIVE_UP_MS;
  try {
    result = await followRelease(client, release, {
      signal: detach.signal,
      giveUpMs,
      ...(opts.json ? {} : { onEvent: (e: AnyEvent) => io.stdout.write(progressLine(e, paint) + "\n") }),
      onConnection: (state, err) =>
        io.stderr.write(
          state === "lost"
            ? `the daemon is not answering (${err?.message ?? "connection lost"}); waiting up to ${Math.round(giveUpMs / 60_000)} min for it: when it starts again it finishes ${release.kind} ${release.id}\n`
            : `the daemon answers again; following ${release.kind} ${release.id}\n`,
        ),
    });
  } catch (e) {
    const err = toCboError(e);
    if (err.code !== "ERR_IO") throw e;
    if (detach.signal.aborted) {
      io.stderr.write(
        asInvoked(`${release.kind} ${release.id} goes on in the daemon; follow it with: cbo events --follow --release ${release.id}\n`),
      );
      return { release, events: [], code: exitCodeFor(release) };
    }
    throw new CboError("ERR_IO", `Lost the daemon while following ${release.kind} ${release.id}: ${err.message}`, {
      cause: e,
      hint: `its outcome is decided when the daemon runs again (it finishes or rolls back what was started); then: cbo events --follow --release ${release.id}`,
    });
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  if (!opts.json) io.stdout.write(endLine(result.release, startedAt, paint) + "\n");
  if (detach.signal.aborted && !isTerminal(result.release.status)) {
    io.stderr.write(
      asInvoked(`${release.kind} ${release.id} goes on in the daemon; follow it with: cbo events --follow --release ${release.id}\n`),
    );
  }
  return { ...result, code: exitCodeFor(result.release) };
}
