import { describe, expect, it } from "vitest";
import { MAX_HEADER_LENGTH, MAX_SIGNATURES, formatSignatureHeader, parseSignatureHeader } from "./signature-header.ts";

const sig = (c: string) => c.repeat(64);

describe("signature header", () => {
  it("formats and parses back one to MAX_SIGNATURES signatures", () => {
    for (let n = 1; n <= MAX_SIGNATURES; n++) {
      const sigs = Array.from({ length: n }, (_, i) => sig("0123456789abcdef"[i]!));
      const header = formatSignatureHeader(1_700_000_000, sigs);
      expect(header.length).toBeLessThanOrEqual(MAX_HEADER_LENGTH);
      expect(parseSignatureHeader(header)).toEqual({ timestamp: 1_700_000_000, signatures: sigs });
    }
    expect(parseSignatureHeader(`t=0,v1=${sig("a")}`)).toEqual({ timestamp: 0, signatures: [sig("a")] });
  });

  it("has one spelling: t first and once, canonical digits, lowercase 64-hex v1 only", () => {
    for (const bad of [
      `v1=${sig("a")},t=1`,
      `t=1,t=1,v1=${sig("a")}`,
      `t=01,v1=${sig("a")}`,
      `t=1,v1=${sig("A")}`,
      `t=1,v1=${sig("a")},`,
      `t=1,,v1=${sig("a")}`,
      `t=1,v2=${sig("a")}`,
      `t=1,v1=${sig("a")} `,
      `t=1,${Array(MAX_SIGNATURES + 1)
        .fill(`v1=${sig("a")}`)
        .join(",")}`,
    ]) {
      expect(parseSignatureHeader(bad), bad).toBeUndefined();
    }
  });
});
