// Who is calling, for REST routes and the WebSocket stream alike: the rate limit on failed
// authentication, the token check, the role check, and the audit entries for each refusal.
//
// Valid credentials are always served: a request whose token (or session) is valid gets through
// even while its client address or token prefix is locked. The lock only changes what a failing
// request gets: 429 instead of 401, so that one outsider behind the tunnel (or anyone sharing an
// address with others) cannot lock anybody out. Guessing is not what the lock is for: a token is
// 192 random bits. What it does is slow down and quieten the noise.
//
// A failure counts against the client address (client-address.ts: the visitor's address as the
// tunnel reports it, else the socket's peer; an IPv6 client by its /64) and against the token's
// prefix. Every 401 is recorded as auth.failed with the reason and the client, never the token;
// the failure that locks a key as auth.rate_limited; a failure while locked as
// auth.refused_locked. They go through the trail's denied() (denials.ts): the first few per client
// and action in a window in full, the rest counted into one summary entry. Role and tenant
// refusals of a valid token are auth.denied, grouped by the token.
//
// Signed routes (relay, heartbeats: no token, a per-Worker key) count their signature failures
// against the same client key through refuseSigned(), and are held by it the same way: a valid
// signature always gets through.
//
// A request without a token may instead carry a dashboard session cookie (dashboard/session.ts):
// the session acts with the principal of the token it logged in with, for as long as that token
// stays valid. An unknown or ended session is a failed authentication like a wrong token. What
// else a session request must show (CSRF token, same origin) is dashboard/session-guard.ts's,
// checked by the caller.
import { createHash } from "node:crypto";
import { CboError, isCboError } from "../kit/errors.ts";
import type { Role, Store } from "../store/index.ts";
import { actorOf, type AuditTrail, type DeniedEntry } from "../security/index.ts";
import { authorize, bearerToken, principalFor } from "./auth.ts";
import { limitKeyOf } from "./client-address.ts";
import { createRateLimiter, type RateLimitOptions } from "./rate-limit.ts";
import type { Session, SessionStore } from "./dashboard/session.ts";
import type { Principal } from "./types.ts";

/** Characters of a presented token that key its limit: enough to tell tokens apart, not to use one. */
const PREFIX_CHARS = 16;

export type AuthAttempt = {
  /** The Authorization header, if any. */
  header: string | undefined;
  /** A token from elsewhere (the stream's `cbo.token.<token>` subprotocol), used when there is no header. */
  fallbackToken?: string | null;
  /** The session cookie's id, used when there is no token at all. */
  session?: string | undefined;
  /** The client's address (client-address.ts); undefined in-process (app.request). */
  client: string | undefined;
  /** e.g. "POST /v1/secrets/:name", for the audit entry. */
  route: string;
};

export type AuthGate = ReturnType<typeof createAuthGate>;

/** Who is calling, and through which dashboard session when it is one. */
export type Identity = { principal: Principal; session?: Session };

