import { describe, expect, it } from "vitest";
import { clearSessionCookie, isHttps, readSessionCookie, sessionCookie } from "./session-cookie.ts";
import { crossSiteReason, sessionRefusal, type SessionCheck } from "./session-guard.ts";

const ID = "a".repeat(43);
const site = (origin?: string, secFetchSite?: string) => ({ origin, secFetchSite, host: "127.0.0.1:8700" });
const route = (over: Partial<Extract<SessionCheck, { kind: "route" }>> = {}): SessionCheck => ({
  kind: "route",
  routeId: "createRelease",
  mutation: true,
  csrfHeader: "good",
  csrfOk: (g) => g === "good",
  site: site("http://127.0.0.1:8700", "same-origin"),
  ...over,
});

describe("session cookie", () => {
  it("is HttpOnly, SameSite=Strict, Path=/, and Secure with the __Host- prefix over https", () => {
    expect(sessionCookie(ID, false)).toBe(`cbo_session=${ID}; Path=/; HttpOnly; SameSite=Strict`);
    expect(sessionCookie(ID, true)).toBe(`__Host-cbo_session=${ID}; Path=/; HttpOnly; SameSite=Strict; Secure`);
    expect(clearSessionCookie(false)).toContain("Max-Age=0");
  });
  it("is read from a Cookie header among others, the __Host- one first, and only when shaped like an id", () => {
    expect(readSessionCookie(`a=1; cbo_session=${ID}; b=2`)).toBe(ID);
    expect(readSessionCookie(`cbo_session=${"b".repeat(43)}; __Host-cbo_session=${ID}`)).toBe(ID);
    expect(readSessionCookie("cbo_session=short")).toBeUndefined();
    expect(readSessionCookie("cbo_session=" + "a".repeat(40) + "%00")).toBeUndefined();
    expect(readSessionCookie(undefined)).toBeUndefined();
  });
  it("knows https from the URL or cloudflared's X-Forwarded-Proto", () => {
    expect(isHttps("https://x/ui/", undefined)).toBe(true);
    expect(isHttps("http://127.0.0.1/ui/", "https")).toBe(true);
    expect(isHttps("http://127.0.0.1/ui/", "http")).toBe(false);
  });
});

describe("what a session request must show", () => {
  it("a mutation needs the session's CSRF token", () => {
    expect(sessionRefusal(route())).toBeUndefined();
    expect(sessionRefusal(route({ csrfHeader: undefined }))).toMatch(/missing/);
    expect(sessionRefusal(route({ csrfHeader: "bad" }))).toMatch(/does not match/);
  });
  it("a mutation from another site is refused even with the token", () => {
    expect(sessionRefusal(route({ site: site("http://evil.example", undefined) }))).toMatch(/another site/);
    expect(sessionRefusal(route({ site: site(undefined, "cross-site") }))).toMatch(/cross-site/);
    expect(sessionRefusal(route({ site: site(undefined, "same-site") }))).toMatch(/same-site/);
    expect(sessionRefusal(route({ site: site("null", undefined) }))).toMatch(/another site/);
    expect(sessionRefusal(route({ site: site(undefined, undefined) }))).toBeUndefined(); // no browser signal: the CSRF token decides
  });
  it("a read needs neither, except the routes that hand out secret material", () => {
    expect(sessionRefusal(route({ mutation: false, csrfHeader: undefined, routeId: "getStatus" }))).toBeUndefined();
    expect(sessionRefusal(route({ mutation: false, routeId: "getSecretValue" }))).toMatch(/bearer token/);
    expect(sessionRefusal(route({ routeId: "createToken" }))).toMatch(/bearer token/);
  });
  it("a WebSocket needs an Origin of this host", () => {
    expect(sessionRefusal({ kind: "socket", site: site("http://127.0.0.1:8700") })).toBeUndefined();
    expect(sessionRefusal({ kind: "socket", site: site(undefined) })).toMatch(/must send Origin/);
    expect(sessionRefusal({ kind: "socket", site: site("http://127.0.0.1:9999") })).toMatch(/another site/);
  });
  it("names why a login looks cross-site", () => {
    expect(crossSiteReason(site("http://127.0.0.1:8700", "same-origin"))).toBeUndefined();
    expect(crossSiteReason(site("https://127.0.0.1:8700"))).toBeUndefined();
    expect(crossSiteReason(site("http://localhost:8700"))).toMatch(/another site/);
  });
});
