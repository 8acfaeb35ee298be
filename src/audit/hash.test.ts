// The entry body is written by hand for speed (hash.ts); these pin it to canonicalJson, for every
// kind of string in every field and for every UTF-16 code unit.
import { describe, expect, it } from "vitest";
import { canonicalJson } from "./canonical.ts";
import { entryBody, entryBodyOf } from "./hash.ts";

const base = {
  seq: 7,
  at: "2026-01-01T00:00:00.000Z",
  actor: "token:ci#tk_1",
  action: "secret.put",
  target: "secret:A" as string | null,
  tenant: null as string | null,
  outcome: "ok" as const,
  details: { n: 1, s: 'x"y' },
  prev_hash: "ab".repeat(32),
};

/** Strings that JSON.stringify writes in every way it can: plain, escaped, \u-escaped, surrogates. */
const tricky = [
  "",
  "plain",
  'q"uote',
  "back\\slash",
  "nl\n",
  "tab\t",
  "\u0000",
  "\u001f",
  "\u007f",
  "é",
  "日本",
  "😀",
  "\ud800",
  "\udfff",
  "a\ud800b",
  "\u2028\u2029",
  "\ufeffbom",
  "</script>",
  "x".repeat(300),
];

describe("entry body", () => {
  it("is canonicalJson of the fields for every kind of string in every field", () => {
    for (const s of tricky) {
      for (const field of ["actor", "action", "at", "target", "tenant", "outcome", "prev_hash"] as const) {
        const e = { ...base, [field]: s };
        expect(entryBody(e), `${field} = ${JSON.stringify(s)}`).toBe(canonicalJson(e));
      }
    }
    expect(entryBody({ ...base, target: null, tenant: "acme" })).toBe(canonicalJson({ ...base, target: null, tenant: "acme" }));
  });

  it("is canonicalJson with any UTF-16 code unit in a field", () => {
    const wrong: string[] = [];
    for (let c = 0; c < 0x10000; c++) {
      const actor = `a${String.fromCharCode(c)}b`;
      const body = entryBodyOf(
        base.action,
        actor,
        base.at,
        canonicalJson(base.details),
        base.outcome,
        base.prev_hash,
        base.seq,
        base.target,
        base.tenant,
      );
      if (body !== canonicalJson({ ...base, actor })) wrong.push(`U+${c.toString(16)}`);
    }
    expect(wrong).toEqual([]);
  });
});
