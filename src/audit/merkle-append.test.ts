// Joining Merkle frontiers built apart (merkle.ts pushTree/append), as the parallel verifier does
// with batches: the root must be the one-pass root for every split.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createFrontier, merkleRoot, type Frontier } from "./merkle.ts";

const hashes = (n: number) => Array.from({ length: n }, (_, i) => createHash("sha256").update(`entry ${i}`).digest("hex"));
const frontierOf = (hs: string[]): Frontier => {
  const f = createFrontier();
  hs.forEach((h) => f.push(h));
  return f.snapshot();
};

describe("joining frontiers", () => {
  it("gives the one-pass root for batches of every power of two, with a partial last batch", () => {
    const all = hashes(77);
    for (const batch of [1, 2, 4, 8, 16, 32, 64]) {
      for (let n = 0; n <= all.length; n++) {
        const joined = createFrontier();
        for (let from = 0; from < n; from += batch) joined.append(frontierOf(all.slice(from, Math.min(from + batch, n))));
        expect(joined.size).toBe(n);
        expect(joined.root(), `batch ${batch}, n ${n}`).toBe(merkleRoot(all.slice(0, n)));
      }
    }
  });

  it("takes a frontier inside a batch after the batches before it (a checkpoint between batch edges)", () => {
    const all = hashes(40);
    const before = frontierOf(all.slice(0, 32));
    for (let k = 1; k <= 8; k++) {
      const f = createFrontier(before);
      f.append(frontierOf(all.slice(32, 32 + k)));
      expect(f.root()).toBe(merkleRoot(all.slice(0, 32 + k)));
    }
  });

  it("refuses a subtree that is not aligned or not a power of two", () => {
    const three = createFrontier(frontierOf(hashes(3)));
    expect(() => three.pushTree(hashes(1)[0]!, 2)).toThrow(/does not fit/);
    expect(() => createFrontier().pushTree(hashes(1)[0]!, 3)).toThrow(/does not fit/);
    expect(() => createFrontier(frontierOf(hashes(4))).append({ size: 3, nodes: [hashes(1)[0]!] })).toThrow(/does not match/);
  });
});