export function createAuthGate(deps: { tokens: Store["tokens"]; trail: AuditTrail; limits?: RateLimitOptions; sessions?: SessionStore }) {
  const limiter = createRateLimiter(deps.limits);
  const prefixKey = (token: string) => `token:${createHash("sha256").update(token.slice(0, PREFIX_CHARS)).digest("hex").slice(0, 32)}`;

  /**
   * The live session with this id whose token is still valid; an ended one is dropped. No audit,
   * no count. `touch` false: a check that is not a use (an open event stream's).
   */
  function resumeSession(id: string, touch = true): Session | undefined {
    const s = touch ? deps.sessions?.use(id) : deps.sessions?.peek(id);
    if (!s) return undefined;
    const now = Date.now();
    const row = deps.tokens.list().find((t) => t.id === s.principal.id);
    if (row && !row.revoked_at && !(row.expires_at && Date.parse(row.expires_at) <= now) && row.role === s.principal.role) return s;
    deps.sessions?.destroy(id);
    return undefined;
  }

  const clientKey = (client: string) => `client:${limitKeyOf(client)}`;

  function identify(a: AuthAttempt, tenant: string): Identity {
    const client = a.client ?? "in-process";
    let token: string | null | undefined;
    let malformed: unknown;
    try {
      token = bearerToken(a.header) ?? a.fallbackToken;
    } catch (e) {
      malformed = e;
    }
    const bySession = !malformed && !token && a.session !== undefined;
    try {
      if (malformed) throw malformed;
      if (bySession) {
        const session = resumeSession(a.session!);
        if (!session)
          throw new CboError("ERR_UNAUTHORIZED", "The dashboard session has ended (logged out, expired, or the daemon restarted).", {
            hint: "Log in again.",
          });
        return { principal: session.principal, session };
      }
      return { principal: principalFor(deps.tokens, token) };
    } catch (e) {
      if (!isCboError(e) || e.code !== "ERR_UNAUTHORIZED") throw e;
      const keys = [clientKey(client), ...(token ? [prefixKey(token)] : [])];
      const source = `client:${limitKeyOf(client)}`;
      const entry = (action: string, details: DeniedEntry["details"]): DeniedEntry => ({
        actor: `client:${client}`,
        action,
        target: a.route,
        tenant,
        outcome: "denied",
        details,
      });
      const waitMs = limiter.retryAfterMs(keys);
      if (waitMs > 0) {
        deps.trail.denied(entry("auth.refused_locked", { reason: "locked after repeated failures", client }), source);
        throw rateLimited(waitMs);
      }
      const reason = malformed
        ? "malformed authorization header"
        : token
          ? "unknown, revoked or expired token"
          : bySession
            ? "unknown or ended dashboard session"
            : "no token";
      deps.trail.denied(entry("auth.failed", { reason, client }), source);
      const locked = limiter.fail(keys);
      if (locked.length > 0) {
        deps.trail.denied(
          entry("auth.rate_limited", {
            reason: "locked",
            client,
            lockedClient: locked.some((k) => k.startsWith("client:")),
            lockedPrefix: locked.some((k) => k.startsWith("token:")),
          }),
          source,
        );
      }
      throw e;
    }
  }

  /**
   * A signed route's refusal (relay, heartbeat): recorded through denied() under the client. A
   * signature failure (`failure`) counts against the client's key like a wrong token, and while
   * that key is locked it is answered 429 instead. A refusal after a valid signature (policy)
   * counts nothing and is answered as it is: a valid signature always gets its real answer.
   */
  function refuseSigned(o: { client: string | undefined; entry: DeniedEntry; error: CboError; failure: boolean }): never {
    const client = o.client ?? "in-process";
    const source = `client:${limitKeyOf(client)}`;
    const entry = { ...o.entry, details: { ...o.entry.details, client } };
    if (!o.failure) {
      deps.trail.denied(entry, source);
      throw o.error;
    }
    const keys = [clientKey(client)];
    const waitMs = limiter.retryAfterMs(keys);
    if (waitMs > 0) {
      deps.trail.denied({ ...entry, details: { ...entry.details, locked: true } }, source);
      throw rateLimited(waitMs);
    }
    deps.trail.denied(entry, source);
    if (limiter.fail(keys).length > 0) {
      deps.trail.denied(
        {
          actor: `client:${client}`,
          action: "auth.rate_limited",
          target: entry.target ?? null,
          tenant: entry.tenant ?? null,
          outcome: "denied",
          details: { reason: "locked", client, lockedClient: true, lockedPrefix: false },
        },
        source,
      );
    }
    throw o.error;
  }

  return {
    /** The caller and its session, if it came with one; ERR_RATE_LIMITED or ERR_UNAUTHORIZED otherwise. */
    identify,
    /** The caller's principal; ERR_RATE_LIMITED or ERR_UNAUTHORIZED otherwise. */
    authenticate: (a: AuthAttempt, tenant: string): Principal => identify(a, tenant).principal,
    resumeSession,
    refuseSigned,

    /** ERR_FORBIDDEN (recorded as auth.denied) unless the role and tenant allow `role`. */
    authorize(p: Principal, role: Role, tenant: string, route: string): void {
      try {
        authorize(p, role, tenant);
      } catch (e) {
        if (isCboError(e) && e.code === "ERR_FORBIDDEN") {
          deps.trail.denied(
            {
              actor: actorOf(p),
              action: "auth.denied",
              target: route,
              tenant,
              outcome: "denied",
              details: { role: p.role, required: role, scope: p.tenant },
            },
            actorOf(p),
          );
        }
        throw e;
      }
    },
  };
}

function rateLimited(waitMs: number): CboError {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return new CboError("ERR_RATE_LIMITED", `Too many failed authentication attempts; try again in ${seconds} s.`, {
    details: { retryAfter: seconds },
    hint: "Check the token the client sends (cbo reads <data>/admin-token).",
  });
}
