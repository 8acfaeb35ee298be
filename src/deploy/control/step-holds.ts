// Where a target's step loop (apply.ts) meets the control board: before each step it holds while
// the release is paused; after a step whose gate passed it waits at the `pause:` step that follows
// it, if the plan has one. Each wait is told in the events (release.waiting, release.wait.ended);
// an abort during a wait rolls back like any abort (the signal carries the ReleaseStop).
import type { WaitKind } from "../../contract/index.ts";
import type { ApplyContext } from "../apply-context.ts";
import type { WaitHooks } from "./board.ts";

function hooks(ctx: ApplyContext, target: string, percent: number, reason: (kind: WaitKind) => string): WaitHooks {
  const { rec } = ctx;
  return {
    started(kind, until) {
      rec.tryTo(() => rec.emit("release.waiting", target, { kind, percent, until, reason: reason(kind) }));
      rec.log(`${target}: waiting (${reason(kind)})`);
    },
    ended(kind, waitedMs, by) {
      rec.tryTo(() => rec.emit("release.wait.ended", target, { kind, percent, by, waitedMs }));
    },
  };
}

/** Before a step that would serve more of the new version: wait while the release is paused. */
export async function holdBeforeStep(ctx: ApplyContext, target: string, servingPercent: number, signal: AbortSignal): Promise<void> {
  if (!ctx.control) return;
  await ctx.control.holdWhilePaused(
    ctx.release.id,
    target,
    servingPercent,
    signal,
    hooks(ctx, target, servingPercent, () => `paused: cbo release resume ${ctx.release.id}`),
  );
}

/** After the gate of `percent` passed: the `pause:` step that follows it in the plan, if any. */
export async function pauseAfterStep(ctx: ApplyContext, target: string, percent: number, signal: AbortSignal): Promise<void> {
  const pauses = ctx.plan.pauses ?? [];
  const index = pauses.findIndex((p) => p.after === percent);
  if (!ctx.control || index < 0) return;
  const pause = pauses[index]!.pause;
  const wave = ctx.plan.waves.findIndex((w) => w.includes(target));
  const ms = pause === "approve" ? undefined : pause.ms;
  await ctx.control.pauseStep(
    ctx.release.id,
    { target, percent, key: `${wave}:${index}`, ...(ms === undefined ? {} : { ms }) },
    signal,
    hooks(ctx, target, percent, (kind) =>
      kind === "approval" ? `approval: cbo release promote ${ctx.release.id}` : `timed pause of ${Math.round((ms ?? 0) / 1000)} s`,
    ),
  );
}
