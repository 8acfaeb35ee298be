// D1 Time Travel bookmarks. Cloudflare's are four hyphenated hex groups (8-8-8-32), sortable
// oldest first, deterministic for a timestamp. Ours: the 64-bit history sequence number in the
// first two groups (so string order is time order), the commit time in unix seconds in the
// third, and a hash of (database, sequence) in the fourth, so a bookmark of another database or a
// made-up one is refused rather than silently restoring something else.
import { createHash } from "node:crypto";

const FORMAT = /^([0-9a-f]{8})-([0-9a-f]{8})-([0-9a-f]{8})-([0-9a-f]{32})$/;

const hex8 = (n: number) => (n >>> 0).toString(16).padStart(8, "0");

function tag(databaseId: string, seq: number): string {
  return createHash("sha256").update(`${databaseId}:${seq}`).digest("hex").slice(0, 32);
}

export function formatBookmark(databaseId: string, seq: number, atMs: number): string {
  const hi = Math.floor(seq / 2 ** 32);
  return `${hex8(hi)}-${hex8(seq % 2 ** 32)}-${hex8(Math.floor(atMs / 1000))}-${tag(databaseId, seq)}`;
}

/** The sequence number a bookmark of this database names, or undefined if it is not one of ours. */
export function parseBookmark(databaseId: string, bookmark: string): number | undefined {
  const m = FORMAT.exec(bookmark.trim().toLowerCase());
  if (!m) return undefined;
  const seq = parseInt(m[1]!, 16) * 2 ** 32 + parseInt(m[2]!, 16);
  return tag(databaseId, seq) === m[4] ? seq : undefined;
}
