import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "./canonical.ts";
import { checkpointBody } from "./checkpoint-body.ts";
import { entryBody, entryHash } from "./hash.ts";
import { GENESIS_HASH } from "./schema.ts";

describe("canonicalJson", () => {
  it("sorts keys at every depth, keeps array order, writes no whitespace", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1, { z: null, y: true }], c: "x" } })).toBe(
      '{"a":{"c":"x","d":[3,1,{"y":true,"z":null}]},"b":1}',
    );
  });

  it("orders keys by UTF-16 code units (upper case before lower, then non-ASCII)", () => {
    expect(canonicalJson({ b: 0, B: 0, é: 0, a: 0, _: 0 })).toBe('{"B":0,"_":0,"a":0,"b":0,"é":0}');
  });

  it("spells strings and numbers as JSON.stringify does", () => {
    expect(canonicalJson({ s: 'q"\\\n\u0001é😀', n: [1.5, -0, 1e21, 0.1] })).toBe('{"n":[1.5,0,1e+21,0.1],"s":"q\\"\\\\\\n\\u0001é😀"}');
    expect(canonicalJson("\ud800")).toBe('"\\ud800"');
  });

  it("refuses what JSON cannot carry faithfully", () => {
    for (const bad of [NaN, Infinity, undefined, () => 1, new Date(0), new Map(), 10n, { a: undefined }]) {
      expect(() => canonicalJson(bad), String(bad)).toThrow(/plain JSON/);
    }
  });
});

describe("entry hash", () => {
  const fields = {
    seq: 7,
    at: "2026-01-02T03:04:05.006Z",
    actor: "token:t1",
    action: "secret.read",
    target: "secret:DB_URL",
    tenant: null,
    outcome: "ok" as const,
    details: { version: 3, valueHash: "ab".repeat(32), note: "naïve" },
    prev_hash: GENESIS_HASH,
  };

  it("hashes the canonical JSON of every field but the hash (pinned spelling)", () => {
    const body =
      '{"action":"secret.read","actor":"token:t1","at":"2026-01-02T03:04:05.006Z",' +
      `"details":{"note":"naïve","valueHash":"${"ab".repeat(32)}","version":3},"outcome":"ok",` +
      `"prev_hash":"${GENESIS_HASH}","seq":7,"target":"secret:DB_URL","tenant":null}`;
    expect(entryBody(fields)).toBe(body);
    expect(entryBody(fields)).toBe(canonicalJson(fields));
    expect(entryHash(fields)).toBe(createHash("sha256").update(Buffer.from(body, "utf8")).digest("hex"));
  });

  it("changes with any field, including the position (seq)", () => {
    const h = entryHash(fields);
    expect(entryHash({ ...fields, seq: 8 })).not.toBe(h);
    expect(entryHash({ ...fields, tenant: "acme" })).not.toBe(h);
    expect(entryHash({ ...fields, details: { ...fields.details, version: 4 } })).not.toBe(h);
  });
});

describe("checkpoint body", () => {
  it("is canonical JSON with a domain-separating kind", () => {
    const body = new TextDecoder().decode(
      checkpointBody({
        tree_size: 2,
        merkle_root: "1".repeat(64),
        head_hash: "2".repeat(64),
        key_id: "ed25519:k",
        at: "2026-01-01T00:00:00.000Z",
      }),
    );
    expect(body).toBe(
      `{"at":"2026-01-01T00:00:00.000Z","head_hash":"${"2".repeat(64)}","key_id":"ed25519:k","kind":"cbo.audit.checkpoint.v1","merkle_root":"${"1".repeat(64)}","tree_size":2}`,
    );
  });
});
