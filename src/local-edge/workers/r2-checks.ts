// What R2 refuses of a Worker's binding call before any data moves, in the words workerd's R2
// binding throws (`<op>: <R2's message> (<code>)`). Limits and words are those of Miniflare's R2
// service, which mirrors R2's (developers.cloudflare.com/r2/platform/limits and the error-code
// page it cites): keys of 1024 bytes (10020), custom metadata of 8 KiB counted as R2 counts it
// (10012), list limits of 1 to 1000 (10022). Checked against workerd with that service.
const MAX_KEY_BYTES = 1024;
const MAX_METADATA = 8192;
const MAX_LIST = 1000;

/** R2's length of a metadata string: one unit per character, two when any is past U+00FF. */
const serialisedLength = (s: string) => ([...s].some((c) => c.charCodeAt(0) >= 256) ? s.length * 2 : s.length);

export function checkR2Key(op: string, key: string): void {
  if (new TextEncoder().encode(key).byteLength > MAX_KEY_BYTES) throw new Error(`${op}: The specified object name is not valid. (10020)`);
}

export function checkR2Metadata(op: string, custom: Record<string, string> | undefined): void {
  let n = 0;
  for (const [k, v] of Object.entries(custom ?? {})) n += serialisedLength(k) + serialisedLength(String(v));
  if (n > MAX_METADATA) throw new Error(`${op}: Your metadata headers exceed the maximum allowed metadata size. (10012)`);
}

export function checkR2ListLimit(limit: unknown): void {
  if (limit === undefined || limit === null) return;
  const n = Number(limit);
  if (!(n >= 1 && n <= MAX_LIST)) throw new Error("list: MaxKeys params must be positive integer <= 1000. (10022)");
}
