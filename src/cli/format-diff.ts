// `cbo diff` (and the top of `cbo plan`) for people: per target, what a release would change
// against what the target runs now, one line per difference, and drift said first.
import type { LiveReads, WorkerDiff } from "../contract/index.ts";
import { table } from "./table.ts";

const SIGN = { added: "+", removed: "-", changed: "~", unknown: "?" } as const;

export function formatDiff(diff: WorkerDiff): string {
  const lines: string[] = [];
  for (const t of diff.targets) {
    const head = t.versionId === null ? "nothing deployed" : `runs ${t.versionId.slice(0, 8)}`;
    lines.push(`${t.target}: ${head}${t.drift ? `  DRIFT: not uploaded by the orchestrator: ${t.unknownVersions.join(", ")}` : ""}`);
    if (t.changes.length === 0) {
      lines.push("  no changes");
      continue;
    }
    const rows = t.changes.map((c) => [
      `${SIGN[c.change]} ${c.area}`,
      c.item,
      // An unknown (`?`) says why it is unknown, not an arrow to nothing.
      c.live === undefined && c.desired === undefined
        ? c.change
        : c.change === "unknown"
          ? (c.live ?? c.desired ?? "unknown")
          : `${c.live ?? "-"} -> ${c.desired ?? "-"}`,
    ]);
    lines.push(table(rows).replace(/^/gm, "  "));
  }
  lines.push("");
  lines.push(
    diff.changed
      ? `a release would change ${diff.targets.filter((t) => t.changes.some((c) => c.area !== "config")).length} of ${diff.targets.length} target(s)`
      : "a release would change nothing (cbo release says so and does nothing, unless --force)",
  );
  if (diff.drift) lines.push("drift: a target runs a version the orchestrator never uploaded (cbo diff --strict exits 4)");
  if (diff.reads) lines.push(readsText("this diff", diff.reads));
  return lines.join("\n") + "\n";
}

/** "reads for this plan: 12 requests (8 reused from the last 5 s)": what answering it spent of the Cloudflare budget. */
export function readsText(what: string, reads: LiveReads): string {
  const total = reads.sent + reads.reused;
  const reused = reads.reused > 0 ? ` (${reads.reused} reused from the last ${Math.round(reads.reuseMs / 1000)} s)` : "";
  return `reads for ${what}: ${total} request${total === 1 ? "" : "s"}${reused}`;
}
