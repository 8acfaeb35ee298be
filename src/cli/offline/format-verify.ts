// What `cbo audit verify` says. On success: how much was proven and by what, including the part
// of the log only the chain protects (after the newest checkpoint, where a cut tail leaves no
// trace). On failure: the first bad entry, why, and how far the log verified before it.
import type { VerifyResult } from "../../audit/index.ts";
import type { Paint } from "../table.ts";

export type VerifyReport = VerifyResult & {
  db: string;
  /** cutOffLine: the file's last line, without its newline (an interrupted append), left out. */
  checkpointFiles: Array<{ file: string; checkpoints: number; unreadableLines: number[]; cutOffLine?: number }>;
  storedCheckpoints: number;
  keys: Array<{ source: string; keyId?: string }>;
  /** The key came from the data directory, where whoever can rewrite the log can replace it too. */
  keyBesideLog: boolean;
  coveredBySignature: number;
};

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function sources(r: VerifyReport): string {
  const parts = [`${r.storedCheckpoints} stored in the database`, ...r.checkpointFiles.map((f) => `${f.checkpoints} from ${f.file}`)];
  return parts.join(", ");
}

export function formatVerifyResult(r: VerifyReport, paint: Paint): string {
  const lines: string[] = [];
  const key = r.keys.length ? r.keys.map((k) => `${k.keyId ? `${k.keyId} ` : ""}from ${k.source}`).join("; ") : "none";
  if (r.ok) {
    lines.push(
      `${paint.ok("ok")}: the audit log in ${r.db} verifies: ${plural(r.checked, "entry", "entries")}, head #${r.head.seq} ${r.head.hash.slice(0, 16)}`,
    );
    lines.push(`checkpoints: ${r.checkpoints} signed and matching (${sources(r)}); public key: ${key}`);
    if (r.keyBesideLog)
      lines.push(
        paint.dim("the public key was read from the data directory: compare its id with one kept elsewhere, or pass --public-key"),
      );
    if (r.checkpointFiles.length === 0)
      lines.push(
        paint.warn(
          "no checkpoint file: only checkpoints stored beside the log were used; keep the daemon's audit-checkpoints.jsonl off the VPS and pass it with --checkpoint",
        ),
      );
    if (r.checked > r.coveredBySignature) {
      lines.push(
        r.coveredBySignature === 0
          ? paint.warn(`no checkpoint covers any entry: the hash chain alone cannot show a recomputed rewrite or a cut tail`)
          : `entries ${r.coveredBySignature + 1}..${r.checked} came after the newest checkpoint: the chain protects them, but a cut tail there would leave no trace`,
      );
    }
  } else {
    const bad = r.firstBad!;
    lines.push(`${paint.bad("FAILED")}: entry #${bad.seq}: ${bad.reason}: ${bad.message}`);
    if (bad.range)
      lines.push(
        `the fault lies within entries ${bad.range[0]}..${bad.range[1]}${bad.checkpoint !== undefined ? ` (checkpoint at tree size ${bad.checkpoint})` : ""}`,
      );
    lines.push(
      `verified before it: ${plural(r.checked, "entry", "entries")} and ${plural(r.checkpoints, "checkpoint")} (${sources(r)}); public key: ${key}`,
    );
  }
  for (const f of r.checkpointFiles) {
    if (f.unreadableLines.length) lines.push(paint.bad(`${f.file}: line ${f.unreadableLines.join(", ")} cannot be read as a checkpoint`));
    if (f.cutOffLine !== undefined)
      lines.push(
        paint.warn(
          `${f.file}: line ${f.cutOffLine} is cut off (no newline at its end: the daemon was stopped while writing it); left out, and the daemon drops it at its next start`,
        ),
      );
  }
  return lines.join("\n") + "\n";
}
