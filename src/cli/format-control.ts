// The answer to `cbo release pause|resume|promote <id>` for people (release-command.ts).
const WAITS_FOR = { approval: "approval", timer: "a timed pause", manual: "resume", data: "analytics data" } as const;

/** The answer to `cbo release pause|resume|promote <id>`, in words: what was done, and what each target waits for. */
export function controlText(
  verb: "pause" | "resume" | "promote",
  id: string,
  control: { paused: boolean; waiting: Array<{ target: string; kind: keyof typeof WAITS_FOR; percent: number }> },
): string {
  const waits = control.waiting.map((w) => `${w.target} at ${w.percent}% for ${WAITS_FOR[w.kind] ?? w.kind}`).join(", ");
  const done = { pause: "paused", resume: "resumed", promote: "promoted" }[verb];
  return `release ${id}: ${done}${control.paused && verb !== "pause" ? " (still paused)" : ""}${waits ? `; waiting: ${waits}` : ""}`;
}
