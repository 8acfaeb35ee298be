// Cloudflare's v4 envelope and the error codes the local edge answers with. Codes marked
// "(real)" are Cloudflare's own and wrangler branches on several of them; codes marked "(ours)"
// stand where the real API's code was not observed (see CLOUDFLARE-API.md §6).
import type { Context } from "hono";

export const CF_CODES = {
  /** (real) authentication error: missing or wrong token. */
  AUTH: 10000,
  /** (real) route not found. */
  NO_ROUTE: 7003,
  /** (real) script / worker not found. */
  SCRIPT_NOT_FOUND: 10007,
  /** (real) KV key not found. */
  KV_KEY_NOT_FOUND: 10009,
  /** (real) KV namespace with this title exists. */
  KV_DUPLICATE_TITLE: 10014,
  /** (real) upload validation / script startup error. */
  SCRIPT_INVALID: 10021,
  /**
   * (real) a plain_text or secret_text binding over 5 KiB (workers.api.error.text_binding_too_large):
   * wrangler-legacy's `secret put` explains 10054 as "Your secret is too large, it must be 5kB or
   * less" (src/commands/secret.rs), and Reflect's deploy code (rocicorp) records this code and message
   * for a var over 5,120 bytes. Status 400 assumed.
   */
  TEXT_BINDING_TOO_LARGE: 10054,
  /** (real) KV namespace not found. */
  KV_NAMESPACE_NOT_FOUND: 10013,
  /** (real) KV binding to a namespace that does not exist. */
  KV_BINDING_INVALID: 10041,
  /** (real) service / environment not found. */
  SERVICE_NOT_FOUND: 10090,
  /** (real) secret change refused while the latest version is not deployed at 100%. */
  LATEST_NOT_DEPLOYED: 10215,
  /** (real) rate limited. */
  RATE_LIMITED: 971,
  /** (real) the Worker (script) name breaks the naming rule (workers.api.error.invalid_script_name). */
  INVALID_SCRIPT_NAME: 10016,
  /** (real) a bulk KV request with too many items ("received N key/value pairs, but max allowed per request is: 10000"). */
  KV_BULK_LIMIT: 10012,
  /** (ours) a KV value or its metadata is larger than KV allows (25 MiB, 1024 bytes); status 413. */
  KV_VALUE_TOO_LARGE: 10033,
  KV_METADATA_TOO_LARGE: 10033,
  /** (ours) the request body is larger than the API accepts (100 MiB); status 413. */
  REQUEST_TOO_LARGE: 10413,
  /** (real) an `inherit` binding the previous version cannot satisfy (bindings_inherit=strict). */
  INHERIT_INVALID: 10057,
  /** (real) Durable Object binding to a class of this script that no migration created. */
  DO_CLASS_NOT_MIGRATED: 10061,
  /** (real) migrations' old_tag is not the script's current migration tag. */
  MIGRATION_TAG_PRECONDITION: 10079,
  /** (real) a versions upload (POST …/versions) that carries a Durable Object migration. */
  VERSION_HAS_MIGRATION: 10211,
  /**
   * (real, rule unconfirmed) a deployment that puts traffic back on an older version whose secrets differ from
   * the live ones, without ?force=true (wrangler's `rollback` parses the names and asks, then forces).
   */
  SECRETS_CHANGED: 10220,
  /** (real) PATCH …/settings while the latest version is not deployed at 100%. */
  SETTINGS_LATEST_NOT_DEPLOYED: 10214,
  /** (ours) a deployment naming a version older than the script's last Durable Object migration. */
  DEPLOY_ACROSS_MIGRATION: 10238,
  /** (ours) a route pattern or custom domain already belongs to another Worker. */
  ROUTE_CONFLICT: 10239,
  /** (ours) Durable Object namespace not found. */
  DO_NAMESPACE_NOT_FOUND: 10240,
  /** (ours) custom domain not found. */
  DOMAIN_NOT_FOUND: 10241,
  /** (ours) zone, or zone route, not found. */
  ZONE_NOT_FOUND: 1001,
  /** (ours) secret not found. */
  SECRET_NOT_FOUND: 10056,
  /** (ours) version not found for this script. */
  VERSION_NOT_FOUND: 10235,
  /** (ours) deployment body invalid: strategy, version count or percentages not adding to 100. */
  DEPLOYMENT_INVALID: 10236,
  /** (ours) deployment not found, or the live one cannot be deleted. */
  DEPLOYMENT_NOT_FOUND: 10237,
  /** (ours) the request body is not valid JSON or misses required fields. */
  BAD_REQUEST: 10001,
  /** (ours) tunnel not found. */
  TUNNEL_NOT_FOUND: 1003,
  /** (ours) the region is in an injected outage. */
  UNAVAILABLE: 10503,
  /** (ours) a bug in the local edge: it answers in the envelope rather than crash. */
  INTERNAL: 10500,
  /** (ours) the edge's data directory is out of room (SQLITE_FULL, ENOSPC): nothing was written; status 507. */
  DISK_FULL: 10507,
  /** (ours) an eleventh tail session on one Worker (Cloudflare allows 10 viewers); status 429. */
  TOO_MANY_TAILS: 10242,
  /** (ours) no tail session with that id on this Worker. */
  TAIL_NOT_FOUND: 10243,
  /** (real) a Worker with no uploaded versions (wrangler's "upload a version before modifying a secret"). */
  NO_VERSIONS: 10222,
  /** (ours) a Worker other Workers bind to (service, Durable Object, tail consumer) deleted without force=true; status 409. */
  SCRIPT_IN_USE: 10244,
  /**
   * (real) a Worker that is a queue's consumer deleted without force=true: "script still in use as a
   * consumer for a queue" (cloudflare/workers-sdk#3370; tldraw/tldraw#6133 deletes the consumer first
   * or forces). Status 409 assumed, as for SCRIPT_IN_USE.
   */
  SCRIPT_QUEUE_CONSUMER: 10064,

  // --- D1, R2, Queues, crons (CLOUDFLARE-API-FLEET.md §11, §12) ---
  /** (real) D1 database not found (HTTP 404; wrangler branches on the status and the code). */
  D1_NOT_FOUND: 7404,
  /** (real) D1 create: a database with that name already exists. */
  D1_NAME_TAKEN: 7502,
  /** (ours, commonly seen) D1 query failed: the message is SQLite's, with its SQLITE_* code. */
  D1_QUERY_FAILED: 7500,
  /** (ours) D1 request invalid: name, location, jurisdiction, bookmark, timestamp or body. */
  D1_BAD_REQUEST: 7400,
  /** (real) R2 NoSuchBucket. */
  R2_NO_SUCH_BUCKET: 10006,
  /** (real) R2 NoSuchKey. */
  R2_NO_SUCH_KEY: 10007,
  /** (real) R2 BucketNotEmpty. */
  R2_BUCKET_NOT_EMPTY: 10008,
  /** (real) R2 InvalidBucketName. */
  R2_INVALID_BUCKET_NAME: 10005,
  /** (real) R2 BucketConflict: the name is taken. */
  R2_BUCKET_EXISTS: 10073,
  /** (ours) R2 request invalid (storage class, location hint, object key, a CORS/lifecycle/lock rule list). */
  R2_BAD_REQUEST: 10040,
  /** (ours) queue not found. */
  QUEUE_NOT_FOUND: 11000,
  /** (ours) a queue with that name exists. */
  QUEUE_EXISTS: 11009,
  /** (ours) queue consumer not found. */
  QUEUE_CONSUMER_NOT_FOUND: 11001,
  /** (real) invalid queue consumer settings. */
  QUEUE_INVALID_CONSUMER: 100127,
  /**
   * (real) a queue that already has a consumer given another (workers.api.error.consumer_exists),
   * as `wrangler deploy` reported it (cloudflare/workers-sdk#5347). Status 400 assumed.
   */
  QUEUE_CONSUMER_EXISTS: 11004,
  /** (real) invalid queue settings. */
  QUEUE_INVALID_SETTINGS: 100128,
  /** (ours) pull or ack on a queue without an HTTP pull consumer (`wrangler queues consumer http add`). */
  QUEUE_NO_PULL_CONSUMER: 11010,
  /** (ours) a message pushed over HTTP that Queues would refuse: content type, body, delay or size. */
  QUEUE_MESSAGE_INVALID: 11011,
  /** (ours) a cron schedule that does not parse. */
  CRON_INVALID: 10100,
} as const;

