// Byte <-> text encodings on plain Web APIs (no Node Buffer), so the same code runs in Workers.
// Decoders are strict and canonical (one accepted spelling per byte string): signatures and keys
// travel in these encodings, and a second spelling of the same bytes would be a way around
// anything keyed on the text. Errors never echo the input, which may be key material.
import { CboError } from "../errors.ts";

const HEX_DIGITS = "0123456789abcdef";
const HEX_BYTE = Array.from({ length: 256 }, (_, i) => HEX_DIGITS[i >> 4]! + HEX_DIGITS[i & 15]!);
const B64_STD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

function decodeTable(alphabet: string): Int16Array {
  const table = new Int16Array(128).fill(-1);
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i;
  return table;
}
const HEX_VALUE = decodeTable("0123456789abcdef");
for (let i = 0; i < 6; i++) HEX_VALUE["ABCDEF".charCodeAt(i)] = 10 + i;
const B64_STD_VALUE = decodeTable(B64_STD);
const B64_URL_VALUE = decodeTable(B64_URL);

const invalid = (what: string) => new CboError("ERR_VALIDATION", `Not valid ${what}.`);

/** Lowercase hex. */
export function bytesToHex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += HEX_BYTE[bytes[i]!];
  return out;
}

/** Hex (either case) to bytes; throws ERR_VALIDATION on odd length or a non-hex character. */
export function hexToBytes(hex: string): Uint8Array<ArrayBuffer> {
  if (hex.length % 2 !== 0) throw invalid("hex");
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = HEX_VALUE[hex.charCodeAt(2 * i)] ?? -1;
    const lo = HEX_VALUE[hex.charCodeAt(2 * i + 1)] ?? -1;
    if (hi < 0 || lo < 0) throw invalid("hex");
    out[i] = (hi << 4) | lo;
  }
  return out;
}

function encode64(bytes: Uint8Array, alphabet: string, pad: boolean): string {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + alphabet[(n >> 6) & 63]! + alphabet[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + (pad ? "==" : "");
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + alphabet[(n >> 6) & 63]! + (pad ? "=" : "");
  }
  return out;
}

function decode64(text: string, table: Int16Array, what: string): Uint8Array<ArrayBuffer> {
  const rest = text.length % 4;
  if (rest === 1) throw invalid(what);
  const out = new Uint8Array(Math.floor(text.length / 4) * 3 + (rest === 0 ? 0 : rest - 1));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const v = table[text.charCodeAt(i)] ?? -1;
    if (v < 0) throw invalid(what);
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  // Leftover bits must be zero, or two texts would decode to the same bytes.
  if ((acc & ((1 << bits) - 1)) !== 0) throw invalid(what);
  return out;
}

/** base64url without padding (RFC 4648 §5), as JWK and JWS use it. */
export function bytesToBase64url(bytes: Uint8Array): string {
  return encode64(bytes, B64_URL, false);
}

/** Strict base64url: no padding, no whitespace, canonical final character. */
export function base64urlToBytes(text: string): Uint8Array<ArrayBuffer> {
  return decode64(text, B64_URL_VALUE, "base64url");
}

/** Standard base64 with padding (RFC 4648 §4). */
export function bytesToBase64(bytes: Uint8Array): string {
  return encode64(bytes, B64_STD, true);
}

/** Strict padded base64. */
export function base64ToBytes(text: string): Uint8Array<ArrayBuffer> {
  if (text.length % 4 !== 0) throw invalid("base64");
  const pad = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  return decode64(text.slice(0, text.length - pad), B64_STD_VALUE, "base64");
}

const encoder = new TextEncoder();

/** UTF-8 bytes of a string; bytes are copied so callers' buffers are never aliased. */
export function toBytes(data: string | Uint8Array): Uint8Array<ArrayBuffer> {
  // Copying also pins the buffer type to ArrayBuffer, which WebCrypto's signatures ask for.
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return copy;
}

/** UTF-8 text; throws ERR_VALIDATION on invalid UTF-8 rather than inventing U+FFFD. */
export function utf8Decode(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw invalid("UTF-8");
  }
}

export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
