// The offline verifier: entries (from the database or an export file), checkpoints (the log's own
// or a file kept outside the VPS) and the public key are all it needs. It walks the entries once,
// in order, and stops at the first fault:
//
//   1. every checkpoint's Ed25519 signature is checked up front (WebCrypto);
//   2. each entry goes through the chain walker (chain.ts): missing entry, broken link, hash mismatch;
//   3. after entry n, every checkpoint of tree_size n is compared: a bad signature is reported at n;
//      a Merkle root (or head hash) that differs means history was rewritten and the chain
//      recomputed to hide it. The root cannot say which entry changed, only that one of the
//      entries since the last checkpoint that verified did: `seq` is the first of them and
//      `range` spans them;
//   4. a checkpoint with a valid signature beyond the last entry means the log was cut short:
//      "truncated after checkpoint" at the first missing seq.
// Without checkpoints the chain alone cannot detect a rewrite that recomputes every later hash,
// nor entries cut from the tail; that is what exported checkpoints are for.
import { createChainWalker, type EntryFaultReason } from "./chain.ts";
import { createSignatureChecker } from "./checkpoint-body.ts";
import { createFrontier } from "./merkle.ts";
import { isUnreadable, type VerifyCheckpoint, type VerifyEntry } from "./schema.ts";

export type AuditFaultReason = EntryFaultReason | "checkpoint root mismatch" | "bad checkpoint signature" | "truncated after checkpoint";

export type AuditFault = {
  seq: number;
  reason: AuditFaultReason;
  message: string;
  /** tree_size of the checkpoint involved, when a checkpoint found the fault. */
  checkpoint?: number;
  /** For a root mismatch or truncation: the entries (inclusive) that the fault lies within. */
  range?: [number, number];
};

export type VerifyResult = {
  ok: boolean;
  /** Entries that verified (all of them when ok). */
  checked: number;
  /** Checkpoints whose signature and root verified. */
  checkpoints: number;
  head: { seq: number; hash: string };
  firstBad?: AuditFault;
};

export type VerifyInput = {
  entries: Iterable<VerifyEntry>;
  checkpoints?: VerifyCheckpoint | readonly VerifyCheckpoint[];
  /** Raw 32-byte Ed25519 public key, or one per key_id (across a key rotation). */
  publicKey: Uint8Array | Record<string, Uint8Array>;
};

/** A checkpoint with its signature checked, as the walk meets them: by tree size. */
export type CheckedCheckpoint = { size: number; cp: VerifyCheckpoint; sigOk: boolean };

export async function verifyAuditLog(input: VerifyInput): Promise<VerifyResult> {
  const items = await checkSignatures(input);
  const walker = createChainWalker();
  const frontier = createFrontier();
  let next = 0;
  let lastGood = 0;
  let good = 0;
  let checked = 0;
  const result = (firstBad?: AuditFault): VerifyResult => ({
    ok: !firstBad,
    checked,
    checkpoints: good,
    head: walker.head,
    ...(firstBad ? { firstBad } : {}),
  });

  /** Checkpoints of exactly the current size; the first fault, if any. */
  const atCheckpoints = (size: number): AuditFault | undefined => {
    for (; next < items.length && items[next]!.size <= size; next++) {
      const { cp, sigOk } = items[next]!;
      if (!sigOk || isUnreadable(cp)) {
        return {
          seq: size,
          reason: "bad checkpoint signature",
          checkpoint: size,
          message: `the checkpoint at tree size ${size} does not carry a valid signature`,
        };
      }
      if (cp.merkle_root !== frontier.root() || cp.head_hash !== walker.head.hash) {
        const range: [number, number] = [Math.min(lastGood + 1, size), size];
        return {
          seq: range[0],
          reason: "checkpoint root mismatch",
          checkpoint: size,
          range,
          message: `entries ${range[0]}..${size} do not match the signed checkpoint at tree size ${size}: one of them was rewritten and the chain recomputed`,
        };
      }
      lastGood = size;
      good++;
    }
    return undefined;
  };

  let fault = atCheckpoints(0);
  if (fault) return result(fault);
  for (const e of input.entries) {
    const entryFault = walker.step(e);
    if (entryFault) return result(entryFault);
    if (!isUnreadable(e)) frontier.push(e.hash);
    checked++;
    if (next < items.length && items[next]!.size <= checked) {
      fault = atCheckpoints(checked);
      if (fault) return result(fault);
    }
  }
  const beyond = items.slice(next);
  const trusted = beyond.filter((i) => i.sigOk);
  if (trusted.length > 0) {
    // Named: the first signed checkpoint that proves entries missing; range: all signed-for entries missing.
    const first = trusted[0]!.size;
    const last = trusted.at(-1)!.size;
    const seq = walker.head.seq + 1;
    return result({
      seq,
      reason: "truncated after checkpoint",
      checkpoint: first,
      range: [seq, last],
      message: `the log ends at ${seq - 1} but a signed checkpoint covers ${first} entries`,
    });
  }
  if (beyond.length > 0) {
    const size = beyond[0]!.size;
    return result({
      seq: size,
      reason: "bad checkpoint signature",
      checkpoint: size,
      message: `the checkpoint at tree size ${size} does not carry a valid signature`,
    });
  }
  return result();
}

export async function checkSignatures(input: Pick<VerifyInput, "checkpoints" | "publicKey">): Promise<CheckedCheckpoint[]> {
  const list: readonly VerifyCheckpoint[] =
    input.checkpoints === undefined ? [] : Array.isArray(input.checkpoints) ? input.checkpoints : [input.checkpoints as VerifyCheckpoint];
  const check = createSignatureChecker(input.publicKey);
  const items = await Promise.all(
    list.map(async (cp): Promise<CheckedCheckpoint> => {
      if (isUnreadable(cp)) return { size: cp.tree_size ?? 0, cp, sigOk: false };
      return { size: cp.tree_size, cp, sigOk: await check(cp).catch(() => false) };
    }),
  );
  // Stable: equal sizes keep their given order.
  return items.sort((a, b) => a.size - b.size);
}
