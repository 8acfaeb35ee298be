// One batch of the parallel verifier, without threads or a database: it must pass an intact chain
// (with the Merkle subtrees the one-pass tree has) and give up on anything the sequential verifier
// would fault.
import { describe, expect, it } from "vitest";
import { canonicalJson } from "./canonical.ts";
import { toVerifyEntry } from "./entries-table.ts";
import { entryHash } from "./hash.ts";
import { createFrontier, merkleRoot } from "./merkle.ts";
import { GENESIS_HASH, isUnreadable, type AuditEntry } from "./schema.ts";
import { checkRows, rowIsReadable } from "./verify-batch.ts";

type Row = unknown[];
const toRow = (e: AuditEntry, details = canonicalJson(e.details)): Row => [
  e.seq,
  e.at,
  e.actor,
  e.action,
  e.target,
  e.tenant,
  e.outcome,
  details,
  e.prev_hash,
  e.hash,
];

function chain(n: number, tweak: (seq: number) => Partial<AuditEntry> = () => ({})): AuditEntry[] {
  const out: AuditEntry[] = [];
  for (let seq = 1; seq <= n; seq++) {
    const fields = {
      seq,
      at: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
      actor: `token:ci#tk_${seq % 3}`,
      action: "secret.put",
      target: seq % 4 ? `secret:S${seq}` : null,
      tenant: seq % 5 ? null : "acme",
      outcome: "ok" as const,
      details: { n: seq, tags: ["eu"] },
      prev_hash: out.at(-1)?.hash ?? GENESIS_HASH,
      ...tweak(seq),
    };
    out.push({ ...fields, hash: entryHash(fields) });
  }
  return out;
}

describe("a parallel-verifier batch", () => {
  it("passes an intact chain in batches, with the links, subtrees and marks of the one-pass tree", () => {
    const entries = chain(21);
    const rows = entries.map((e) => toRow(e));
    const tree = createFrontier();
    let last = GENESIS_HASH;
    for (let base = 0; base < 21; base += 8) {
      const part = rows.slice(base, base + 8);
      const marks = [5, 8, 13, 21].filter((m) => m > base && m <= base + part.length);
      const r = checkRows(base / 8, base, part, marks);
      if (!r.ok) throw new Error(`batch at ${base} failed`);
      expect(r.firstPrev).toBe(last);
      for (const mark of r.marks) {
        const upTo = createFrontier(tree.snapshot());
        upTo.append({ size: mark.size - base, nodes: mark.nodes });
        expect(upTo.root()).toBe(merkleRoot(entries.slice(0, mark.size).map((e) => e.hash)));
        expect(mark.head).toBe(entries[mark.size - 1]!.hash);
      }
      expect(r.marks.map((m) => m.size)).toEqual(marks);
      tree.append({ size: part.length, nodes: r.nodes });
      last = r.lastHash;
    }
    expect(tree.root()).toBe(merkleRoot(entries.map((e) => e.hash)));
  });

  it("passes fields that need escaping", () => {
    const entries = chain(6, (seq) => (seq === 3 ? { actor: 'say "hi"\\', target: "日本\n😀" } : seq === 4 ? { tenant: "\ud800" } : {}));
    expect(
      checkRows(
        0,
        0,
        entries.map((e) => toRow(e)),
        [],
      ).ok,
    ).toBe(true);
  });

  it("reads a row's shape exactly as toVerifyEntry does", () => {
    const good = toRow(chain(1)[0]!);
    const odd: Row[] = [
      good,
      [...good.slice(0, 4), 5, ...good.slice(5)],
      [1.5, ...good.slice(1)],
      ["1", ...good.slice(1)],
      [2 ** 53, ...good.slice(1)],
      [...good.slice(0, 6), "maybe", ...good.slice(7)],
      [...good.slice(0, 7), null, ...good.slice(8)],
      [...good.slice(0, 9), new Uint8Array(64)],
      [...good.slice(0, 4), null, null, ...good.slice(6)],
      [...good.slice(0, 1), 0, ...good.slice(2)],
    ];
    for (const row of odd) expect(rowIsReadable(row), JSON.stringify(row)).toBe(!isUnreadable(toVerifyEntry(row, 1)));
  });

  it("gives up on every fault the sequential verifier reports, and on re-spelt details", () => {
    const entries = chain(8);
    const rows = () => entries.map((e) => toRow(e));
    const cases: Record<string, (r: Row[]) => void> = {
      "seq out of place": (r) => void (r[2]![0] = 4),
      "missing entry": (r) => void r.splice(3, 1),
      "broken link": (r) => void (r[5]![8] = "cd".repeat(32)),
      "stored hash flipped": (r) => void (r[4]![9] = (r[4]![9] as string).replace(/^./, (c) => (c === "a" ? "b" : "a"))),
      "stored hash upper case": (r) => void (r[7]![9] = (r[7]![9] as string).toUpperCase()),
      "field edited": (r) => void (r[6]![2] = "token:evil#tk_0"),
      "details edited": (r) => void (r[6]![7] = '{"n":999,"tags":["eu"]}'),
      "details re-spelt": (r) => void (r[1]![7] = '{ "n": 2, "tags": ["eu"] }'),
      "unreadable outcome": (r) => void (r[0]![6] = "maybe"),
      "a short row": (r) => void r[3]!.pop(),
      "marks not reached": () => {},
    };
    expect(checkRows(0, 0, rows(), []).ok).toBe(true);
    for (const [name, spoil] of Object.entries(cases)) {
      const r = rows();
      spoil(r);
      expect(checkRows(0, 0, r, name === "marks not reached" ? [9] : []).ok, name).toBe(false);
    }
    expect(checkRows(0, 0, [], []).ok).toBe(false);
  });
});
