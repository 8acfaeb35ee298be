import { describe, expect, it } from "vitest";
import { decodeV8, encodeV8 } from "./workers/queue-codec.ts";

describe("the v8 queue-message codec (structured clone as text)", () => {
  it("round-trips what structured clone keeps", () => {
    const shared = { n: 1 };
    const value = {
      s: "text",
      n: 1.5,
      big: 12345678901234567890n,
      nan: NaN,
      inf: -Infinity,
      negZero: -0,
      undef: undefined,
      nul: null,
      date: new Date(5),
      re: /a+b/gi,
      map: new Map<unknown, unknown>([["k", new Set([1, 2])]]),
      bytes: new Uint8Array([0, 255]),
      buf: new Uint16Array([65535]).buffer,
      list: [shared, shared],
      err: new TypeError("bad"),
    };
    const back = decodeV8(encodeV8(value)) as typeof value;
    expect(back).toEqual(structuredClone(value));
    expect(Object.is(back.negZero, -0)).toBe(true);
    expect("undef" in back).toBe(true);
    expect(back.list[0]).toBe(back.list[1]); // shared references stay shared
    expect(back.bytes).toBeInstanceOf(Uint8Array);
    expect(back.err).toBeInstanceOf(Error);
  });
  it("keeps cycles, and user arrays can never pass for tags", () => {
    const a: Record<string, unknown> = { tag: ["u"] };
    a.self = a;
    const back = decodeV8(encodeV8(a)) as Record<string, unknown>;
    expect(back.self).toBe(back);
    expect(back.tag).toEqual(["u"]);
  });
  it("refuses functions and symbols with a DataCloneError", () => {
    expect(() => encodeV8({ f: () => 1 })).toThrow(expect.objectContaining({ name: "DataCloneError" }));
    expect(() => encodeV8(Symbol("x"))).toThrow(expect.objectContaining({ name: "DataCloneError" }));
  });
});
