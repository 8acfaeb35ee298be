// Cloudflare's own error codes that callers branch on (CLOUDFLARE-API.md §6, -FLEET.md §11), and
// how to read them off a CboError: a failed call is ERR_CF_REQUEST / _RATE_LIMITED / _UNAVAILABLE
// by its HTTP status, with Cloudflare's codes in `details.cloudflareErrors` (errors.ts).
import { isCboError } from "../kit/errors.ts";

export const CF_ERROR = {
  /** Script / Worker not found (any `…/scripts/:name…`). */
  SCRIPT_NOT_FOUND: 10007,
  /** Service (the legacy name of a Worker) not found: `GET /workers/services/:name`. */
  SERVICE_NOT_FOUND: 10090,
  /** Service environment not found: wrangler reads it as "no migration tag". */
  ENVIRONMENT_NOT_FOUND: 10092,
  /** KV namespace title taken. */
  KV_TITLE_TAKEN: 10014,
  /** An `inherit` binding the previous version cannot satisfy (`bindings_inherit=strict`). */
  INHERIT_INVALID: 10057,
  /** A Durable Object binding to a class of this script that no migration created. */
  DO_CLASS_NOT_MIGRATED: 10061,
  /** Durable Object migrations whose `old_tag` is not the script's current migration tag. */
  MIGRATION_TAG_PRECONDITION: 10079,
  /** A version upload (`POST …/versions`) that carries a Durable Object migration. */
  VERSION_HAS_MIGRATION: 10211,
  /** `PATCH …/settings` while the latest version is not deployed at 100%. */
  SETTINGS_LATEST_NOT_DEPLOYED: 10214,
  /** Secret change while the latest version is not deployed at 100%. */
  LATEST_NOT_DEPLOYED: 10215,
  /** Secrets changed since the version a deployment names (`?force=true` goes ahead). */
  SECRETS_CHANGED: 10220,
  /** D1 database not found (HTTP 404). */
  D1_NOT_FOUND: 7404,
  /** D1 create: the name is taken. */
  D1_NAME_TAKEN: 7502,
  /** D1 create: the account's database limit. */
  D1_LIMIT: 7406,
  /** R2 NoSuchBucket (HTTP 404). */
  R2_NO_SUCH_BUCKET: 10006,
  /** R2 InvalidBucketName. */
  R2_INVALID_BUCKET_NAME: 10005,
  /** R2 BucketNotEmpty (HTTP 409). */
  R2_BUCKET_NOT_EMPTY: 10008,
  /** R2 BucketConflict: the name is taken (HTTP 409). */
  R2_BUCKET_EXISTS: 10073,
  /** Queues: invalid consumer settings. */
  QUEUE_INVALID_CONSUMER: 100127,
  /** Queues: invalid queue settings. */
  QUEUE_INVALID_SETTINGS: 100128,
} as const;

/** Cloudflare's codes carried by an error of this client (none for anything else). */
export function cloudflareCodes(e: unknown): number[] {
  if (!isCboError(e)) return [];
  const items = e.details?.cloudflareErrors;
  return Array.isArray(items) ? items.map((i) => Number((i as { code?: unknown }).code)).filter(Number.isFinite) : [];
}

/** True when the error carries one of these Cloudflare codes. */
export function hasCloudflareCode(e: unknown, ...codes: number[]): boolean {
  return cloudflareCodes(e).some((c) => codes.includes(c));
}

/** True for a failed call answered with HTTP 404 (whatever Cloudflare's code). */
export function isNotFound(e: unknown): boolean {
  return isCboError(e) && e.details?.status === 404;
}

/**
 * The call's value, or null when it failed with 404 meaning "no such thing": one of `codes`, or
 * no Cloudflare code at all. A 404 with another code (7003, a path that routes nowhere) still throws.
 */
export async function nullIfMissing<T>(call: Promise<T>, ...codes: number[]): Promise<T | null> {
  try {
    return await call;
  } catch (e) {
    if (isNotFound(e)) {
      const carried = cloudflareCodes(e);
      if (carried.length === 0 || carried.some((c) => codes.includes(c))) return null;
    }
    throw e;
  }
}
