// Which control buttons a release's page shows, from its record and what it waits for (GET
// /v1/releases/:id/control). Pure. Buttons only hide what the API would refuse: the daemon decides
// (a viewer gets 403, a promote with nothing to promote 409).
//
//   running, not paused      pause, abort; promote while a target waits at an approval or timer
//   running, paused          resume, abort; promote as above (it lets the approval through, the
//                            pause still holds the next step)
//   rolling back             abort (already stopping: the API says so)
//   ended / a rollback       nothing
import { type ReleaseControl, waitPlace } from "../contract/index.ts";
import type { Release } from "./types.ts";

export type ControlAction = "promote" | "pause" | "resume" | "abort";

export function controlActions(release: Release, control: ReleaseControl | undefined, canDeploy: boolean): ControlAction[] {
  if (!canDeploy || release.kind !== "release") return [];
  if (release.status === "rolling_back") return ["abort"];
  if (release.status !== "running") return [];
  // Without the control state (an older daemon, a failed read) only abort is certain to apply.
  if (!control) return ["abort"];
  const out: ControlAction[] = [];
  if (control.waiting.some((w) => w.kind === "approval" || w.kind === "timer")) out.push("promote");
  out.push(control.paused ? "resume" : "pause", "abort");
  return out;
}

/** What each target waits for, in words: `eu: approval at 50% (since 12:00:01)`. */
export function waitingWords(control: ReleaseControl | undefined): string[] {
  if (!control) return [];
  const words = {
    approval: "waits for approval (promote)",
    timer: "timed pause",
    manual: "held by the pause",
    data: "waits for analytics",
  };
  return control.waiting.map(
    (w) =>
      `${w.target}: ${words[w.kind]} ${waitPlace(w.percent, "at")}${w.until ? ` until ${new Date(w.until).toTimeString().slice(0, 8)}` : ""}`,
  );
}
