// The one error type of the project. Every code is listed once below with whether it is the
// user's to fix (4xx, CLI exit 1) or ours/the environment's (5xx, CLI exit 2), and whether trying
// again later can succeed. Runtime-neutral: edge code imports this too.

export const ERROR_CODES = {
  // --- user errors -------------------------------------------------------------------------
  /** A command line that does not parse: unknown command or flag, missing argument. */
  ERR_USAGE: { status: 400, user: true, retryable: false },
  /** Input (file, flag value, HTTP body) fails its schema; details name the path. */
  ERR_VALIDATION: { status: 400, user: true, retryable: false },
  /** A named thing (worker, version, region, key) does not exist. */
  ERR_NOT_FOUND: { status: 404, user: true, retryable: false },
  /** The path is served, but not with this method (PATCH, OPTIONS, DELETE where only GET is);
   *  details and the Allow header list the methods it takes. */
  ERR_METHOD_NOT_ALLOWED: { status: 405, user: true, retryable: false },
  /** The request contradicts current state (duplicate name, stale version). */
  ERR_CONFLICT: { status: 409, user: true, retryable: false },
  /** A release asked for while orchestrator.yaml's `windows` deny releases (override with a reason). */
  ERR_RELEASE_WINDOW: { status: 409, user: true, retryable: false },
  /** No or wrong credentials. */
  ERR_UNAUTHORIZED: { status: 401, user: true, retryable: false },
  /** Credentials are valid but not allowed to do this. */
  ERR_FORBIDDEN: { status: 403, user: true, retryable: false },
  /** Cloudflare refused the request as malformed or not allowed (a 4xx other than 429). */
  ERR_CF_REQUEST: { status: 400, user: true, retryable: false },
  /** The Node.js running us is too old. */
  ERR_NODE_VERSION: { status: 400, user: true, retryable: false },
  /** A Worker's bundle would read a file it may not: outside the Worker's project root (an
   *  absolute path, `../` or a symlink out), or the orchestrator's own data and key files. */
  ERR_BUNDLE_CONFINED: { status: 400, user: true, retryable: false },
  /** Too many failed authentication attempts from this client address or with this token
   *  prefix; refused for a while (retry-after says how long). */
  ERR_RATE_LIMITED: { status: 429, user: true, retryable: true },
  /** A request body larger than its route takes (counted while it streams in, whatever the
   *  content-length says); details say the limit. */
  ERR_PAYLOAD_TOO_LARGE: { status: 413, user: true, retryable: false },
  /** A request body sent with a content-type other than JSON (form encoding, text/plain). */
  ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, user: true, retryable: false },
  /** The request's header block is larger than the daemon reads (16 KiB, node:http's limit);
   *  answered before any route, so before authentication. */
  ERR_HEADERS_TOO_LARGE: { status: 431, user: true, retryable: false },
  /** The Host header names no host this daemon answers for (DNS rebinding): only loopback, the
   *  tunnel's hostnames and the configured extra hosts. */
  ERR_HOST_NOT_ALLOWED: { status: 421, user: true, retryable: false },
  /** Too many open event streams for this token, session or client address; close one first. */
  ERR_TOO_MANY_STREAMS: { status: 429, user: true, retryable: true },
  /** An Idempotency-Key reused within 24 h on the same method and path for a different request
   *  (another query or body): a new request needs a new key. (Keys are per principal, method and
   *  path: the same key on another path is another key.) */
  ERR_IDEMPOTENCY_MISMATCH: { status: 422, user: true, retryable: false },
  /** The first request with this Idempotency-Key is still being handled; retrying with the same
   *  key later gets its answer. */
  ERR_IDEMPOTENCY_IN_FLIGHT: { status: 409, user: true, retryable: true },
  /** A token in a URL (the event stream's `?token=`), where proxies and tunnels log it: refused.
   *  Send it in the Authorization header or the `cbo.token.<token>` WebSocket subprotocol. */
  ERR_TOKEN_IN_URL: { status: 400, user: true, retryable: false },
  /** A D1 migration file D1 refused (its SQL): details name the target, database, file and
   *  statement; the migrations before it stay applied and no traffic shifted there. */
  ERR_D1_MIGRATION: { status: 422, user: true, retryable: false },
  /** The change needs an explicit confirmation it was not given (a non-gradual Durable Object
   *  migration, a deleted or renamed class, a secret downgrade, a D1 restore); details say which
   *  flag or field gives it. */
  ERR_CONFIRMATION_REQUIRED: { status: 428, user: true, retryable: false },
  /** A database (the store, the local edge's state, a backup's) was written by a newer cbo: its
   *  schema version is beyond this build's, so it is left unchanged rather than migrated or written
   *  by code that does not know its tables. Details: path, found and known versions. Run that cbo. */
  ERR_STORE_TOO_NEW: { status: 409, user: true, retryable: false },
  // --- system errors -----------------------------------------------------------------------
  /** Cloudflare kept answering 429 until our retries ran out. */
  ERR_CF_RATE_LIMITED: { status: 503, user: false, retryable: true },
  /** Cloudflare was unreachable or answered 5xx until our retries ran out. */
  ERR_CF_UNAVAILABLE: { status: 503, user: false, retryable: true },
  /** A request would have waited longer than allowed for room in the token's Cloudflare API
   *  request budget (a person's plan, diff or status: refused within seconds rather than kept
   *  waiting); details say how many wait and `retryAfter` (s) when it has room again. A 429 with
   *  Retry-After, though the system's, not the caller's, to fix: CLI exit 2. */
  ERR_CF_BUDGET: { status: 429, user: false, retryable: true },
  /** Cloudflare answered something that does not match the API's documented shape. */
  ERR_CF_RESPONSE: { status: 502, user: false, retryable: false },
  /** The local edge (workerd through Miniflare) could not start or load a Worker. */
  ERR_EDGE_RUNTIME: { status: 500, user: false, retryable: true },
  /** An audit entry or checkpoint could not be written (or the log fails its own check), so the
   *  change it records is refused: the audit path fails closed. */
  ERR_AUDIT_UNAVAILABLE: { status: 503, user: false, retryable: true },
  /** The disk (or quota) holding the data directory is full: SQLITE_FULL, ENOSPC, EDQUOT. Nothing
   *  was changed; details give the path, the bytes free and the bytes needed. The daemon's loops
   *  pause their writes and resume by themselves once that much is free again. */
  ERR_DISK_FULL: { status: 507, user: false, retryable: true },
  /** The orchestrator's database is damaged (SQLITE_CORRUPT, SQLITE_NOTADB, a failed integrity
   *  check): retrying cannot fix it; the way back is `cbo restore` from a backup. */
  ERR_STORE_CORRUPT: { status: 500, user: false, retryable: false },
  /** The database is missing or empty in a data directory that has held an orchestrator's state
   *  (its admin token, audit checkpoints, daemon.json …): the daemon refuses to start afresh over
   *  it (that would seal a new vault and issue a new admin token); `cbo restore` brings it back. */
  ERR_STORE_LOST: { status: 500, user: false, retryable: false },
  /** A port could not be bound, a data directory could not be written. */
  ERR_IO: { status: 500, user: false, retryable: true },
  /** Vault data does not authenticate: a ciphertext, wrapped key or vault record was altered or
   *  moved, or the master key is not the one that sealed it. Retrying cannot fix it. */
  ERR_VAULT_INTEGRITY: { status: 500, user: false, retryable: false },
  /** A bug: something that should not happen did. */
  ERR_INTERNAL: { status: 500, user: false, retryable: false },
} as const satisfies Record<string, { status: number; user: boolean; retryable: boolean }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class CboError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, opts: { details?: Record<string, unknown>; hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "CboError";
    this.code = code;
    this.details = opts.details;
    this.hint = opts.hint;
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }

  get isUserError(): boolean {
    return ERROR_CODES[this.code].user;
  }

  get retryable(): boolean {
    return ERROR_CODES[this.code].retryable;
  }

  /** The API's error body: `{ error: { code, message, hint, details } }` (what to do about it, when we know). Never includes a stack. */
  toJSON(): { error: { code: ErrorCode; message: string; hint?: string; details?: Record<string, unknown> } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.hint === undefined ? {} : { hint: this.hint }),
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }
}

export function isCboError(e: unknown): e is CboError {
  return e instanceof CboError;
}

/** Wraps anything thrown into a CboError, keeping CboErrors as they are. */
export function toCboError(e: unknown): CboError {
  if (e instanceof CboError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new CboError("ERR_INTERNAL", message, { cause: e });
}
