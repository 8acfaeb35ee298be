// Failed authentication over real HTTP and WebSocket on loopback, from distinct client addresses
// (127.0.0.x, all loopback on Linux): each failure is audited without the token; after 10 failures
// in 60 s from one address, or with one token prefix, failing requests of that address or prefix
// get 429 with retry-after for 60 s, while a valid token is still served (nobody can lock anybody
// out); other addresses and prefixes are unaffected, and a success resets nothing.
import http from "node:http";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { ErrorBody } from "../src/contract/index.ts";
import { startApiFixture, type ApiFixture } from "./support/api-fixtures.ts";

/** `body` is the parsed JSON (undefined if none), typed as the shape the caller expects. */
type Reply<T = unknown> = { status: number; headers: http.IncomingHttpHeaders; text: string; body: T };

/** GET path from a chosen local address. */
function get<T = unknown>(
  url: string,
  path: string,
  from: string,
  token?: string,
  headers: Record<string, string> = {},
): Promise<Reply<T>> {
  const u = new URL(path, url);
  return new Promise((resolve, reject) => {
    const req = http.get(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        localAddress: from,
        headers: { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
        agent: false,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (text += d));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: (text ? JSON.parse(text) : undefined) as T }),
        );
      },
    );
    req.on("error", reject);
  });
}

const fake = (prefix = "cbo_admin_") => `${prefix}${randomBytes(18).toString("base64url")}`;

