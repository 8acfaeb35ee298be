// The dashboard's server side over real HTTP and WebSocket on loopback (a real SQLite store and
// audit log; the release engine is the API tests' double, src/deploy is not what is tested here):
// login with a token -> HttpOnly SameSite=Strict session cookie; the session reads the API, but
// every mutation needs its CSRF token and a same-site request; a mutation without session or
// token is refused; a session never gets secret material; login, logout and refusals are audited;
// failed logins count against the auth rate limit; the pages carry a strict CSP.
import http from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createApi, startApiServer, type ApiServer } from "../src/api/index.ts";
import type { Security } from "../src/security/open-security.ts";
import { createStore, type Store } from "../src/store/index.ts";
import { fakeEngineForApiTests, openTestSecurity, testSpec } from "./support/api-fixtures.ts";
import { silentLogger } from "../src/telemetry/index.ts";
import type { ErrorBody, Release } from "../src/contract/index.ts";

/** `body` is the parsed JSON (undefined if none), typed as the shape the caller expects. */
type Reply<T = unknown> = { status: number; headers: http.IncomingHttpHeaders; text: string; body: T };
type Req = { method?: string; headers?: Record<string, string>; json?: unknown; form?: Record<string, string>; from?: string };

let url: string;
/** One request over node:http (it sends Origin, Sec-Fetch-Site and Cookie exactly as given). */
function req<T = unknown>(path: string, o: Req = {}): Promise<Reply<T>> {
  const u = new URL(path, url);
  const body = o.json !== undefined ? JSON.stringify(o.json) : o.form ? new URLSearchParams(o.form).toString() : undefined;
  const headers: Record<string, string> = { ...o.headers };
  if (o.json !== undefined) headers["content-type"] = "application/json";
  if (o.form) headers["content-type"] = "application/x-www-form-urlencoded";
  return new Promise((resolve, reject) => {
    const r = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method: o.method ?? "GET",
        headers,
        agent: false,
        ...(o.from ? { localAddress: o.from } : {}),
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (text += d));
        res.on("end", () => {
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: parsed as T });
        });
      },
    );
    r.on("error", reject);
    r.end(body);
  });
}

type Login = { cookie: string; csrf: string; setCookie: string };
const ORIGIN = () => url;
const same = () => ({ origin: ORIGIN(), "sec-fetch-site": "same-origin" });

async function login(token: string, from?: string): Promise<Login> {
  const r = await req<{ csrf: string }>("/ui/login", { method: "POST", json: { token }, headers: same(), ...(from ? { from } : {}) });
  expect(r.status, r.text).toBe(200);
  const setCookie = String(r.headers["set-cookie"]);
  return { cookie: setCookie.split(";")[0]!, csrf: r.body.csrf, setCookie };
}

