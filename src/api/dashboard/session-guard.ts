// What a request authenticated by the session cookie must show besides the cookie. A browser sends
// the cookie on its own, so a cookie alone proves nothing about which page asked:
//  - a mutation needs the session's CSRF token in the x-csrf-token header (a page of another site
//    cannot read it, and cannot set a custom header on a cross-site request without a CORS
//    preflight, which the API never grants), and must not come from another site by what the
//    browser says itself (Origin, Sec-Fetch-Site);
//  - the WebSocket stream needs an Origin of this same host (browsers send it on every WebSocket,
//    and SameSite does not cover a WebSocket opened by a page of another port or a subdomain);
//  - a few routes hand out secret material (a secret's value, a new token): a session never gets
//    those; they need a bearer token, so that a script running in the dashboard can never read one.
// Bearer-token requests need none of this: no browser attaches a bearer token by itself.
import { CboError } from "../../kit/errors.ts";
import { actorOf, type AuditTrail } from "../../security/index.ts";
import type { Principal } from "../../security/index.ts";

/** Route ids (route.ts) a session may not call. */
export const SESSION_DENIED: ReadonlySet<string> = new Set(["getSecretValue", "createToken"]);

export type RequestSite = { origin: string | undefined; secFetchSite: string | undefined; host: string | undefined };

/** Why the request looks like it comes from another site, or undefined when nothing says so. */
export function crossSiteReason(r: RequestSite): string | undefined {
  if (r.secFetchSite !== undefined && r.secFetchSite !== "same-origin") return `Sec-Fetch-Site is ${r.secFetchSite}`;
  if (r.origin === undefined) return undefined;
  if (!sameHost(r.origin, r.host)) return "Origin is another site";
  return undefined;
}

function sameHost(origin: string, host: string | undefined): boolean {
  if (!host) return false;
  try {
    const u = new URL(origin);
    return (u.protocol === "http:" || u.protocol === "https:") && u.host.toLowerCase() === host.toLowerCase();
  } catch {
    return false; // "null" (sandboxed frames, file:) and anything unparsable
  }
}

export type SessionCheck =
  | {
      kind: "route";
      routeId: string;
      mutation: boolean;
      csrfHeader: string | undefined;
      csrfOk: (given: string | undefined) => boolean;
      site: RequestSite;
    }
  | { kind: "socket"; site: RequestSite };

/** Why a session-authenticated request is refused, or undefined when it may go on. */
export function sessionRefusal(c: SessionCheck): string | undefined {
  if (c.kind === "socket") {
    if (c.site.origin === undefined) return "a WebSocket opened with the session cookie must send Origin";
    return sameHost(c.site.origin, c.site.host) ? undefined : "Origin is another site";
  }
  if (SESSION_DENIED.has(c.routeId)) return "this route needs a bearer token, not a dashboard session";
  if (!c.mutation) return undefined;
  const cross = crossSiteReason(c.site);
  if (cross) return cross;
  if (!c.csrfOk(c.csrfHeader)) return c.csrfHeader ? "the CSRF token does not match the session" : "the x-csrf-token header is missing";
  return undefined;
}

/** Throws ERR_FORBIDDEN, recorded as auth.denied, when `check` refuses the request. */
export function guardSession(trail: AuditTrail, p: Principal, check: SessionCheck, route: string, tenant: string): void {
  const reason = sessionRefusal(check);
  if (reason === undefined) return;
  trail.denied(
    { actor: actorOf(p), action: "auth.denied", target: route, tenant, outcome: "denied", details: { via: "dashboard", reason } },
    actorOf(p),
  );
  throw new CboError("ERR_FORBIDDEN", `Refused for a dashboard session: ${reason}.`, {
    details: { reason },
    hint:
      check.kind === "route" && SESSION_DENIED.has(check.routeId)
        ? "Use the CLI with a bearer token."
        : "Reload the dashboard; it sends the CSRF token it got at login.",
  });
}
