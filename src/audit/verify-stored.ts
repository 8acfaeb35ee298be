// Verifying the log stored in a database (`cbo audit verify` on the SQLite file).
//
// Two ways, one answer. A log of PARALLEL_FROM entries or more first gets the parallel pass
// (verify-parallel.ts), which can only prove the whole log intact: every entry re-hashed and
// linked, every checkpoint's signature, tree size, Merkle root and head hash matching. When it
// proves that, the result is the one the sequential verifier (verify.ts) gives for an intact log.
// When it cannot (a fault anywhere, a checkpoint beyond the end, a worker that fails, a log that
// keeps changing under it), the sequential verifier runs over the snapshot the checkpoints were
// read in and names the first fault exactly, as it always has. Tampered logs therefore cost one
// parallel attempt more; intact ones, which are what gets verified day after day, about half the
// time (bench: audit.verify_1m_s, and audit.verify_1m_sequential_s beside it).
//
// The parallel pass reads exactly the rows the sequential verifier reads (seq in
// MIN..MAX_SAFE_INTEGER): its batches hold one row at each seq 1..count and nothing else, and here
// count is the highest seq of all and nothing lies at 0 or below (logLength).
import type { DatabaseSync } from "node:sqlite";
import { availableParallelism } from "node:os";
import { entrySql } from "./entries-table.ts";
import { auditSource } from "./log.ts";
import { EMPTY_ROOT } from "./merkle.ts";
import { GENESIS_HASH, isUnreadable, type VerifyCheckpoint } from "./schema.ts";
import { parallelPass, takeSnapshot, type Snapshot } from "./verify-parallel.ts";
import { checkSignatures, verifyAuditLog, type VerifyResult } from "./verify.ts";

/** Below this many entries, starting worker threads costs more than it saves. */
export const PARALLEL_FROM = 50_000;
/** Entries per batch: a power of two (batches must start at multiples of their size; see merkle.ts). */
const BATCH = 4096;
/** Threads reading at once, the main thread included; SQLite readers do not block each other. */
const MAX_THREADS = 4;

export type StoredVerifyOptions = {
  /** The database's own checkpoints, read in the current transaction… */
  stored: VerifyCheckpoint[];
  /** …and how to read them again, should the parallel pass have to take a new snapshot. */
  readStored: () => VerifyCheckpoint[];
  /** Checkpoints kept elsewhere (files). */
  external: readonly VerifyCheckpoint[];
  /** Raw 32-byte Ed25519 public key, or one per key_id. */
  publicKey: Uint8Array | Record<string, Uint8Array>;
  /** Tuning, for tests and benchmarks: `threads` counts the main thread; below 2 there is no parallel pass. */
  parallel?: { from?: number; threads?: number; batch?: number };
};

export type StoredVerification = {
  result: VerifyResult;
  path: "parallel" | "sequential";
  /** The stored checkpoints verified against (read again when the snapshot was taken again). */
  stored: VerifyCheckpoint[];
};

/**
 * `db`: open, inside a read transaction in which `stored` was read. The parallel pass may end that
 * transaction and begin another; the caller ends whichever is open.
 */
export async function verifyStoredLog(db: DatabaseSync, opts: StoredVerifyOptions): Promise<StoredVerification> {
  let stored = opts.stored;
  const restart = (): Snapshot => {
    db.exec("ROLLBACK");
    db.exec("BEGIN");
    stored = opts.readStored();
    return takeSnapshot(db);
  };
  const fast = await tryParallel(db, opts, () => stored, restart).catch(() => undefined);
  if (fast) return { result: fast, path: "parallel", stored };
  if (!db.isTransaction) {
    // A restart that failed half way: read everything in one transaction again.
    db.exec("BEGIN");
    stored = opts.readStored();
  }
  const checkpoints = [...stored, ...opts.external];
  const result = await verifyAuditLog({ entries: auditSource(db).entries(), checkpoints, publicKey: opts.publicKey });
  return { result, path: "sequential", stored };
}

async function tryParallel(
  db: DatabaseSync,
  opts: StoredVerifyOptions,
  stored: () => VerifyCheckpoint[],
  restart: () => Snapshot,
): Promise<VerifyResult | undefined> {
  const threads = opts.parallel?.threads ?? Math.min(MAX_THREADS, availableParallelism());
  const batch = opts.parallel?.batch ?? BATCH;
  const from = opts.parallel?.from ?? PARALLEL_FROM;
  if (threads < 2 || !Number.isSafeInteger(Math.log2(batch))) return undefined;

  /** The work in a snapshot; undefined when the log is too short or cannot pass. */
  const plan = (snapshot: Snapshot) => {
    const count = logLength(db, snapshot.head);
    if (count === undefined || count < from) return undefined;
    const sizes = new Set<number>();
    for (const cp of [...stored(), ...opts.external]) {
      // Unreadable, or beyond the end: for the sequential verifier to report.
      if (isUnreadable(cp) || !Number.isSafeInteger(cp.tree_size) || cp.tree_size < 0 || cp.tree_size > count) return undefined;
      if (cp.tree_size > 0) sizes.add(cp.tree_size);
    }
    return { count, batch, marks: [...sizes].sort((a, b) => a - b) };
  };
  // Signatures are checked (off this thread) while the entries are; again if the snapshot moved.
  const list = stored();
  const signatures = checkSignatures({ checkpoints: [...list, ...opts.external], publicKey: opts.publicKey });
  const pass = await parallelPass(db, threads - 1, takeSnapshot(db), restart, plan);
  if (!pass) return undefined;
  const checked =
    stored() === list
      ? await signatures
      : await checkSignatures({ checkpoints: [...stored(), ...opts.external], publicKey: opts.publicKey });
  for (const { cp, sigOk } of checked) {
    if (!sigOk || isUnreadable(cp)) return undefined;
    const expected = cp.tree_size === 0 ? { root: EMPTY_ROOT, head: GENESIS_HASH } : pass.at.get(cp.tree_size);
    if (!expected || cp.merkle_root !== expected.root || cp.head_hash !== expected.head) return undefined;
  }
  return { ok: true, checked: pass.count, checkpoints: checked.length, head: { seq: pass.count, hash: pass.headHash } };
}

/** The highest seq, when the rows can be 1..that (a safe integer, no row at 0 or below); 0 when empty. */
function logLength(db: DatabaseSync, head: Snapshot["head"]): number | undefined {
  if (head === null) return 0;
  const below = entrySql(db).rangeArrays.all(Number.MIN_SAFE_INTEGER, 0);
  return typeof head.seq === "number" && Number.isSafeInteger(head.seq) && head.seq > 0 && below.length === 0 ? head.seq : undefined;
}