describe("dashboard sessions over HTTP", () => {
  let dir: string;
  let store: Store;
  let security: Security;
  let server: ApiServer;
  let tokens: Record<"admin" | "deployer" | "viewer", { token: string; id: string }>;
  let t = 0;
  const audit = (action: string) => security.audit.search({ action, limit: 1000 });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "cbo-dashboard-sec-"));
    store = createStore(join(dir, "orchestrator.sqlite"));
    const spec = testSpec();
    security = await openTestSecurity(store);
    tokens = Object.fromEntries(
      (["admin", "deployer", "viewer"] as const).map((role) => {
        const { token, row } = store.tokens.create({ name: `dash ${role}`, role });
        return [role, { token, id: row.id }];
      }),
    ) as typeof tokens;
    security.vault.put("SHOPIFY_WEBHOOK_SECRET", "dashboard-test-secret-value", { mode: "relay" });
    const api = createApi({
      store,
      engine: fakeEngineForApiTests(store, () => spec),
      security,
      spec: () => spec,
      log: silentLogger,
      checkResponses: true,
      authLimits: { max: 5, lockMs: 60_000 },
      stream: { heartbeatMs: 100 },
      // A clock the test moves: session expiry without waiting.
      dashboard: { sessions: { idleMs: 60_000, maxAgeMs: 3_600_000, now: () => Date.now() + t } },
    });
    server = await startApiServer({ api, port: 0 });
    url = server.url;
  });
  afterAll(async () => {
    await server?.close();
    await security?.stop();
    store?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("serves the page and its script with a strict CSP, no sniffing, no referrer, no framing", async () => {
    for (const path of ["/ui/", "/ui/app.js", "/ui/styles.css"]) {
      const r = await req(path);
      expect(r.status, path).toBe(200);
      const csp = String(r.headers["content-security-policy"]);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain("unsafe");
      expect(r.headers["x-content-type-options"]).toBe("nosniff");
      expect(r.headers["referrer-policy"]).toBe("no-referrer");
      expect(r.headers["x-frame-options"]).toBe("DENY");
    }
    const page = await req("/ui/");
    expect(page.headers["content-type"]).toMatch(/^text\/html/);
    expect(page.text).toContain('<script type="module" src="/ui/app.js"></script>');
    expect(page.text).not.toMatch(/<script>|<style>| style=| on[a-z]+=/); // nothing inline for the CSP to allow
    const js = await req("/ui/app.js");
    expect(js.headers["content-type"]).toMatch(/^text\/javascript/);
    expect(js.text.length).toBeGreaterThan(5_000);
    expect((await req("/ui/app.js", { headers: { "if-none-match": String(js.headers.etag) } })).status).toBe(304);
    expect((await req("/ui/nope.js")).status).toBe(404);
    expect((await req("/v1/health")).headers["x-content-type-options"]).toBe("nosniff"); // the API too
  });

  it("a wrong token does not log in, and is audited without the token", async () => {
    const r = await req("/ui/login", {
      method: "POST",
      json: { token: "cbo_admin_not-a-real-token-000000000000" },
      headers: same(),
      from: "127.0.0.21",
    });
    expect(r.status).toBe(401);
    expect(r.headers["set-cookie"]).toBeUndefined();
    const failed = audit("auth.failed").at(-1)!;
    expect(failed).toMatchObject({ target: "POST /ui/login", outcome: "denied" });
    expect(JSON.stringify(failed)).not.toContain("not-a-real-token");
  });

  it("a token logs in: an HttpOnly, SameSite=Strict, Path=/ cookie (Secure over https), a CSRF token, audited", async () => {
    const s = await login(tokens.deployer.token);
    expect(s.setCookie).toMatch(/^cbo_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/);
    expect(s.csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(audit("session.login").at(-1)).toMatchObject({
      actor: `token:dash deployer:${tokens.deployer.id}`,
      outcome: "ok",
      details: { via: "dashboard", role: "deployer" },
    });
    expect(JSON.stringify(audit("session.login"))).not.toContain(s.cookie.split("=")[1]);
    const viaTunnel = await req("/ui/login", {
      method: "POST",
      json: { token: tokens.viewer.token },
      headers: { ...same(), "x-forwarded-proto": "https" },
    });
    expect(String(viaTunnel.headers["set-cookie"])).toMatch(
      /^__Host-cbo_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Secure$/,
    );
    const who = await req("/ui/session", { headers: { cookie: s.cookie } });
    expect(who.body).toMatchObject({ authenticated: true, name: "dash deployer", role: "deployer", csrf: s.csrf });
    expect(who.headers["cache-control"]).toBe("no-store");
  });

  it("the session reads the API without a token", async () => {
    const s = await login(tokens.viewer.token);
    expect((await req("/v1/status", { headers: { cookie: s.cookie } })).status).toBe(200);
    expect((await req("/v1/releases", { headers: { cookie: s.cookie } })).status).toBe(200);
  });

  it("refuses a session mutation without the CSRF token, with a wrong one, or from another site, and does nothing", async () => {
    const s = await login(tokens.deployer.token);
    const before = store.releases.list({ limit: 1000 }).length;
    const attempts: Array<[string, Record<string, string>]> = [
      ["no CSRF header", { cookie: s.cookie, ...same() }],
      ["a wrong CSRF token", { cookie: s.cookie, ...same(), "x-csrf-token": "x".repeat(43) }],
      ["another site's Origin", { cookie: s.cookie, origin: "http://evil.example", "x-csrf-token": s.csrf }],
      ["Sec-Fetch-Site: cross-site", { cookie: s.cookie, "sec-fetch-site": "cross-site", "x-csrf-token": s.csrf }],
    ];
    for (const [what, headers] of attempts) {
      const r = await req<ErrorBody>("/v1/releases", { method: "POST", json: { worker: "hello" }, headers });
      expect(r.status, what).toBe(403);
      expect(r.body.error.code, what).toBe("ERR_FORBIDDEN");
    }
    expect(store.releases.list({ limit: 1000 }).length).toBe(before);
    const denied = audit("auth.denied").filter((e) => e.details.via === "dashboard");
    expect(denied.length).toBeGreaterThanOrEqual(attempts.length);
    expect(denied.at(-1)).toMatchObject({ actor: `token:dash deployer:${tokens.deployer.id}`, target: "POST /v1/releases" });
  });

  it("refuses a mutation with neither session nor token, and one with an ended session", async () => {
    // Each expected authentication failure comes from its own loopback address: they all count
    // against their address's rate limit (the last test locks one on purpose).
    const none = await req("/v1/releases", { method: "POST", json: { worker: "hello" }, headers: same(), from: "127.0.0.31" });
    expect(none.status).toBe(401);
    const ended = await req("/v1/releases", {
      method: "POST",
      json: { worker: "hello" },
      headers: { ...same(), cookie: `cbo_session=${"z".repeat(43)}`, "x-csrf-token": "z".repeat(43) },
      from: "127.0.0.32",
    });
    expect(ended.status).toBe(401);
    expect(String(ended.headers["set-cookie"])).toMatch(/^cbo_session=; .*Max-Age=0/); // the stale cookie is dropped
  });

  it("with the CSRF token from the same site the session's mutation goes through, audited as the token via the dashboard", async () => {
    const s = await login(tokens.deployer.token);
    const r = await req<Release>("/v1/releases", {
      method: "POST",
      json: { worker: "hello" },
      headers: { cookie: s.cookie, ...same(), "x-csrf-token": s.csrf },
    });
    expect(r.status, r.text).toBe(202);
    expect(audit("release.create").at(-1)).toMatchObject({
      actor: `token:dash deployer:${tokens.deployer.id}`,
      details: { via: "dashboard", stage: expect.any(String) },
    });
    // A bearer token needs no CSRF token (no browser sends one by itself).
    await req(`/v1/releases/${r.body.id}/abort`, { method: "POST", headers: { authorization: `Bearer ${tokens.deployer.token}` } });
    const bearer = await req("/v1/releases", {
      method: "POST",
      json: { worker: "hello" },
      headers: { authorization: `Bearer ${tokens.deployer.token}` },
    });
    expect(bearer.status, bearer.text).toBe(202);
  });

  it("a session acts with its token's role, and never gets a secret value or a new token", async () => {
    const viewer = await login(tokens.viewer.token);
    const r = await req("/v1/releases", {
      method: "POST",
      json: { worker: "hello" },
      headers: { cookie: viewer.cookie, ...same(), "x-csrf-token": viewer.csrf },
    });
    expect(r.status).toBe(403);
    const admin = await login(tokens.admin.token);
    const value = await req("/v1/secrets/SHOPIFY_WEBHOOK_SECRET/value", { headers: { cookie: admin.cookie } });
    expect(value.status).toBe(403);
    expect(value.text).not.toContain("dashboard-test-secret-value");
    const token = await req("/v1/tokens", {
      method: "POST",
      json: { name: "x", role: "viewer" },
      headers: { cookie: admin.cookie, ...same(), "x-csrf-token": admin.csrf },
    });
    expect(token.status).toBe(403);
    // Names, versions and modes are for the dashboard.
    const list = await req("/v1/secrets", { headers: { cookie: admin.cookie } });
    expect(list.body).toEqual([expect.objectContaining({ name: "SHOPIFY_WEBHOOK_SECRET", version: 1, mode: "relay" })]);
    expect(list.text).not.toContain("dashboard-test-secret-value");
    // The same admin with its bearer token may read it (that is the CLI's way).
    expect(
      (await req("/v1/secrets/SHOPIFY_WEBHOOK_SECRET/value", { headers: { authorization: `Bearer ${tokens.admin.token}` } })).status,
    ).toBe(200);
  });

  it("logout needs the CSRF token, ends the session and is audited; a new login replaces an old session", async () => {
    const s = await login(tokens.viewer.token);
    expect((await req("/ui/logout", { method: "POST", headers: { cookie: s.cookie, ...same() } })).status).toBe(403);
    const out = await req("/ui/logout", { method: "POST", headers: { cookie: s.cookie, ...same(), "x-csrf-token": s.csrf } });
    expect(out.status).toBe(200);
    expect(String(out.headers["set-cookie"])).toContain("Max-Age=0");
    expect(audit("session.logout").at(-1)).toMatchObject({ actor: `token:dash viewer:${tokens.viewer.id}` });
    expect((await req("/v1/status", { headers: { cookie: s.cookie }, from: "127.0.0.33" })).status).toBe(401);
    expect((await req("/ui/session", { headers: { cookie: s.cookie } })).body).toEqual({ authenticated: false });

    const first = await login(tokens.viewer.token);
    const second = await req("/ui/login", {
      method: "POST",
      json: { token: tokens.viewer.token },
      headers: { ...same(), cookie: first.cookie },
    });
    expect(second.status).toBe(200);
    expect((await req("/v1/status", { headers: { cookie: first.cookie }, from: "127.0.0.34" })).status).toBe(401);
  });

  it("a session ends when idle too long, and when its token is revoked", async () => {
    const s = await login(tokens.viewer.token);
    t += 61_000;
    expect((await req("/v1/status", { headers: { cookie: s.cookie }, from: "127.0.0.35" })).status).toBe(401);
    const { token, row } = store.tokens.create({ name: "short-lived", role: "viewer" });
    const r = await login(token);
    expect((await req("/v1/status", { headers: { cookie: r.cookie } })).status).toBe(200);
    store.tokens.revoke(row.id);
    expect((await req("/v1/status", { headers: { cookie: r.cookie }, from: "127.0.0.36" })).status).toBe(401);
  });

  it("login from another site is refused; a plain form login redirects to the dashboard", async () => {
    const cross = await req("/ui/login", {
      method: "POST",
      json: { token: tokens.viewer.token },
      headers: { origin: "http://evil.example" },
    });
    expect(cross.status).toBe(403);
    expect(cross.headers["set-cookie"]).toBeUndefined();
    const form = await req("/ui/login", { method: "POST", form: { token: tokens.viewer.token }, headers: same() });
    expect(form.status).toBe(303);
    expect(form.headers.location).toBe("/ui/");
    expect(String(form.headers["set-cookie"])).toMatch(/^cbo_session=/);
    const bad = await req("/ui/login", { method: "POST", form: { token: "wrong" }, headers: same(), from: "127.0.0.22" });
    expect(bad.status).toBe(303);
    expect(bad.headers.location).toBe("/ui/?login=ERR_UNAUTHORIZED");
  });

  it("the event stream takes the session cookie only from a page of this host", async () => {
    const s = await login(tokens.viewer.token);
    const open = (headers: Record<string, string>, localAddress = "127.0.0.1") =>
      new Promise<{ code: number; reason: string; got: number }>((resolve, reject) => {
        const ws = new WebSocket(`${url.replace(/^http/, "ws")}/v1/events/stream?after=${store.events.lastId()}`, {
          headers,
          localAddress,
        });
        let got = 0;
        ws.on("message", () => {
          got++;
          ws.close(1000);
        });
        let timer: ReturnType<typeof setTimeout> | undefined;
        ws.once(
          "open",
          () =>
            (timer = setTimeout(
              () =>
                ws.readyState === ws.OPEN &&
                store.events.append({
                  type: "health.changed",
                  worker: "hello",
                  target: "eu",
                  data: { from: "healthy", to: "unhealthy", versionId: null, latencyMs: null, detail: "HTTP 503" },
                }),
              50,
            )),
        );
        ws.once("close", (code, reason) => {
          clearTimeout(timer);
          resolve({ code, reason: reason.toString(), got });
        });
        ws.once("error", reject);
      });
    expect(await open({ cookie: s.cookie, origin: url })).toMatchObject({ code: 1000, got: 1 });
    expect(await open({ cookie: s.cookie, origin: "http://evil.example" })).toMatchObject({
      code: 1008,
      reason: expect.stringMatching(/^ERR_FORBIDDEN/),
      got: 0,
    });
    expect(await open({ cookie: s.cookie })).toMatchObject({ code: 1008, got: 0 });
    expect(await open({ cookie: `cbo_session=${"q".repeat(43)}`, origin: url }, "127.0.0.37")).toMatchObject({
      code: 1008,
      reason: expect.stringMatching(/^ERR_UNAUTHORIZED/),
      got: 0,
    });
  });

  it("an open event stream ends with its session: at once on logout, at the next ping when the token is revoked", async () => {
    const { token, row } = store.tokens.create({ name: "stream-watcher", role: "viewer" });
    const stream = (s: Login) => {
      const ws = new WebSocket(`${url.replace(/^http/, "ws")}/v1/events/stream?after=${store.events.lastId()}`, {
        headers: { cookie: s.cookie, origin: url },
      });
      const opened = new Promise<void>((resolve, reject) => (ws.once("open", () => resolve()), ws.once("error", reject)));
      const closed = new Promise<{ code: number; reason: string }>((resolve) =>
        ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() })),
      );
      return { opened, closed };
    };
    const a = await login(token);
    const first = stream(a);
    await first.opened;
    await new Promise((r) => setTimeout(r, 250)); // still open across pings
    expect((await req("/ui/logout", { method: "POST", headers: { cookie: a.cookie, ...same(), "x-csrf-token": a.csrf } })).status).toBe(
      200,
    );
    expect(await first.closed).toEqual({ code: 1008, reason: "ERR_UNAUTHORIZED: the dashboard session has ended" });

    const b = await login(token);
    const second = stream(b);
    await second.opened;
    store.tokens.revoke(row.id);
    expect(await second.closed).toMatchObject({ code: 1008 });
  });

  it("failed logins count against the auth rate limit of their address: then a wrong token is refused 429, a good one still logs in", async () => {
    const from = "127.0.0.23";
    for (let i = 0; i < 5; i++)
      expect(
        (
          await req("/ui/login", {
            method: "POST",
            json: { token: `cbo_admin_guess${i}xxxxxxxxxxxxxxxxxxxxxxxxxxx` },
            headers: same(),
            from,
          })
        ).status,
      ).toBe(401);
    const locked = await req("/ui/login", {
      method: "POST",
      json: { token: "cbo_admin_guessZxxxxxxxxxxxxxxxxxxxxxxxxxxx" },
      headers: same(),
      from,
    });
    expect(locked.status).toBe(429);
    expect(locked.headers["set-cookie"]).toBeUndefined();
    expect(audit("auth.rate_limited").at(-1)).toMatchObject({ target: "POST /ui/login", details: { client: from, lockedClient: true } });
    // Nobody locks anybody out: the admin's own token still logs in from that address.
    const good = await req("/ui/login", { method: "POST", json: { token: tokens.admin.token }, headers: same(), from });
    expect(good.status).toBe(200);
    expect(good.headers["set-cookie"]).toBeDefined();
    // The whole log still verifies: every entry above is chained.
    expect((await security.verify()).ok).toBe(true);
  });
});
