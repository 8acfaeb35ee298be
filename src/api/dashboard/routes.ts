// The dashboard on the daemon's own port: its page and assets under /ui/, and the session routes
// (login with an API token, logout, who am I). The session acts with the token's role through the
// same API routes as the CLI (../app.ts), with a CSRF token on every mutation (session-guard.ts).
//
// Login and logout are on the audit record (session.login fail closed: no entry, no session);
// a failed login is a failed authentication like any other (auth-gate.ts: audited, and counted
// against the rate limit of its client address and token prefix).
import { Hono, type Context } from "hono";
import * as z from "zod";
import { shownText } from "../../contract/index.ts";
import { CboError, isCboError } from "../../kit/errors.ts";
import { actorOf, type AuditTrail } from "../../security/index.ts";
import type { AuthGate } from "../auth-gate.ts";
import { limitKeyOf } from "../client-address.ts";
import type { DashboardAssets } from "./assets.ts";
import { dashboardSecurityHeaders } from "./headers.ts";
import { createAllowedMethods, methodNotAllowed } from "../allowed-methods.ts";
import { errorResponse, toErrorResponse, validationError } from "../errors.ts";
import { checkJsonType, jsonOf } from "../json-body.ts";
import { clearSessionCookie, CSRF_HEADER, isHttps, readSessionCookie, sessionCookie } from "./session-cookie.ts";
import { crossSiteReason, guardSession, type RequestSite } from "./session-guard.ts";
import { sessionRef, type Session, type SessionStore } from "./session.ts";
import type { Logger } from "../../telemetry/index.ts";

export const DASHBOARD_PATH = "/ui/";

const LoginBodySchema = z.object({ token: z.string().min(1).max(512) }).strict();

export type DashboardDeps = {
  gate: AuthGate;
  sessions: SessionStore;
  trail: AuditTrail;
  tenant: () => string;
  /** The newest event id: the page's live stream starts after it. */
  lastEventId: () => number;
  assets: DashboardAssets;
  client: (c: Context) => string | undefined;
  log: Logger;
};

export const siteOf = (c: Context): RequestSite => ({
  origin: c.req.header("origin"),
  secFetchSite: c.req.header("sec-fetch-site"),
  host: c.req.header("host"),
});
const secureOf = (c: Context) => isHttps(c.req.url, c.req.header("x-forwarded-proto"));
const isForm = (c: Context) => /^(application\/x-www-form-urlencoded|multipart\/form-data)\b/i.test(c.req.header("content-type") ?? "");

/**
 * Mounts the dashboard under /ui as an application of its own: its pages are not API routes (they
 * are not in the OpenAPI document), and it keeps its own security headers and error answers.
 */
export function mountDashboard(app: Hono, deps: DashboardDeps): void {
  const ui = dashboardApp(deps);
  app.all("/ui", (c) => c.redirect(DASHBOARD_PATH, 301));
  app.all("/ui/*", (c) => ui.fetch(c.req.raw, c.env));
}

