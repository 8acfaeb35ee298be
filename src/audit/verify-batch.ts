// One batch of the parallel verifier (verify-parallel.ts): rows as the database returns them (the
// COLUMNS order of entries-table.ts) at positions base + 1…, checked the way the sequential verifier
// checks them (chain.ts step, toVerifyEntry), with the same functions:
//   shape     the row is what toVerifyEntry accepts (rowIsReadable mirrors it; a test keeps them equal)
//   position  seq is the row's position
//   link      prev_hash is the previous row's hash (the batch's first link is the caller's to check)
//   hash      the stored details text, hashed as it is, reproduces the stored hash (chain.ts's first
//             try; an equivalent but re-spelt details text is left to the sequential verifier)
// plus the batch's Merkle subtrees and the frontier at each tree size asked for. It never names a
// fault: anything unusual gives ok: false and the caller runs the sequential verifier, which does.
// Batches start at multiples of a power of two at least their length, so their subtrees are the
// whole tree's (merkle.ts, pushTree). No zod here: worker threads load this.
import { entryBodyOf, sha256Hex } from "./hash.ts";
import { createFrontier } from "./merkle.ts";

export type BatchMark = { size: number; nodes: string[]; head: string };
export type BatchResult =
  | { id: number; ok: false }
  | { id: number; ok: true; firstPrev: string; lastHash: string; nodes: string[]; marks: BatchMark[] };

/** What toVerifyEntry (entries-table.ts) accepts as an entry rather than "unreadable". */
export function rowIsReadable(row: unknown[]): boolean {
  const [seq, at, actor, action, target, tenant, outcome, details, prev_hash, hash] = row;
  return (
    Number.isSafeInteger(seq) &&
    typeof at === "string" &&
    typeof actor === "string" &&
    typeof action === "string" &&
    (target === null || typeof target === "string") &&
    (tenant === null || typeof tenant === "string") &&
    (outcome === "ok" || outcome === "denied" || outcome === "error") &&
    typeof details === "string" &&
    typeof prev_hash === "string" &&
    typeof hash === "string"
  );
}

type Row = [number, string, string, string, string | null, string | null, string, string, string, string];

/** `marks`: tree sizes in (base, base + rows.length], ascending. */
export function checkRows(id: number, base: number, rows: readonly unknown[][], marks: readonly number[]): BatchResult {
  const frontier = createFrontier();
  const out: BatchMark[] = [];
  let prev = "";
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    if (row.length !== 10 || !rowIsReadable(row)) return { id, ok: false };
    const [seq, at, actor, action, target, tenant, outcome, details, prev_hash, hash] = row as Row;
    if (seq !== base + i + 1 || (i > 0 && prev_hash !== prev)) return { id, ok: false };
    if (sha256Hex(entryBodyOf(action, actor, at, details, outcome, prev_hash, seq, target, tenant)) !== hash) return { id, ok: false };
    frontier.push(hash);
    prev = hash;
    if (marks[out.length] === seq) out.push({ size: seq, nodes: frontier.snapshot().nodes, head: hash });
  }
  if (rows.length === 0 || out.length !== marks.length) return { id, ok: false };
  return { id, ok: true, firstPrev: rows[0]![8] as string, lastHash: prev, nodes: frontier.snapshot().nodes, marks: out };
}
