// RFC 6962 §2.1 Merkle tree hash over the entry hashes (each leaf's data is the 32 raw bytes of an
// entry hash, in seq order):
//
//   MTH({})      = SHA-256()                                   (the empty string)
//   MTH({d0})    = SHA-256(0x00 || d0)                         leaf
//   MTH(D[0:n])  = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))  k = largest power of two < n
//
// Computed incrementally with a frontier: the roots of the perfect subtrees that make up the
// first n leaves, largest (leftmost) first, one per set bit of n. Pushing a leaf merges equal-sized
// subtrees like a binary counter; the root folds the frontier from the right. Storing the frontier
// with each checkpoint lets the next checkpoint hash only the new entries. The same counter takes a
// whole perfect subtree by its root (pushTree), so that ranges hashed apart (verify-parallel.ts) join
// into one tree: a range that starts at a multiple of its own largest power of two is made of
// subtrees that are also subtrees of the whole tree.
import { hash } from "node:crypto";

export const EMPTY_ROOT = hash("sha256", "", "hex");

// Inside the frontier, hashes are 32-char latin1 strings (one char per byte): about a third
// cheaper than hex per node, which matters at a million entries. Hex at the edges.
const scratch = Buffer.alloc(65);
const fromHex = (hex: string) => Buffer.from(hex, "hex").toString("binary");
const toHex = (bin: string) => Buffer.from(bin, "latin1").toString("hex");

const leafInput = scratch.subarray(0, 33);

function leaf(entryHashHex: string): string {
  scratch[0] = 0x00;
  scratch.write(entryHashHex, 1, 32, "hex");
  return hash("sha256", leafInput, "binary");
}

function node(left: string, right: string): string {
  scratch[0] = 0x01;
  scratch.write(left, 1, 32, "binary");
  scratch.write(right, 33, 32, "binary");
  return hash("sha256", scratch, "binary");
}

export const leafHash = (entryHashHex: string): string => toHex(leaf(entryHashHex));
export const nodeHash = (leftHex: string, rightHex: string): string => toHex(node(fromHex(leftHex), fromHex(rightHex)));

export type Frontier = { size: number; nodes: string[] };

export function createFrontier(from: Frontier = { size: 0, nodes: [] }) {
  let size = from.size;
  const nodes = from.nodes.map(fromHex);
  if (nodes.length !== popcount(size)) throw new Error("frontier does not match its size");

  /** Appends a perfect subtree of `leaves` leaves (a power of two dividing the size) by its root. */
  function pushTree(rootHex: string, leaves: number): void {
    if (!isPowerOfTwo(leaves) || size % leaves !== 0) throw new Error(`a subtree of ${leaves} leaves does not fit after ${size}`);
    let h = fromHex(rootHex);
    for (let s = size / leaves; s % 2 === 1; s = Math.floor(s / 2)) h = node(nodes.pop()!, h);
    nodes.push(h);
    size += leaves;
  }

  function pushLeaf(h: string): void {
    // Each trailing 1 bit of size is a complete subtree of the same height to merge with.
    for (let s = size; s & 1; s = Math.floor(s / 2)) h = node(nodes.pop()!, h);
    nodes.push(h);
    size++;
  }

  return {
    push: (entryHashHex: string): void => pushLeaf(leaf(entryHashHex)),
    pushTree,
    /** Appends the leaves of another frontier (its subtrees, largest first, each as pushTree). */
    append(other: Frontier): void {
      const sizes = subtreeSizes(other.size);
      if (sizes.length !== other.nodes.length) throw new Error("frontier does not match its size");
      sizes.forEach((leaves, i) => pushTree(other.nodes[i]!, leaves));
    },
    root(): string {
      if (nodes.length === 0) return EMPTY_ROOT;
      let h = nodes[nodes.length - 1]!;
      for (let i = nodes.length - 2; i >= 0; i--) h = node(nodes[i]!, h);
      return toHex(h);
    },
    get size() {
      return size;
    },
    snapshot(): Frontier {
      return { size, nodes: nodes.map(toHex) };
    },
  };
}
export type MerkleFrontier = ReturnType<typeof createFrontier>;

export function merkleRoot(entryHashes: readonly string[]): string {
  const f = createFrontier();
  for (const h of entryHashes) f.push(h);
  return f.root();
}

/** The perfect subtrees of a frontier of n leaves, largest first: the powers of two that sum to n. */
function subtreeSizes(n: number): number[] {
  const out: number[] = [];
  let p = 1;
  while (p * 2 <= n) p *= 2;
  for (let rest = n; p >= 1; p /= 2) {
    if (rest >= p) {
      out.push(p);
      rest -= p;
    }
  }
  return out;
}

const isPowerOfTwo = (n: number) => Number.isSafeInteger(n) && n > 0 && subtreeSizes(n).length === 1;

function popcount(n: number): number {
  let c = 0;
  for (let s = n; s > 0; s = Math.floor(s / 2)) c += s & 1;
  return c;
}
