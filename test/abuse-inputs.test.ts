// Inputs an attacker or a broken client sends, found by walking the OpenAPI document with wrong
// types, odd Unicode and malformed HTTP, each fixed and kept here: a real daemon (startDaemonIn)
// on a real one-region local edge, reached over real HTTP and raw TCP on 127.0.0.1.
//   - a JSON body with an unpaired surrogate escape (`"\ud800"`) is refused by name, and nothing
//     it reached is stored: before, the failed release's audit entry named it, SQLite stored it as
//     U+FFFD, and `cbo audit verify` failed on that entry from then on;
//   - a token pasted where an id or name goes (`cbo tokens revoke <token>`) was named back in the
//     error, message and details, into the client's terminal or CI log;
//   - a dashboard login form whose multipart body does not parse was a 500 (ERR_INTERNAL);
//   - HTTP that never reaches a route (a header block over 16 KiB, a malformed request line or
//     chunk, a bad Host, a backslash path, a WebSocket upgrade to no stream) gets the API's error
//     shape with a code, not a bare status.
import { connect } from "node:net";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { Daemon } from "../src/daemon.ts";
import type { ErrorBody } from "../src/contract/index.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { startDaemonIn } from "./support/daemon-rig.ts";
import { rawRequest } from "./support/raw-http.ts";

const SPEC = `version: 1
targets:
  - { name: eu, api: local }
workers:
  - { name: tiny, main: tiny.js }
`;

let t: TestEdge;
let dir: string;
let d: Daemon;
let token: string;
const logs: string[] = [];

