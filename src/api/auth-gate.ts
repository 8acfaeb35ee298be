// Who is calling, for REST routes and the WebSocket stream alike: the rate limit on failed
// authentication, the token check, the role check, and the audit entries for each refusal.
//
// A request is refused with 429 before its token is looked at while its client address (the
// socket's peer) or its token's prefix is locked (rate-limit.ts). Every 401 counts against both and
// is recorded as auth.failed with the reason and the client, never the token; the failure that
// locks a key is recorded as auth.rate_limited; requests refused while locked are not recorded
// one by one (they would let anyone fill the log). Role and tenant refusals are auth.denied.
import { createHash } from "node:crypto";
import { CboError, isCboError } from "../kit/errors.ts";
import type { Role, Store } from "../store/index.ts";
import { actorOf, type AuditTrail } from "./audit-trail.ts";
import { authorize, bearerToken, principalFor } from "./auth.ts";
import { createRateLimiter, type RateLimitOptions } from "./rate-limit.ts";
import type { Principal } from "./types.ts";

/** Characters of a presented token that key its limit: enough to tell tokens apart, not to use one. */
const PREFIX_CHARS = 16;

export type AuthAttempt = {
  /** The Authorization header, if any. */
  header: string | undefined;
  /** A token from elsewhere (the stream's ?token=), used when there is no header. */
  fallbackToken?: string | null;
  /** The socket's peer address; undefined in-process (app.request). */
  client: string | undefined;
  /** e.g. "POST /v1/secrets/:name", for the audit entry. */
  route: string;
};

export type AuthGate = ReturnType<typeof createAuthGate>;

export function createAuthGate(deps: { tokens: Store["tokens"]; trail: AuditTrail; limits?: RateLimitOptions }) {
  const limiter = createRateLimiter(deps.limits);
  const prefixKey = (token: string) => `token:${createHash("sha256").update(token.slice(0, PREFIX_CHARS)).digest("hex").slice(0, 32)}`;

  return {
    /** The caller's principal; ERR_RATE_LIMITED or ERR_UNAUTHORIZED otherwise. */
    authenticate(a: AuthAttempt, tenant: string): Principal {
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
      try {
        if (malformed) throw malformed;
        return principalFor(deps.tokens, token);
      } catch (e) {
        if (!isCboError(e) || e.code !== "ERR_UNAUTHORIZED") throw e;
        const reason = malformed ? "malformed authorization header" : token ? "unknown, revoked or expired token" : "no token";
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
    },

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
