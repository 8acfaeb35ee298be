// Identifier helpers on WebCrypto only, so Workers can use them too.

/** 32 lowercase hex characters: the shape of Cloudflare account, namespace and script tags. */
export function hexId(bytes = 16): string {
  const buf = new Uint8Array(bytes);
  crypto.getRandomValues(buf);
  return Array.from(buf, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function uuid(): string {
  return crypto.randomUUID();
}

/** Deterministic 32-hex id from a string (e.g. a region name), so ids survive restarts. */
export async function stableHexId(input: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(input));
  return Array.from(new Uint8Array(digest).slice(0, 16), (b) => b.toString(16).padStart(2, "0")).join("");
}
