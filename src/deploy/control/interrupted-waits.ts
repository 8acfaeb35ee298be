// What a release was waiting for when its daemon stopped. Such a release goes on after the restart
// (resume.ts) when it can; when it cannot (a target was mid-step, the project changed since it was
// planned), recovery rolls it back like any unfinished one, and this says why in words an operator
// acts on ("it waited for approval and could not go on: …") instead of a bare "daemon restarted
// during the release". Read from the release's stored events: each target's newest
// release.waiting with no release.wait.ended after it is a wait the restart cut short.
import { type StoredEvent, waitPlace } from "../../contract/index.ts";

type OpenWait = { target: string; kind: string; percent: number };

const KIND_WORDS: Readonly<Record<string, string>> = {
  approval: "waited for approval",
  timer: "was in a timed pause",
  manual: "was paused",
};

/** Each target's wait the events show still open (newest events first in `newestFirst`). */
export function openWaits(newestFirst: StoredEvent[]): OpenWait[] {
  const seen = new Set<string>();
  const open: OpenWait[] = [];
  for (const e of newestFirst) {
    if (!e.target || seen.has(e.target)) continue;
    if (e.type !== "release.waiting" && e.type !== "release.wait.ended") continue;
    seen.add(e.target);
    if (e.type === "release.waiting") open.push({ target: e.target, kind: e.data.kind, percent: e.data.percent });
  }
  return open.filter((w) => Object.hasOwn(KIND_WORDS, w.kind)).sort((a, b) => a.target.localeCompare(b.target));
}

/** "daemon restarted while eu waited for approval at step 50% (it could not go on: …; release again)", or null when nothing waited. */
export function restartDuringWait(waits: OpenWait[], why = "it was not resumed"): string | null {
  if (waits.length === 0) return null;
  const groups = new Map<string, string[]>();
  for (const w of waits) {
    const words = `${KIND_WORDS[w.kind]} ${waitPlace(w.percent)}`;
    groups.set(words, [...(groups.get(words) ?? []), w.target]);
  }
  const what = [...groups].map(([words, targets]) => `${targets.join(" and ")} ${words}`).join(", ");
  return `daemon restarted while ${what} (it could not go on: ${why}; release again)`;
}
