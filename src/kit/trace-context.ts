// W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` header both sides of
// the edge carry, parsed and written on WebCrypto only so that the daemon (Node) and the edge agent
// (workerd) share one reading of it. A trace id is correlation, never authority: nothing is
// allowed or refused because of one.
//
//   traceparent = 00-<32 hex trace id>-<16 hex parent span id>-<2 hex flags>   (flag 01: sampled)

export type TraceContext = { traceId: string; spanId: string; sampled: boolean };

export const TRACEPARENT_HEADER = "traceparent";
export const TRACESTATE_HEADER = "tracestate";

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-[^\s]*)?$/;
const ZEROS = /^0+$/;

/** The header's context, or undefined for anything the spec says to ignore (a bad version, all-zero ids). */
export function parseTraceparent(header: string | null | undefined): TraceContext | undefined {
  if (!header || header.length > 512) return undefined;
  const m = TRACEPARENT.exec(header.trim());
  if (!m) return undefined;
  const [, version, traceId, spanId, flags, rest] = m as unknown as [string, string, string, string, string, string | undefined];
  // Version ff is invalid; version 00 has nothing after the flags (later versions may, and are read as 00).
  if (version === "ff" || (version === "00" && rest !== undefined)) return undefined;
  if (ZEROS.test(traceId) || ZEROS.test(spanId)) return undefined;
  return { traceId, spanId, sampled: (Number.parseInt(flags, 16) & 1) === 1 };
}

export function formatTraceparent(c: TraceContext): string {
  return `00-${c.traceId}-${c.spanId}-${c.sampled ? "01" : "00"}`;
}

/**
 * `tracestate` is opaque to us and passed on as received, when it is within the spec's limits
 * (at most 512 characters of printable ASCII, at most 32 list members); anything else is dropped.
 */
export function cleanTracestate(header: string | null | undefined): string | undefined {
  if (!header || header.length > 512 || !/^[\x20-\x7e]*$/.test(header)) return undefined;
  const members = header.split(",").filter((m) => m.trim() !== "");
  if (members.length === 0 || members.length > 32 || members.some((m) => !m.includes("="))) return undefined;
  return header;
}

// Ids come from a pooled buffer of random bytes: one getRandomValues call per 512 span ids rather
// than one per span (a span per API request and Cloudflare call must stay cheap).
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
let pool = new Uint8Array(0);
let at = 0;

function randomHex(bytes: number): string {
  if (at + bytes > pool.length) {
    pool = crypto.getRandomValues(new Uint8Array(4096));
    at = 0;
  }
  let s = "";
  for (let i = 0; i < bytes; i++) s += HEX[pool[at + i]!];
  at += bytes;
  // All-zero ids are invalid; 2^-64 at worst, but cheap to rule out.
  return ZEROS.test(s) ? randomHex(bytes) : s;
}

export const newTraceId = (): string => randomHex(16);
export const newSpanId = (): string => randomHex(8);
