import { describe, expect, it } from "vitest";
import {
  base64ToBytes,
  base64urlToBytes,
  bytesToBase64,
  bytesToBase64url,
  bytesToHex,
  concatBytes,
  hexToBytes,
  toBytes,
  utf8Decode,
} from "./encoding.ts";

const ascii = (s: string) => new TextEncoder().encode(s);
// Reference encodings from the platform's own btoa (a Web API), independent of ours.
const refBase64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));

describe("encoding", () => {
  it("hex: every byte value round-trips, lowercase out, either case in", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const hex = bytesToHex(all);
    expect(hex).toMatch(/^[0-9a-f]{512}$/);
    expect(hex.slice(0, 8)).toBe("00010203");
    expect(hexToBytes(hex)).toEqual(all);
    expect(hexToBytes(hex.toUpperCase())).toEqual(all);
    expect(bytesToHex(new Uint8Array(0))).toBe("");
  });

  it("hex: odd length and non-hex characters are ERR_VALIDATION, without echoing the input", () => {
    for (const bad of ["abc", "zz", "0g", " 00", "0x00", "é0"]) {
      expect(() => hexToBytes(bad)).toThrow(expect.objectContaining({ code: "ERR_VALIDATION", message: "Not valid hex." }));
    }
  });

  it("base64 and base64url: RFC 4648 §10 vectors", () => {
    const vectors: [string, string][] = [
      ["", ""],
      ["f", "Zg=="],
      ["fo", "Zm8="],
      ["foo", "Zm9v"],
      ["foob", "Zm9vYg=="],
      ["fooba", "Zm9vYmE="],
      ["foobar", "Zm9vYmFy"],
    ];
    for (const [text, b64] of vectors) {
      expect(bytesToBase64(ascii(text))).toBe(b64);
      expect(base64ToBytes(b64)).toEqual(ascii(text));
      expect(bytesToBase64url(ascii(text))).toBe(b64.replace(/=+$/, ""));
      expect(base64urlToBytes(b64.replace(/=+$/, ""))).toEqual(ascii(text));
    }
  });

  it("base64 and base64url agree with btoa on random bytes of every length up to 100", () => {
    for (let n = 0; n <= 100; n++) {
      const bytes = crypto.getRandomValues(new Uint8Array(n));
      const ref = refBase64(bytes);
      expect(bytesToBase64(bytes)).toBe(ref);
      expect(bytesToBase64url(bytes)).toBe(ref.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""));
      expect(base64urlToBytes(bytesToBase64url(bytes))).toEqual(bytes);
      expect(base64ToBytes(ref)).toEqual(bytes);
    }
  });

  it("decoders are strict: one spelling per byte string", () => {
    for (const bad of ["Zh", "Zm9=", "Z", "Zm9v=", "Zg==", "Zm+v", "Zm/v", " Zg", "Zg\n"]) {
      expect(() => base64urlToBytes(bad), bad).toThrow(expect.objectContaining({ code: "ERR_VALIDATION" }));
    }
    for (const bad of ["Zg", "Zh==", "Zg=", "Zg===", "Z===", "Zm-v", "Zm_v", "=Zg=", "Zm9v\n"]) {
      expect(() => base64ToBytes(bad), bad).toThrow(expect.objectContaining({ code: "ERR_VALIDATION" }));
    }
  });

  it("utf-8 helpers copy bytes and refuse invalid UTF-8", () => {
    const src = new Uint8Array([1, 2, 3]);
    const copy = toBytes(src);
    src[0] = 9;
    expect(copy).toEqual(new Uint8Array([1, 2, 3]));
    expect(utf8Decode(toBytes("héllo ☃"))).toBe("héllo ☃");
    expect(() => utf8Decode(new Uint8Array([0xff, 0xfe]))).toThrow(expect.objectContaining({ code: "ERR_VALIDATION" }));
    expect(concatBytes(ascii("ab"), new Uint8Array(0), ascii("c"))).toEqual(ascii("abc"));
  });
});
