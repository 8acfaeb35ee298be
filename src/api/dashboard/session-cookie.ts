// The session cookie and the CSRF header. The cookie is HttpOnly (page scripts never see it),
// SameSite=Strict (no other site's page makes the browser send it), Path=/ (the API and the event
// stream need it as well as /ui), and Secure with the __Host- prefix when the dashboard is reached
// over https (through Cloudflare Tunnel). It has no Max-Age: it ends with the browser session, and
// the server ends it earlier (session.ts).
export const SESSION_COOKIE = "cbo_session";
/** Over https: the prefix makes the browser refuse it unless Secure, Path=/ and host-only. */
export const SECURE_SESSION_COOKIE = "__Host-cbo_session";
export const CSRF_HEADER = "x-csrf-token";

const ID = /^[A-Za-z0-9_-]{20,100}$/;

/** The session id in a Cookie header, if one is there and shaped like one. */
export function readSessionCookie(header: string | undefined): string | undefined {
  if (!header) return undefined;
  let found: string | undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if ((name === SECURE_SESSION_COOKIE || (name === SESSION_COOKIE && found === undefined)) && ID.test(value)) found = value;
  }
  return found;
}

export function sessionCookie(id: string, secure: boolean): string {
  return `${secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}`;
}

/** Tells the browser to drop the cookie (logout, or a session the server no longer has). */
export function clearSessionCookie(secure: boolean): string {
  return `${secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? "; Secure" : ""}`;
}

/**
 * Whether the browser reached us over https. Behind Cloudflare Tunnel the daemon itself speaks
 * plain http on loopback and cloudflared says what the browser used; trusting the header can only
 * add the Secure flag, never remove a protection.
 */
export function isHttps(url: string, forwardedProto: string | undefined): boolean {
  return url.startsWith("https:") || forwardedProto?.split(",")[0]?.trim().toLowerCase() === "https";
}