/** An API failure with Cloudflare's status and code; the app's error handler renders it. */
export class CfApiError extends Error {
  readonly status: number;
  readonly code: number;
  readonly headers: Record<string, string>;
  /** Further errors of the same answer (Cloudflare lists one per offending item, e.g. per binding). */
  readonly more: Array<{ code: number; message: string }>;
  constructor(
    status: number,
    code: number,
    message: string,
    headers: Record<string, string> = {},
    more: Array<{ code: number; message: string }> = [],
  ) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers;
    this.more = more;
  }
}

export const notFoundScript = (name: string) =>
  new CfApiError(
    404,
    CF_CODES.SCRIPT_NOT_FOUND,
    `This Worker does not exist on your account. [workers.api.error.script_not_found] (${name})`,
  );

export const badRequest = (message: string, code: number = CF_CODES.BAD_REQUEST) => new CfApiError(400, code, message);

export type ResultInfo = Record<string, unknown>;

export function envelope(result: unknown, resultInfo?: ResultInfo): Record<string, unknown> {
  return { success: true, errors: [], messages: [], result, ...(resultInfo ? { result_info: resultInfo } : {}) };
}

export function ok(c: Context, result: unknown, resultInfo?: ResultInfo): Response {
  return c.json(envelope(result, resultInfo));
}

export function errorBody(code: number, message: string, more: Array<{ code: number; message: string }> = []): Record<string, unknown> {
  return { success: false, errors: [{ code, message }, ...more], messages: [], result: null };
}

export function errorResponse(err: CfApiError): Response {
  return new Response(JSON.stringify(errorBody(err.code, err.message, err.more)), {
    status: err.status,
    headers: { "content-type": "application/json", ...err.headers },
  });
}

/** page/per_page pagination; past the end it answers an empty page, which ends SDK iterators. */
export function pageParams(c: Context, defaultPerPage = 20, maxPerPage = 1000): { page: number; perPage: number; offset: number } {
  const page = Math.max(1, Math.floor(Number(c.req.query("page") ?? 1)) || 1);
  const perPage = Math.min(maxPerPage, Math.max(1, Math.floor(Number(c.req.query("per_page") ?? defaultPerPage)) || defaultPerPage));
  return { page, perPage, offset: (page - 1) * perPage };
}

export function pageInfo(page: number, perPage: number, count: number, total: number): ResultInfo {
  return { page, per_page: perPage, count, total_count: total, total_pages: Math.max(1, Math.ceil(total / perPage)) };
}
