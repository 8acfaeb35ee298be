// One step of chain verification, shared by the offline verifier and by the log itself (which
// checks the entries it is about to sign into a checkpoint). Checks, in order, for the entry at
// the next position:
//   unreadable                    -> "hash mismatch" at that position
//   seq is not the next number    -> "missing entry" (the expected seq; a deleted or moved entry)
//   prev_hash != previous hash    -> "broken link"; if this entry is itself intact (its hash
//                                    recomputes), the previous entry is the one that was rewritten
//                                    (content and hash), so that one is named
//   hash does not recompute       -> "hash mismatch"
import { canonicalJson } from "./canonical.ts";
import { entryBodyWith, entryHash, sha256Hex } from "./hash.ts";
import { GENESIS_HASH, isUnreadable, type AuditEntry, type RawEntry, type VerifyEntry } from "./schema.ts";

export type EntryFaultReason = "hash mismatch" | "broken link" | "missing entry";
export type EntryFault = { seq: number; reason: EntryFaultReason; message: string };

export function createChainWalker(after: { seq: number; hash: string } = { seq: 0, hash: GENESIS_HASH }) {
  let lastSeq = after.seq;
  let lastHash = after.hash;
  return {
    /** Checks the next entry; on success it becomes the head. */
    step(e: VerifyEntry): EntryFault | undefined {
      const expected = lastSeq + 1;
      if (isUnreadable(e)) return { seq: expected, reason: "hash mismatch", message: `entry ${expected} cannot be read` };
      if (e.seq !== expected) {
        return { seq: expected, reason: "missing entry", message: `entry ${expected} is missing (found seq ${e.seq} in its place)` };
      }
      const intact = recomputes(e);
      if (e.prev_hash !== lastHash) {
        if (intact && expected > 1) {
          const seq = expected - 1;
          return {
            seq,
            reason: "broken link",
            message: `entry ${expected} is intact but does not link to entry ${seq}: entry ${seq} was rewritten`,
          };
        }
        return { seq: expected, reason: "broken link", message: `entry ${expected} does not link to the entry before it` };
      }
      if (!intact) return { seq: expected, reason: "hash mismatch", message: `entry ${expected} does not match its hash` };
      lastSeq = expected;
      lastHash = e.hash;
      return undefined;
    },
    get head() {
      return { seq: lastSeq, hash: lastHash };
    },
  };
}

/** Does the entry's hash recompute from its fields? */
function recomputes(e: AuditEntry | RawEntry): boolean {
  try {
    if (!("detailsJson" in e)) return entryHash(e) === e.hash;
    // Stored text is canonical when written by us: hash it as it is, the common and fast case.
    if (sha256Hex(entryBodyWith(e, e.detailsJson)) === e.hash) return true;
    // An equivalent spelling (whitespace, key order) is the same entry: compare the meaning.
    const details: unknown = JSON.parse(e.detailsJson);
    if (typeof details !== "object" || details === null || Array.isArray(details)) return false;
    return sha256Hex(entryBodyWith(e, canonicalJson(details))) === e.hash;
  } catch {
    return false; // details that are not JSON, or not canonicalisable: cannot match any hash
  }
}
