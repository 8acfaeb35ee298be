import { describe, expect, it } from "vitest";
import { canonicalJson } from "./canonical-json.ts";

describe("canonicalJson", () => {
  it("sorts members, drops whitespace, keeps arrays in order", () => {
    expect(canonicalJson({ b: [3, 1, { d: 1, c: null }], a: "x", é: true })).toBe(`{"a":"x","b":[3,1,{"c":null,"d":1}],"é":true}`);
    expect(canonicalJson(-0)).toBe("0");
  });

  it("refuses what has no single JSON spelling", () => {
    for (const bad of [Number.NaN, Infinity, { a: undefined }, new Date(0), () => 1, 1n]) {
      expect(() => canonicalJson(bad)).toThrow(/plain JSON/);
    }
  });
});