describe("auth failures: audited and rate-limited", () => {
  let f: ApiFixture;
  beforeAll(async () => {
    f = await startApiFixture();
  });
  afterAll(async () => {
    await f?.close();
  });

  it("records each failure without the token; the 11th failing request from the address is 429 with retry-after; a valid token still gets in", async () => {
    const from = "127.0.0.2";
    const tried = Array.from({ length: 10 }, () => fake());
    const headBefore = f.security.audit.head().seq;
    for (const token of tried) {
      const r = await get<ErrorBody>(f.url, "/v1/status", from, token);
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe("ERR_UNAUTHORIZED");
    }
    const locked = await get<ErrorBody>(f.url, "/v1/status", from, fake());
    expect(locked.status).toBe(429);
    expect(locked.body.error).toMatchObject({ code: "ERR_RATE_LIMITED", details: { retryAfter: expect.any(Number) } });
    const retryAfter = Number(locked.headers["retry-after"]);
    expect(retryAfter).toBeGreaterThanOrEqual(55);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect((await get(f.url, "/v1/status", from)).status).toBe(429);
    // A valid token is never locked out, whatever its address did.
    expect((await get(f.url, "/v1/status", from, f.tokens.admin)).status).toBe(200);
    // Public routes need no token and are not held.
    expect((await get(f.url, "/v1/health", from)).status).toBe(200);
    // Other addresses are not affected.
    expect((await get(f.url, "/v1/status", "127.0.0.3", f.tokens.viewer)).status).toBe(200);

    const added = f.security.audit.search({ limit: 1000 }).filter((e) => e.seq > headBefore);
    const failed = added.filter((e) => e.action === "auth.failed");
    expect(failed).toHaveLength(10);
    expect(failed[0]).toMatchObject({
      actor: `client:${from}`,
      outcome: "denied",
      target: "GET /v1/status",
      details: { reason: "unknown, revoked or expired token", client: from },
    });
    // The lock is recorded once, and each request refused while locked as auth.refused_locked.
    expect(added.filter((e) => e.action === "auth.rate_limited")).toEqual([
      expect.objectContaining({ details: { reason: "locked", client: from, lockedClient: true, lockedPrefix: false } }),
    ]);
    expect(added.filter((e) => e.action === "auth.refused_locked")).toHaveLength(2);
    expect(added.filter((e) => e.action.startsWith("auth.")).length).toBe(13);
    const everything = JSON.stringify(f.security.audit.search({ limit: 10_000 })) + f.logged.join("\n");
    for (const token of tried) {
      expect(everything).not.toContain(token);
      expect(everything).not.toContain(token.slice(10, 26));
    }
  });

  it("locks a token prefix tried from many addresses, and only that prefix", async () => {
    const prefix = `cbo_admin_${randomBytes(6).toString("hex").slice(0, 6)}`; // 16 characters, as the limiter keys them
    for (let i = 0; i < 10; i++) expect((await get(f.url, "/v1/targets", `127.0.1.${10 + i}`, fake(prefix))).status).toBe(401);
    const r = await get(f.url, "/v1/targets", "127.0.1.30", fake(prefix));
    expect(r.status).toBe(429);
    expect(f.security.audit.search({ action: "auth.rate_limited" }).at(-1)!.details).toMatchObject({
      lockedPrefix: true,
      lockedClient: false,
    });
    // That address is not locked: a token with another prefix works from it.
    expect((await get(f.url, "/v1/targets", "127.0.1.30", f.tokens.admin)).status).toBe(200);
  });

  it("a success resets nothing: 9 failures, a success, one more failure, and the address is locked", async () => {
    const from = "127.0.0.4";
    for (let i = 0; i < 9; i++) expect((await get(f.url, "/v1/targets", from, fake())).status).toBe(401);
    expect((await get(f.url, "/v1/targets", from, f.tokens.viewer)).status).toBe(200);
    expect((await get(f.url, "/v1/targets", from, fake())).status).toBe(401);
    expect((await get(f.url, "/v1/targets", from, fake())).status).toBe(429);
    expect((await get(f.url, "/v1/targets", from, f.tokens.viewer)).status).toBe(200);
  });

  it("believes no CF-Connecting-IP while no tunnel is configured: a changing header does not escape the lock", async () => {
    const from = "127.0.0.8";
    for (let i = 0; i < 10; i++)
      expect((await get(f.url, "/v1/targets", from, fake(), { "cf-connecting-ip": `203.0.113.${i}` })).status).toBe(401);
    expect((await get(f.url, "/v1/targets", from, fake(), { "cf-connecting-ip": "203.0.113.200" })).status).toBe(429);
    expect(f.security.audit.search({ action: "auth.failed", limit: 1000 }).filter((e) => e.details.client === from)).toHaveLength(10);
  });

  it("the WebSocket stream goes through the same gate", async () => {
    const from = "127.0.0.5";
    const closeOf = (token: string) =>
      new Promise<{ code: number; reason: string }>((resolve, reject) => {
        const ws = new WebSocket(`${f.url.replace(/^http/, "ws")}/v1/events/stream`, {
          headers: { authorization: `Bearer ${token}` },
          localAddress: from,
        });
        ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() }));
        ws.once("open", () => ws.close(1000));
        ws.once("error", reject);
      });
    for (let i = 0; i < 10; i++) expect((await closeOf(fake())).reason).toMatch(/^ERR_UNAUTHORIZED/);
    const locked = await closeOf(fake());
    expect(locked).toMatchObject({ code: 1008, reason: expect.stringMatching(/^ERR_RATE_LIMITED/) });
    // The address is locked, and a valid token opens the stream all the same.
    expect(await closeOf(f.tokens.viewer)).toMatchObject({ code: 1000 });
    expect(f.security.audit.search({ action: "auth.failed", target: "GET /v1/events/stream" }).length).toBe(10);
  });
});

describe("the lock runs out", () => {
  it("after lockMs a failing request of the address is answered 401 again", async () => {
    const f = await startApiFixture({ authLimits: { lockMs: 300 } });
    try {
      for (let i = 0; i < 10; i++) await get(f.url, "/v1/targets", "127.0.0.6", fake());
      expect((await get(f.url, "/v1/targets", "127.0.0.6", fake())).status).toBe(429);
      await new Promise((r) => setTimeout(r, 350));
      expect((await get(f.url, "/v1/targets", "127.0.0.6", fake())).status).toBe(401);
    } finally {
      await f.close();
    }
  });
});
