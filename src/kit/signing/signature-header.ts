// The signature header, Stripe's shape: `t=<unix seconds>,v1=<hex>[,v1=<hex>…]`.
// Stricter than Stripe on purpose, since we write both ends: `t` comes first and once, in
// canonical decimal; every other entry is `v1=` with exactly 64 lowercase hex digits; no
// whitespace, no unknown schemes, at most MAX_SIGNATURES entries and MAX_HEADER_LENGTH characters.
// One spelling per (timestamp, signatures) means nothing downstream can be fooled by a second
// spelling, and the caps bound the HMAC work an unauthenticated request can cause.

export const MAX_SIGNATURES = 4;
export const MAX_HEADER_LENGTH = 512;

export type ParsedSignatureHeader = {
  /** Unix seconds, as signed. */
  timestamp: number;
  /** Lowercase hex HMAC-SHA256 values, in header order. */
  signatures: string[];
};

const TIMESTAMP = /^t=(0|[1-9][0-9]{0,11})$/;
const V1 = /^v1=([0-9a-f]{64})$/;

/** The parsed header, or undefined for anything not in the grammar above. Never throws. */
export function parseSignatureHeader(header: unknown): ParsedSignatureHeader | undefined {
  if (typeof header !== "string" || header.length === 0 || header.length > MAX_HEADER_LENGTH) return undefined;
  const [first, ...rest] = header.split(",");
  const t = TIMESTAMP.exec(first ?? "");
  if (t === null || rest.length === 0 || rest.length > MAX_SIGNATURES) return undefined;
  const signatures: string[] = [];
  for (const entry of rest) {
    const v1 = V1.exec(entry);
    if (v1 === null) return undefined;
    signatures.push(v1[1]!);
  }
  return { timestamp: Number(t[1]), signatures };
}

export function formatSignatureHeader(timestamp: number, signatures: readonly string[]): string {
  return [`t=${timestamp}`, ...signatures.map((s) => `v1=${s}`)].join(",");
}
