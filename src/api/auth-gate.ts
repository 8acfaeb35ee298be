// Who is calling, for REST routes and the WebSocket stream alike: the rate limit on failed
// authentication, the token check, the role check, and the audit entries for each refusal.
//
// A request is refused with 429 before its token is looked at while its client address (the
// socket's peer) or its token's prefix is locked (rate-limit.ts). Every 401 counts against both and
// is recorded as auth.failed with the reason and the client, never the token; the failure that
// locks a key is recorded as auth.rate_limited; requests refused while locked are not recorded
// one by one (they would let anyone fill the log). Role and tenant refusals are auth.denied.
//
// A request without a token may instead carry a dashboard session cookie (session.ts): the session
// acts with the principal of the token it logged in with, for as long as that token stays valid.
// An unknown or ended session is a failed authentication like a wrong token. What else a session
// request must show (CSRF token, same origin) is session-guard.ts's, checked by the caller.
import { createHash } from "node:crypto";
import { CboError, isCboError } from "../kit/errors.ts";
import type { Role, Store } from "../store/index.ts";
import { actorOf, type AuditTrail } from "./audit-trail.ts";
import { authorize, bearerToken, principalFor } from "./auth.ts";
import { createRateLimiter, type RateLimitOptions } from "./rate-limit.ts";
import type { Session, SessionStore } from "./session.ts";
import type { Principal } from "./types.ts";

/** Characters of a presented token that key its limit: enough to tell tokens apart, not to use one. */
const PREFIX_CHARS = 16;

export type AuthAttempt = {
  /** The Authorization header, if any. */
  header: string | undefined;
  /** A token from elsewhere (the stream's ?token=), used when there is no header. */
  fallbackToken?: string | null;
  /** The session cookie's id, used when there is no token at all. */
  session?: string | undefined;
  /** The socket's peer address; undefined in-process (app.request). */
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

  function identify(a: AuthAttempt, tenant: string): Identity {
    const client = a.client ?? "in-process";
    let token: string | null | undefined;
    let malformed: unknown;
    try {
      token = bearerToken(a.header) ?? a.fallbackToken;
    } catch (e) {
      malformed = e;
    }
    const keys = [`client:${client}`, ...(token ? [prefixKey(token)] : [])];
    const waitMs = limiter.retryAfterMs(keys);
    if (waitMs > 0) throw rateLimited(waitMs);
    const bySession = !malformed && !token && a.session !== undefined;
    try {
      if (malformed) throw malformed;
      if (bySession) {
        const session = resumeSession(a.session!);
        if (!session) throw new CboError("ERR_UNAUTHORIZED", "The dashboard session has ended (logged out, expired, or the daemon restarted).", { hint: "Log in again." });
        return { principal: session.principal, session };
      }
      return { principal: principalFor(deps.tokens, token) };
    } catch (e) {
      if (!isCboError(e) || e.code !== "ERR_UNAUTHORIZED") throw e;
      const reason = malformed ? "malformed authorization header" : token ? "unknown, revoked or expired token" : bySession ? "unknown or ended dashboard session" : "no token";
      deps.trail.note({ actor: `client:${client}`, action: "auth.failed", target: a.route, tenant, outcome: "denied", details: { reason, client } });
      const locked = limiter.fail(keys);
      if (locked.length > 0) {
        deps.trail.note({
          actor: `client:${client}`, action: "auth.rate_limited", target: a.route, tenant, outcome: "denied",
          details: { client, lockedClient: locked.some((k) => k.startsWith("client:")), lockedPrefix: locked.some((k) => k.startsWith("token:")) },
        });
      }
      throw e;
    }
  }

  return {
    /** The caller and its session, if it came with one; ERR_RATE_LIMITED or ERR_UNAUTHORIZED otherwise. */
    identify,
    /** The caller's principal; ERR_RATE_LIMITED or ERR_UNAUTHORIZED otherwise. */
    authenticate: (a: AuthAttempt, tenant: string): Principal => identify(a, tenant).principal,
    resumeSession,

    /** ERR_FORBIDDEN (recorded as auth.denied) unless the role and tenant allow `role`. */
    authorize(p: Principal, role: Role, tenant: string, route: string): void {
      try {
        authorize(p, role, tenant);
      } catch (e) {
        if (isCboError(e) && e.code === "ERR_FORBIDDEN") {
          deps.trail.note({ actor: actorOf(p), action: "auth.denied", target: route, tenant, outcome: "denied", details: { role: p.role, required: role, scope: p.tenant } });
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