beforeAll(async () => {
  t = await startTestEdge({ regions: ["eu"] });
  dir = await makeTempDir("abuse");
  writeFileSync(join(dir, "orchestrator.yaml"), SPEC);
  writeFileSync(join(dir, "tiny.js"), 'export default { fetch() { return new Response("tiny") } }');
  d = await startDaemonIn(dir, t.edge, { log: (line) => logs.push(line) });
  token = d.initialAdminToken!;
}, 60_000);
afterAll(async () => {
  await d?.close();
  await t?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const send = <T = ErrorBody>(method: string, path: string, body: string) =>
  rawRequest<T>(d.url, { method, path, body, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" } });

/** Writes `bytes` on a fresh connection and returns the status line and the body of the answer. */
function raw(bytes: string): Promise<{ status: number; body: string }> {
  const { port } = new URL(d.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), "127.0.0.1", () => socket.end(bytes));
    let text = "";
    socket.setEncoding("utf8").on("data", (s: string) => (text += s));
    socket.on("error", reject);
    socket.on("close", () => {
      const [head = "", ...rest] = text.split("\r\n\r\n");
      resolve({ status: Number(head.split(" ")[1] ?? 0), body: rest.join("\r\n\r\n") });
    });
  });
}

describe("an unpaired UTF-16 surrogate in a JSON body", () => {
  it("is refused naming the field, and neither the audit chain nor the vault stores it", async () => {
    const headBefore = d.security.audit.head().seq;
    const release = await send("POST", "/v1/releases", '{"worker":"\\ud800"}');
    expect([release.status, release.body.error.code]).toEqual([400, "ERR_VALIDATION"]);
    expect(release.body.error.message).toContain("body.worker holds an unpaired UTF-16 surrogate");
    const secret = await send("PUT", "/v1/secrets/LONE", '{"value":"ab\\udc00cd"}');
    expect([secret.status, secret.body.error.code, secret.body.error.message]).toEqual([
      400,
      "ERR_VALIDATION",
      expect.stringContaining("body.value holds an unpaired"),
    ]);
    const key = await send("POST", "/v1/tokens", '{"name":"x","role":"viewer","\\udbff":1}');
    expect([key.status, key.body.error.code]).toEqual([400, "ERR_VALIDATION"]);
    // Nothing was created or recorded (input is checked before the handler runs).
    const secrets = await rawRequest<Array<{ name: string }>>(d.url, {
      path: "/v1/secrets",
      headers: { authorization: `Bearer ${token}` },
    });
    expect(secrets.status).toBe(200);
    expect(secrets.body.map((s) => s.name)).not.toContain("LONE");
    expect(d.security.audit.head().seq).toBe(headBefore);
    // A pair is a character: a name with one is refused for what it is (no such worker), not for its encoding.
    const pair = await send("POST", "/v1/releases", '{"worker":"\\ud83d\\ude00"}');
    expect([pair.status, pair.body.error.code]).toEqual([404, "ERR_NOT_FOUND"]);
    expect(d.security.audit.search({ action: "release.create", limit: 1 })[0]).toMatchObject({ target: "worker:😀", outcome: "error" });
    expect(await d.security.verify()).toMatchObject({ ok: true });
  });
});

describe("free text people read back later (a token's name, a release's reason)", () => {
  it("refuses line breaks, NUL, bidi controls and blanks by path, and nothing is created", async () => {
    const tokensBefore = d.store.tokens.list().length;
    for (const name of ["a\u0000b", "ci\n#99 2026-01-01 admin secret.get ok", "\u202egnp.exe", "   ", "tab\there"]) {
      const r = await send("POST", "/v1/tokens", JSON.stringify({ name, role: "viewer" }));
      expect([JSON.stringify(name), r.status, r.body.error.code, r.body.error.details]).toEqual([
        JSON.stringify(name),
        400,
        "ERR_VALIDATION",
        { issues: [{ path: "body.name", message: expect.stringMatching(/one line of text|empty or blank/) }] },
      ]);
    }
    expect(d.store.tokens.list().length).toBe(tokensBefore);
    const reason = await send("POST", "/v1/releases", JSON.stringify({ worker: "tiny", overrideWindow: { reason: "ok\r\nforged" } }));
    expect([reason.status, reason.body.error.details]).toEqual([
      400,
      { issues: [expect.objectContaining({ path: "body.overrideWindow.reason" })] },
    ]);
    // Spaces inside, accents and emoji are text.
    expect((await send("POST", "/v1/tokens", JSON.stringify({ name: "CI déploiement 🚀", role: "viewer" }))).status).toBe(200);
  });
});

describe("a token pasted where an id or name goes", () => {
  it("is refused without being named back: the error says cbo_admin_[redacted]", async () => {
    const secretPart = token.slice("cbo_admin_".length);
    for (const [method, path] of [
      ["DELETE", `/v1/tokens/${token}`],
      ["GET", `/v1/releases/${token}`],
      ["GET", `/v1/secrets/${token}/versions`],
      ["GET", `/v1/workers/${token}/plan`],
    ] as const) {
      const r = await rawRequest<ErrorBody>(d.url, { method, path, headers: { authorization: `Bearer ${token}` } });
      expect([path.replace(token, "<token>"), r.status, r.body.error.code]).toEqual([path.replace(token, "<token>"), 404, "ERR_NOT_FOUND"]);
      expect(r.text).not.toContain(secretPart);
      expect(r.body.error.message).toContain("cbo_admin_[redacted]");
    }
    // The same on the log stream, whose refusal is a close frame's reason.
    const closed = await new Promise<{ code: number; reason: string }>((resolve, reject) => {
      const ws = new WebSocket(`${d.url.replace("http", "ws")}/v1/logs/stream?worker=${token}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() }));
      ws.on("error", reject);
    });
    expect(closed).toEqual({ code: 4400, reason: 'ERR_NOT_FOUND: no worker named "cbo_admin_[redacted]" in orchestrator.yaml' });
  });
});

describe("the dashboard's login form", () => {
  it("a multipart body that does not parse is the client's error (back to the page with ERR_VALIDATION), not a 500", async () => {
    const r = await rawRequest(d.url, {
      method: "POST",
      path: "/ui/login",
      body: "--x\r\nnot a part\r\n",
      headers: { "content-type": "multipart/form-data; boundary=x", origin: d.url },
    });
    expect([r.status, r.headers.location]).toEqual([303, "/ui/?login=ERR_VALIDATION"]);
    expect(logs.filter((l) => l.includes("unexpected error"))).toEqual([]);
  });

  it("another method is 405 with Allow, as on /v1; a body that is neither a form nor JSON is 415, JSON that does not parse is named", async () => {
    for (const [method, path, allowed] of [
      ["PUT", "/ui/login", ["POST"]],
      ["GET", "/ui/login", ["POST"]],
      ["DELETE", "/ui/session", ["GET", "HEAD"]],
      ["POST", "/ui/", ["GET", "HEAD"]],
    ] as const) {
      const r = await rawRequest<ErrorBody>(d.url, { method, path, headers: { origin: d.url } });
      expect([method, path, r.status, r.headers.allow, r.body.error.code]).toEqual([
        method,
        path,
        405,
        allowed.join(", "),
        "ERR_METHOD_NOT_ALLOWED",
      ]);
      expect(r.body.error.details).toEqual({ allowed });
    }
    // A page the dashboard does not have stays a 404.
    expect((await rawRequest<ErrorBody>(d.url, { method: "PUT", path: "/ui/no/such/page" })).status).toBe(404);
    const headBefore = d.security.audit.head().seq;
    const login = (body: string, type: string) =>
      rawRequest<ErrorBody>(d.url, { method: "POST", path: "/ui/login", body, headers: { "content-type": type, origin: d.url } });
    const typed = await login(JSON.stringify({ token }), "text/plain;charset=UTF-8");
    expect([typed.status, typed.body.error.code, typed.headers["set-cookie"]]).toEqual([415, "ERR_UNSUPPORTED_MEDIA_TYPE", undefined]);
    expect(typed.body.error.hint).toContain("content-type: application/json");
    const broken = await login('{"token": ', "application/json");
    expect([broken.status, broken.body.error.code, broken.body.error.message]).toEqual([
      400,
      "ERR_VALIDATION",
      "The request body is not valid JSON.",
    ]);
    // Refused before any token was looked at: no login, no failed authentication on the record.
    expect(d.security.audit.head().seq).toBe(headBefore);
    expect((await login(JSON.stringify({ token }), "application/json")).status).toBe(200);
  });
});

describe("a method a path does not take", () => {
  it("is 405 ERR_METHOD_NOT_ALLOWED naming the methods it takes (and Allow), not a 404 that says the path is wrong", async () => {
    for (const [method, path, allowed] of [
      ["PATCH", "/v1/secrets/PLANT", ["DELETE", "PUT"]],
      ["DELETE", "/v1/releases", ["GET", "HEAD", "POST"]],
      ["OPTIONS", "/v1/workers/tiny/versions", ["GET", "HEAD"]],
      ["HEAD", "/v1/releases/r1/abort", ["POST"]],
    ] as const) {
      const r = await rawRequest<ErrorBody>(d.url, { method, path, headers: { authorization: `Bearer ${token}` } });
      expect([method, path, r.status, r.headers.allow]).toEqual([method, path, 405, allowed.join(", ")]);
      if (method !== "HEAD") expect(r.body.error).toMatchObject({ code: "ERR_METHOD_NOT_ALLOWED", details: { allowed } });
    }
    // HEAD answers as GET does, headers and all (Hono's own HEAD kept only the content type), without a body.
    const [get, head] = await Promise.all(
      ["GET", "HEAD"].map((method) => rawRequest(d.url, { method, path: "/v1/secrets", headers: { authorization: `Bearer ${token}` } })),
    );
    expect([head!.status, head!.text, head!.headers["x-content-type-options"], head!.headers["x-frame-options"]]).toEqual([
      200,
      "",
      "nosniff",
      "DENY",
    ]);
    expect(Object.keys(head!.headers).sort()).toEqual(
      Object.keys(get!.headers)
        .filter((h) => h !== "content-length")
        .sort(),
    );
    // A path no route has stays a 404, whatever the method.
    const none = await rawRequest<ErrorBody>(d.url, {
      method: "PATCH",
      path: "/v1/nothing/here",
      headers: { authorization: `Bearer ${token}` },
    });
    expect([none.status, none.body.error.code]).toEqual([404, "ERR_NOT_FOUND"]);
  });
});

describe("a body that says it is not JSON", () => {
  it("is 415 ERR_UNSUPPORTED_MEDIA_TYPE naming the header to fix, and nothing is written; JSON types with parameters pass", async () => {
    const headBefore = d.security.audit.head().seq;
    for (const type of ["text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]) {
      const r = await rawRequest<ErrorBody>(d.url, {
        method: "PUT",
        path: "/v1/secrets/TYPED",
        body: '{"value":"v"}',
        headers: { authorization: `Bearer ${token}`, "content-type": type },
      });
      expect([type, r.status, r.body.error.code]).toEqual([type, 415, "ERR_UNSUPPORTED_MEDIA_TYPE"]);
      expect(r.body.error.hint).toContain("content-type: application/json");
    }
    expect(d.security.audit.head().seq).toBe(headBefore);
    for (const type of ["application/json; charset=utf-8", "application/merge-patch+json"]) {
      const r = await rawRequest(d.url, {
        method: "PUT",
        path: "/v1/secrets/TYPED",
        body: '{"value":"v"}',
        headers: { authorization: `Bearer ${token}`, "content-type": type },
      });
      expect([type, r.status]).toEqual([type, 200]);
    }
  });
});

describe("a path parameter or path that names nothing", () => {
  const UNSHOWABLE = /[\p{Cc}\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;
  const get = (path: string, method = "GET") =>
    rawRequest<ErrorBody>(d.url, { method, path, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" } });

  it("is named back with its control and bidi characters escaped, on every route of the OpenAPI document (an RTL override reversed the message)", async () => {
    const doc = (
      await rawRequest<{ paths: Record<string, Record<string, unknown>> }>(d.url, {
        path: "/v1/openapi.json",
        headers: { authorization: `Bearer ${token}` },
      })
    ).body;
    const sent = "p\u202exx\n\u2066tail";
    const named: string[] = [];
    for (const [template, methods] of Object.entries(doc.paths)) {
      if (!template.includes("{")) continue;
      for (const method of Object.keys(methods)) {
        const r = await rawRequest<ErrorBody>(d.url, {
          method: method.toUpperCase(),
          path: template.replace(/\{[^}]+\}/g, encodeURIComponent(sent)),
          ...(method === "get" || method === "delete" ? {} : { body: "{}" }),
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        });
        expect([method, template, UNSHOWABLE.test(JSON.stringify(r.body.error))]).toEqual([method, template, false]);
        if (r.status === 404) named.push(`${method} ${template}: ${r.body.error.message}`);
      }
    }
    // The routes that look the parameter up name it, escaped: "No worker named", "No release", "No token".
    expect(named.length).toBeGreaterThanOrEqual(10);
    for (const line of named) expect(line).toContain("p\\u202exx\\u000a\\u2066tail");
    expect(named).toContain('delete /v1/tokens/{id}: No token with id "p\\u202exx\\u000a\\u2066tail".');
  });

  it("a path no route has, or one a method does not take (API and dashboard): named cut to 100 characters, not the up to 16 KiB sent; a token in it stays masked", async () => {
    const long = `/v1/workers/\u202e${"x".repeat(6000)}/nothing`;
    const none = await get(encodeURI(long));
    expect([none.status, none.body.error.message]).toEqual([404, `No route GET /v1/workers/\\u202e${"x".repeat(87)}….`]);
    const method = await get(encodeURI(`/v1/secrets/${"y".repeat(6000)}`), "PATCH");
    expect([method.status, method.body.error.message]).toEqual([
      405,
      `PATCH is not served at /v1/secrets/${"y".repeat(88)}…: use DELETE or PUT.`,
    ]);
    const page = await get(encodeURI(`/ui/${"z".repeat(6000)}/page`));
    expect([page.status, page.body.error.message]).toEqual([404, `The dashboard has no page GET /ui/${"z".repeat(96)}….`]);
    // A token whose start fits in the 100 characters and whose end does not: masked whole, not cut into an unmasked part.
    const pasted = await get(`/v1/${"a".repeat(80)}/${token}`);
    expect(pasted.status).toBe(404);
    expect(pasted.text).not.toContain(token.slice(0, 12));
    expect(pasted.body.error.message).toMatch(/\/cbo_admin_\[reda….$/);
    for (const r of [none, method, page, pasted]) expect(r.text.length).toBeLessThan(400);
  });
});

describe("a query parameter given twice, or one the route does not take", () => {
  it("is refused naming it (it was read as its first value, dropping the other); other parameters still parse", async () => {
    const get = (path: string) => rawRequest<ErrorBody>(d.url, { path, headers: { authorization: `Bearer ${token}` } });
    const twice = await get("/v1/releases?limit=1&worker=tiny&limit=500");
    expect([twice.status, twice.body.error.code, twice.body.error.details]).toEqual([
      400,
      "ERR_VALIDATION",
      { issues: [{ path: "query.limit", message: "given 2 times; give it once" }] },
    ]);
    expect((await get("/v1/releases?limit=1&worker=tiny")).status).toBe(200);
    // A parameter the route does not take is named, with the one it most likely meant (it was ignored).
    const typo = await get("/v1/releases?limt=1");
    expect([typo.status, typo.body.error.message, typo.body.error.hint]).toEqual([
      400,
      'Invalid request: query: unknown parameter "limt" (did you mean "limit"?)',
      "This route takes: worker, limit, cursor.",
    ]);
  });
});

describe("a connection that breaks as its request starts", () => {
  it("a plan whose client is gone before its reads begin leaves no unhandled rejection (it ended the daemon process)", async () => {
    const unhandled: unknown[] = [];
    const note = (reason: unknown) => void unhandled.push(reason);
    process.on("unhandledRejection", note);
    try {
      // Bytes after the request that are not HTTP: node answers 400 and closes, aborting the plan.
      for (const route of ["plan", "diff"]) {
        const r = await raw(
          `GET /v1/workers/tiny/${route} HTTP/1.1\r\nauthorization: Bearer ${token}\r\nhost: 127.0.0.1\r\n\r\nNOT HTTP\r\n\r\n`,
        );
        expect([route, r.status]).toEqual([route, 400]);
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", note);
    }
    expect((await rawRequest(d.url, { path: "/v1/workers/tiny/plan", headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  });
});

describe("HTTP that never reaches a route", () => {
  const auth = () => `authorization: Bearer ${token}\r\nhost: 127.0.0.1\r\n`;
  it("a header block over 16 KiB: 431 ERR_HEADERS_TOO_LARGE, the header not echoed", async () => {
    const r = await raw(`GET /v1/status HTTP/1.1\r\n${auth()}x-long: ${"secretish".repeat(3000)}\r\n\r\n`);
    expect(r.status).toBe(431);
    expect(JSON.parse(r.body).error).toMatchObject({ code: "ERR_HEADERS_TOO_LARGE", details: { limit: 16384 } });
    expect(r.body).not.toContain("secretish");
    expect(r.body).not.toContain(token);
    // A long URL overflows the same count: the message names the URL too, not only headers.
    const url = await raw(`GET /v1/audit?actor=${"a".repeat(20_000)} HTTP/1.1\r\n${auth()}\r\n`);
    expect([url.status, JSON.parse(url.body).error.message]).toEqual([431, expect.stringContaining("URL and headers are larger")]);
  });

  it("malformed HTTP, a bad Host, a backslash: 400 ERR_VALIDATION saying what is wrong", async () => {
    const cases: Array<[string, RegExp]> = [
      [`FOO /v1/health HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n`, /unknown HTTP method/],
      [`GET /v1/secrets/a\0b HTTP/1.1\r\n${auth()}\r\n`, /not a valid URL path/],
      [`PUT /v1/secrets/X HTTP/1.1\r\n${auth()}content-length: 2\r\ncontent-length: 3\r\n\r\n{}`, /Content-Length/],
      [`PUT /v1/secrets/X HTTP/1.1\r\n${auth()}transfer-encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`, /chunk size/],
      [`GET /v1/health HTTP/1.1\r\nhost: a b\r\n\r\n`, /Host is not valid/],
      [`GET /v1\\health HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n`, /backslash/],
    ];
    for (const [bytes, message] of cases) {
      const r = await raw(bytes);
      expect([bytes.split("\r\n")[0], r.status]).toEqual([bytes.split("\r\n")[0], 400]);
      const error = (JSON.parse(r.body) as ErrorBody).error;
      expect(error.code).toBe("ERR_VALIDATION");
      expect(error.message).toMatch(message);
    }
    // A WebSocket upgrade to a path with no stream: 404 in the same shape.
    const ws = await raw(
      `GET /v1/nope/stream HTTP/1.1\r\n${auth()}connection: Upgrade\r\nupgrade: websocket\r\nsec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
    );
    expect([ws.status, (JSON.parse(ws.body) as ErrorBody).error.code]).toEqual([404, "ERR_NOT_FOUND"]);
    // A broken handshake to a stream: named in the same shape (ws's own answer was text/html with no code).
    const upgrade = `GET /v1/events/stream HTTP/1.1\r\n${auth()}connection: Upgrade\r\nupgrade: websocket\r\n`;
    for (const [headers, header] of [
      ["sec-websocket-version: 13\r\n", "Sec-WebSocket-Key"],
      ["sec-websocket-version: 13\r\nsec-websocket-key: short\r\n", "Sec-WebSocket-Key"],
      ["sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "Sec-WebSocket-Version"],
      [
        "sec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-protocol: cbo.v1, cbo.v1\r\n",
        "Sec-WebSocket-Protocol",
      ],
    ] as const) {
      const r = await raw(`${upgrade}${headers}\r\n`);
      expect([header, r.status, JSON.parse(r.body).error]).toEqual([
        header,
        400,
        expect.objectContaining({ code: "ERR_VALIDATION", details: { header } }),
      ]);
    }
    // No Host at all is the Host check's: 421, as for HTTP/1.0.
    expect((await raw(`GET /v1/health HTTP/1.1\r\n\r\n`)).status).toBe(421);
    // And the daemon still answers.
    expect((await rawRequest(d.url, { path: "/v1/health" })).status).toBe(200);
  });
});
