// Following a release a tool started or let go on (release, rollback, release_control): poll it
// until it ends, waits for a person, the caller's time is up, or the caller cancels; tell the caller
// how it goes with MCP progress notifications; answer with where it stands.
import * as z from "zod";
import { setTimeout as sleep } from "node:timers/promises";
import { isTerminal, waitPlace, type Release, type ReleaseControl } from "../contract/index.ts";
import { compactRelease, journalLine } from "./compact.ts";
import { done, type ToolContext, type ToolOutcome } from "./tool.ts";

export const Wait = z
  .number()
  .int()
  .min(0)
  .max(600)
  .optional()
  .describe(
    "Seconds to wait for it to end before answering (default 45; 0 answers at once). It answers earlier when the release waits for an approval or is paused. Many clients give up on a call after 60 s unless it sends progress: pass a progressToken to get a notification per journal step and every 3 s between.",
  );

/** Where a followed release stands when the tool answers: ended, held (approval or pause), or still moving. */
type Followed = { release: Release; held?: string };

/**
 * Between two journal steps (a long bake, a timed pause) a progress notification at least this
 * often, saying what the release waits for: a client that resets its request timeout on progress
 * (the SDK's resetTimeoutOnProgress) then keeps waiting for a release longer than its timeout.
 */
const HEARTBEAT_MS = 3000;

/**
 * Polls the release until it ends, waits for a person (an approval step or a pause: nothing moves
 * until someone acts), `waitS` pass, or the caller cancels the call. Each new journal entry is a
 * progress notification, and so is a quiet stretch of HEARTBEAT_MS. Cancelling stops the waiting
 * only: the release goes on (release_control aborts it).
 */
export async function follow(ctx: ToolContext, started: Release, waitS: number): Promise<Followed> {
  const { api, signal } = ctx;
  const until = Date.now() + waitS * 1000;
  let r = started;
  let seen = 0;
  let controlAt = 0;
  let sentAt = Date.now();
  let waits = "";
  while (!isTerminal(r.status) && Date.now() < until && !signal?.aborted) {
    try {
      await sleep(300, undefined, signal ? { signal } : {});
    } catch {
      break; // cancelled
    }
    const detail = await api.getRelease(r.id);
    r = detail.release;
    if (detail.journal.length > seen) {
      seen = detail.journal.length;
      sentAt = Date.now();
      await ctx.progress?.(`${r.kind} ${r.id} ${r.status}: ${journalLine(detail.journal.at(-1)!)}`);
    }
    if (r.kind === "release" && !isTerminal(r.status) && Date.now() - controlAt >= 1000) {
      controlAt = Date.now();
      const control = await api.releaseControl(r.id);
      const held = heldText(control);
      if (held) return { release: r, held };
      waits = control.waiting
        .map((w) => `${w.target} waits (${w.kind}) ${waitPlace(w.percent, "at")}${w.until ? ` until ${w.until}` : ""}`)
        .join(", ");
    }
    if (!isTerminal(r.status) && Date.now() - sentAt >= HEARTBEAT_MS) {
      sentAt = Date.now();
      await ctx.progress?.(`${r.kind} ${r.id} still ${r.status}${waits ? `: ${waits}` : ""}`);
    }
  }
  return { release: r };
}

/** What a release waits for that only a person ends (approval, manual pause); undefined otherwise. */
function heldText(c: ReleaseControl): string | undefined {
  const approval = c.waiting.filter((w) => w.kind === "approval");
  if (c.paused) return `it is paused${c.pausedBy ? ` by ${c.pausedBy}` : ""}: release_control resume goes on`;
  if (approval.length === 0) return undefined;
  return `${approval.map((w) => `${w.target} waits for approval ${waitPlace(w.percent, "at")}`).join(", ")}: release_control promote goes on, abort rolls back`;
}

export const outcome = ({ release: r, held }: Followed, what: string) =>
  isTerminal(r.status)
    ? `${what} ${r.id} of ${r.worker} ended: ${r.status}${r.reason ? ` (${r.reason})` : ""}.`
    : held
      ? `${what} ${r.id} of ${r.worker} is ${r.status} and waits: ${held} (after the user agreed).`
      : `${what} ${r.id} of ${r.worker} is still ${r.status}; call release_show with release_id "${r.id}" to follow it.`;

export const answer = (f: Followed, what: string): ToolOutcome => done(outcome(f, what), compactRelease(f.release));