function dashboardApp(deps: DashboardDeps): Hono {
  const { gate, sessions, trail } = deps;
  const app = new Hono();
  app.onError((err) => toErrorResponse(err, deps.log));
  app.notFound((c) => {
    const allowed = allowedAt(c.req.path);
    if (allowed.length) return methodNotAllowed(c.req.method, c.req.path, allowed);
    return errorResponse(
      new CboError("ERR_NOT_FOUND", `The dashboard has no page ${shownText(c.req.method, 20)} ${shownText(c.req.path)}.`),
    );
  });
  const info = (s: Session) => ({
    authenticated: true as const,
    name: s.principal.name,
    role: s.principal.role,
    tenant: s.principal.tenant,
    csrf: s.csrf,
    expiresAt: new Date(sessions.expiresAt(s)).toISOString(),
    eventsAfter: deps.lastEventId(),
  });

  app.use("*", dashboardSecurityHeaders());

  app.get("/ui/session", (c) => {
    c.header("cache-control", "no-store");
    const id = readSessionCookie(c.req.header("cookie"));
    const s = id === undefined ? undefined : gate.resumeSession(id);
    // A stale cookie is not an attack worth counting: drop it, so the browser stops sending it.
    if (!s && id !== undefined) c.header("set-cookie", clearSessionCookie(secureOf(c)));
    return c.json(s ? info(s) : { authenticated: false as const });
  });

  app.post("/ui/login", async (c) => {
    c.header("cache-control", "no-store");
    const form = isForm(c);
    const tenant = deps.tenant();
    const route = "POST /ui/login";
    const client = deps.client(c);
    try {
      const cross = crossSiteReason(siteOf(c));
      if (cross) {
        trail.denied(
          {
            actor: `client:${client ?? "in-process"}`,
            action: "auth.denied",
            target: route,
            tenant,
            outcome: "denied",
            details: { via: "dashboard", reason: cross },
          },
          `client:${limitKeyOf(client ?? "in-process")}`,
        );
        throw new CboError("ERR_FORBIDDEN", `Login refused: ${cross}.`, { hint: "Log in from the dashboard's own page." });
      }
      // As the API reads a body (json-body.ts): a type that is neither a form nor JSON is 415, JSON
      // that does not parse is named as such (it was read as {} and answered "token: required").
      const raw = form ? await formFields(c) : await jsonBody(c);
      const body = LoginBodySchema.safeParse(raw);
      if (!body.success) throw validationError("body", body.error);
      const principal = gate.authenticate({ header: undefined, fallbackToken: body.data.token, client, route }, tenant);
      gate.authorize(principal, "viewer", tenant, route);
      // A new id at every login: a session id planted before it is worth nothing after it.
      const old = readSessionCookie(c.req.header("cookie"));
      if (old !== undefined) sessions.destroy(old);
      const s = sessions.create(principal);
      try {
        trail.record({
          actor: actorOf(principal),
          action: "session.login",
          target: `session:${sessionRef(s.id)}`,
          tenant,
          outcome: "ok",
          details: { via: "dashboard", role: principal.role, client: client ?? "in-process" },
        });
      } catch (e) {
        sessions.destroy(s.id);
        throw e;
      }
      c.header("set-cookie", sessionCookie(s.id, secureOf(c)));
      return form ? c.redirect(DASHBOARD_PATH, 303) : c.json(info(s));
    } catch (e) {
      // A plain HTML form cannot show a JSON error: back to the page, which says what went wrong.
      if (form && isCboError(e)) return c.redirect(`${DASHBOARD_PATH}?login=${e.code}`, 303);
      throw e;
    }
  });

  app.post("/ui/logout", (c) => {
    const secure = secureOf(c);
    const id = readSessionCookie(c.req.header("cookie"));
    const s = id === undefined ? undefined : gate.resumeSession(id);
    if (s) {
      const tenant = deps.tenant();
      const route = "POST /ui/logout";
      guardSession(
        trail,
        s.principal,
        {
          kind: "route",
          routeId: "logout",
          mutation: true,
          csrfHeader: c.req.header(CSRF_HEADER),
          csrfOk: (g) => sessions.csrfMatches(s, g),
          site: siteOf(c),
        },
        route,
        tenant,
      );
      sessions.destroy(s.id);
      trail.note({
        actor: actorOf(s.principal),
        action: "session.logout",
        target: `session:${sessionRef(s.id)}`,
        tenant,
        outcome: "ok",
        details: { via: "dashboard" },
      });
    }
    c.header("set-cookie", clearSessionCookie(secure));
    c.header("cache-control", "no-store");
    return c.json({ ok: true as const });
  });

  const serve = async (c: Context, name: string) => {
    const pending = deps.assets.get(name);
    if (!pending) throw new CboError("ERR_NOT_FOUND", `The dashboard has no file ${name}.`);
    const a = await pending;
    c.header("cache-control", "no-cache");
    c.header("etag", a.etag);
    if (c.req.header("if-none-match") === a.etag) return c.body(null, 304);
    return c.body(a.body, 200, { "content-type": a.type });
  };
  app.get(DASHBOARD_PATH, (c) => serve(c, "index.html"));
  app.get("/ui/:file{[a-z0-9-]+\\.[a-z]+}", (c) => serve(c, c.req.param("file")));
  // Read after every route is on: Hono lists them (the middleware, method ALL, is left out).
  const allowedAt = createAllowedMethods(app.routes.filter((r) => r.method !== "ALL"));
  return app;
}

async function jsonBody(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() !== "") checkJsonType(c.req.header("content-type"));
  return jsonOf(text);
}

/** A login form's text fields; a body that does not parse as the form it claims is the client's error. */
async function formFields(c: Context): Promise<Record<string, string>> {
  let parsed: Record<string, unknown>;
  try {
    parsed = await c.req.parseBody();
  } catch {
    throw new CboError("ERR_VALIDATION", "The login form could not be read: its body is not the form its content-type says.", {
      hint: 'Send token=<token> as application/x-www-form-urlencoded, or JSON {"token": "…"}.',
    });
  }
  return Object.fromEntries(Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === "string"));
}
