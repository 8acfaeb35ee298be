// Cloudflare's names and limits, as the local edge enforces them: one place, so that every API
// surface the edge grows (D1, R2, Queues, Durable Objects) refuses what Cloudflare refuses, with
// its status and code, instead of storing it or failing with a 500.
//
// Sources: Workers KV limits (developers.cloudflare.com/kv/platform/limits: key 512 bytes, value
// 25 MiB, metadata 1024 bytes), the KV API reference (bulk writes and deletes: 10,000 pairs, the
// whole request 100 MB; bulk reads: 100 keys; namespace title: maxLength 512 in the OpenAPI
// schema), the Workers script-name pattern `^[a-z0-9_][a-z0-9-_]*$` of the OpenAPI schema with the
// documented 63-character limit. Codes marked (real) were observed from Cloudflare; (ours) are
// local stand-ins, documented in envelope.ts.
import { CF_CODES, CfApiError } from "./envelope.ts";

export const LIMITS = {
  /** Any API request body (Cloudflare's own cap for the API; KV's bulk writes say "100 MB or less"). */
  requestBytes: 100 * 1024 * 1024,
  /**
   * An R2 object PUT through the API (`wrangler r2 object put --remote`): 300 MiB, wrangler's own
   * MAX_UPLOAD_SIZE_BYTES for that call and R2's documented Wrangler upload limit (315 MB).
   */
  r2ObjectBytes: 300 * 1024 * 1024,
  /** Nesting of any JSON the edge parses (ours: Cloudflare's is not documented). */
  jsonDepth: 128,
  scriptName: { pattern: /^[a-z0-9_][a-z0-9_-]*$/, maxLength: 63 },
  kv: {
    keyBytes: 512,
    valueBytes: 25 * 1024 * 1024,
    metadataBytes: 1024,
    titleChars: 512,
    bulkWritePairs: 10_000,
    bulkDeleteKeys: 10_000,
    bulkGetKeys: 100,
  },
} as const;

const utf8Length = (s: string) => new TextEncoder().encode(s).length;

/** A Worker (script) name as Cloudflare accepts it: 400, code 10016 (real) otherwise. */
export function checkScriptName(name: string): void {
  const { pattern, maxLength } = LIMITS.scriptName;
  if (name.length > maxLength || !pattern.test(name)) {
    throw new CfApiError(
      400,
      CF_CODES.INVALID_SCRIPT_NAME,
      `workers.api.error.invalid_script_name: a Worker name has 1 to ${maxLength} lowercase letters, digits, dashes and underscores, not starting with a dash.`,
    );
  }
}

/** A KV key: not empty, not "." or "..", at most 512 bytes (414 when longer, as Cloudflare answers). */
export function checkKvKey(key: string): void {
  if (key === "") throw new CfApiError(400, CF_CODES.BAD_REQUEST, "Key names must not be empty.");
  if (key === "." || key === "..")
    throw new CfApiError(400, CF_CODES.BAD_REQUEST, `Illegal key name "${key}". Please use a different name.`);
  const n = utf8Length(key);
  if (n > LIMITS.kv.keyBytes)
    throw new CfApiError(414, CF_CODES.BAD_REQUEST, `UTF-8 encoded length of ${n} exceeds key length limit of ${LIMITS.kv.keyBytes}.`);
}

/** KV metadata: any JSON value of at most 1024 bytes once serialised (413 otherwise). */
export function checkKvMetadata(metadata: unknown): void {
  if (metadata === null || metadata === undefined) return;
  const n = utf8Length(JSON.stringify(metadata));
  if (n > LIMITS.kv.metadataBytes)
    throw new CfApiError(413, CF_CODES.KV_METADATA_TOO_LARGE, `Metadata length of ${n} exceeds limit of ${LIMITS.kv.metadataBytes}.`);
}

export function checkKvValue(bytes: number): void {
  if (bytes > LIMITS.kv.valueBytes)
    throw new CfApiError(413, CF_CODES.KV_VALUE_TOO_LARGE, `Value length of ${bytes} exceeds limit of ${LIMITS.kv.valueBytes}.`);
}

/** A KV namespace title: a non-empty string of at most 512 characters. */
export function checkKvTitle(title: unknown): string {
  if (typeof title !== "string" || title.trim() === "")
    throw new CfApiError(400, CF_CODES.BAD_REQUEST, "A namespace needs a non-empty `title`.");
  if ([...title].length > LIMITS.kv.titleChars)
    throw new CfApiError(400, CF_CODES.BAD_REQUEST, `A namespace title has at most ${LIMITS.kv.titleChars} characters.`);
  return title;
}

/** A bulk request's item count: 400, code 10012 (real, with Cloudflare's wording) beyond `max`. */
export function checkBulkCount(count: number, max: number, what: string): void {
  if (count > max) throw new CfApiError(400, CF_CODES.KV_BULK_LIMIT, `received ${count} ${what}, but max allowed per request is: ${max}`);
}
