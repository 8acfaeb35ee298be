// What the next checkpoint will sign: tree size, Merkle root and head hash of the committed log.
// Read in one read transaction. The writer checks what it signs: entries since the last
// checkpoint go through the same chain walker as the verifier, starting from the last signed head,
// so a log altered underneath it is refused rather than blessed with a fresh signature.
import { CboError } from "../kit/errors.ts";
import type { Db } from "../store/db.ts";
import { createChainWalker } from "./chain.ts";
import { latestCheckpoint } from "./checkpoints-table.ts";
import { iterateRowArrays, readHead, toVerifyEntry } from "./entries-table.ts";
import { createFrontier, type Frontier } from "./merkle.ts";
import { GENESIS_HASH, isUnreadable, type AuditCheckpoint } from "./schema.ts";

export type Snapshot = { unchanged: AuditCheckpoint } | { treeSize: number; merkleRoot: string; headHash: string; frontier: Frontier };

export function takeSnapshot(db: Db): Snapshot {
  db.exec("BEGIN");
  try {
    return compute(db);
  } finally {
    db.exec("COMMIT");
  }
}

function compute(db: Db): Snapshot {
  const last = latestCheckpoint(db);
  const headSeq = readHead(db)?.seq ?? 0;
  if (last && headSeq < last.tree_size) throw refuse(`the log ends at ${headSeq}, before its last checkpoint (${last.tree_size})`);
  if (last && headSeq === last.tree_size) {
    const { frontier: _cache, ...signed } = last;
    return { unchanged: signed };
  }

  // Resume from the stored frontier when it reproduces the signed root; else rebuild from entry 1.
  const resume = last?.frontier && createFrontier(last.frontier).root() === last.merkle_root;
  const frontier = createFrontier(resume ? last!.frontier : undefined);
  const walker = createChainWalker(resume ? { seq: last!.tree_size, hash: last!.head_hash } : { seq: 0, hash: GENESIS_HASH });
  for (const row of iterateRowArrays(db, frontier.size, headSeq)) {
    const entry = toVerifyEntry(row, frontier.size + 1);
    const fault = walker.step(entry);
    if (fault || isUnreadable(entry)) throw refuse(`${fault?.message} (${fault?.reason})`, { seq: fault?.seq, reason: fault?.reason });
    frontier.push(entry.hash);
    if (
      last &&
      !resume &&
      frontier.size === last.tree_size &&
      (frontier.root() !== last.merkle_root || walker.head.hash !== last.head_hash)
    ) {
      throw refuse(`entries 1..${last.tree_size} no longer match the last signed checkpoint`, { reason: "checkpoint root mismatch" });
    }
  }
  if (walker.head.seq !== headSeq)
    throw refuse(`entry ${walker.head.seq + 1} is missing`, { seq: walker.head.seq + 1, reason: "missing entry" });
  return { treeSize: headSeq, merkleRoot: frontier.root(), headHash: walker.head.hash, frontier: frontier.snapshot() };
}

const refuse = (why: string, details?: Record<string, unknown>) =>
  new CboError(
    "ERR_AUDIT_UNAVAILABLE",
    `The audit log fails its own check, so no checkpoint was signed: ${why}.`,
    details ? { details } : {},
  );
