import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createFrontier, EMPTY_ROOT, leafHash, merkleRoot, nodeHash } from "./merkle.ts";

const sha = (...parts: Buffer[]) => createHash("sha256").update(Buffer.concat(parts)).digest();

/** RFC 6962 §2.1 as written: recursive split at the largest power of two below n. */
function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return sha();
  if (leaves.length === 1) return sha(Buffer.from([0]), leaves[0]!);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha(Buffer.from([1]), mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

const hashes = (n: number) => Array.from({ length: n }, (_, i) => createHash("sha256").update(`entry ${i}`).digest("hex"));

describe("RFC 6962 Merkle tree hash", () => {
  it("has the empty tree's root SHA-256('')", () => {
    expect(EMPTY_ROOT).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(merkleRoot([])).toBe(EMPTY_ROOT);
  });

  it("prefixes leaves with 0x00 and interior nodes with 0x01", () => {
    const [a, b] = hashes(2) as [string, string];
    expect(leafHash(a)).toBe(sha(Buffer.from([0]), Buffer.from(a, "hex")).toString("hex"));
    expect(nodeHash(a, b)).toBe(sha(Buffer.from([1]), Buffer.from(a, "hex"), Buffer.from(b, "hex")).toString("hex"));
  });

  it("matches the recursive definition for every size up to 70", () => {
    const all = hashes(70);
    for (let n = 0; n <= 70; n++) {
      const expected = mth(all.slice(0, n).map((h) => Buffer.from(h, "hex"))).toString("hex");
      expect(merkleRoot(all.slice(0, n)), `n=${n}`).toBe(expected);
    }
  });

  it("resumes from a stored frontier with the same result", () => {
    const all = hashes(45);
    const first = createFrontier();
    all.slice(0, 27).forEach((h) => first.push(h));
    const snap = first.snapshot();
    expect(snap.nodes).toHaveLength(4); // 27 = 16 + 8 + 2 + 1
    const resumed = createFrontier(snap);
    all.slice(27).forEach((h) => resumed.push(h));
    expect(resumed.size).toBe(45);
    expect(resumed.root()).toBe(merkleRoot(all));
  });

  it("refuses a frontier that does not fit its size", () => {
    expect(() => createFrontier({ size: 3, nodes: ["00".repeat(32)] })).toThrow();
  });
});
