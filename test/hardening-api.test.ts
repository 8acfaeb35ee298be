// Issue 11, items 3 to 6, as an outsider attacks them: a real daemon on a real local edge, with a
// tunnel created through its API (so it trusts CF-Connecting-IP from loopback, as from cloudflared,
// and answers for the tunnel's hostnames), attacked over real HTTP and WebSocket on 127.0.0.1.
//   3. 11 bad tokens "through the tunnel" (loopback + CF-Connecting-IP, the tunnel's Host) lock that
//      visitor only: the local admin and other visitors are untouched, and a valid token always gets in.
//   4. A 100 MB heartbeat, chunked or declared, is refused 413 after at most a few MB have gone in;
//      every route that takes a body refuses one over its limit with 413.
//   5. 300 unsigned relay requests and 300 unsigned heartbeats write a bounded number of audit
//      entries, every one of the 600 still counted; a signed heartbeat from that address gets in.
//   6. Host: attacker.example is refused 421 (REST, heartbeat, WebSocket); event streams are capped
//      per token and per address; bad backup paths are 4xx and create nothing; an oversized
//      orchestrator.yaml is refused with its size and limit while the daemon keeps its spec.
import { createHmac, randomBytes } from "node:crypto";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { DEFAULT_MAX_BODY_BYTES } from "../src/api/body-limit.ts";
import { MAX_SPEC_FILE_BYTES } from "../src/config/size-limits.ts";
import type { ErrorBody } from "../src/contract/index.ts";
import { rawRequest, streamBody } from "./support/raw-http.ts";
import { startTunnelRig, type TunnelRig } from "./tunnel-fixture.ts";

const SPEC = `version: 1
targets:
  - { name: eu, api: local }
workers:
  - { name: api, main: api.js, agent: true, secrets: [RELAYED] }
`;
const HOST = "cbo.example.test";
const fake = () => `cbo_admin_${randomBytes(18).toString("base64url")}`;

describe("hardening: what an outside attack found (items 3-6)", () => {
  let rig: TunnelRig;
  let port: string;
  const url = () => rig.d.url;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    rig = await startTunnelRig({
      spec: SPEC,
      files: { "api.js": "export default { fetch: () => new Response('ok') };\n" },
      daemon: { denials: { windowMs: 4_000 }, allowedHosts: ["ops.example.net"] },
    });
    port = new URL(rig.d.url).port;
    await rig.api("POST", "/v1/tunnel", { hostname: HOST });
    for (const role of ["viewer", "viewer2", "viewer3", "viewer4", "viewer5"]) {
      tokens[role] = (await rig.api<{ token: string }>("POST", "/v1/tokens", { name: role, role: "viewer" })).token;
    }
  }, 120_000);
  afterAll(async () => rig?.close());

  /** A request as cloudflared forwards it: from loopback, the tunnel's Host, the visitor's address. */
  const viaTunnel = <T = unknown>(visitor: string, path: string, token?: string) =>
    rawRequest<T>(url(), {
      path,
      headers: { host: HOST, "cf-connecting-ip": visitor, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    });
  const local = (path: string, token?: string) => rawRequest(url(), { path, headers: token ? { authorization: `Bearer ${token}` } : {} });

  describe("3. the failed-auth lockout through the tunnel", () => {
    it("locks the visitor who failed, by the address the tunnel reports; the local admin and other visitors are untouched", async () => {
      const attacker = "203.0.113.7";
      for (let i = 0; i < 10; i++) expect((await viaTunnel(attacker, "/v1/status", fake())).status).toBe(401);
      const locked = await viaTunnel<ErrorBody>(attacker, "/v1/status", fake());
      expect(locked.status).toBe(429);
      expect(locked.body.error.code).toBe("ERR_RATE_LIMITED");
      // The local admin (loopback, no tunnel header) is not that visitor: a wrong token is a plain 401, the right one 200.
      expect((await local("/v1/status", fake())).status).toBe(401);
      expect((await local("/v1/status", rig.token)).status).toBe(200);
      // Another visitor through the tunnel is not affected either.
      expect((await viaTunnel("198.51.100.4", "/v1/status", fake())).status).toBe(401);
      expect((await viaTunnel("198.51.100.4", "/v1/status", tokens.viewer)).status).toBe(200);
      // And the locked visitor's own valid token is never refused.
      expect((await viaTunnel(attacker, "/v1/status", tokens.viewer)).status).toBe(200);
      const failed = rig.d.security.audit.search({ action: "auth.failed", limit: 1000 }).filter((e) => e.details.client === attacker);
      expect(failed).toHaveLength(10);
      expect(failed[0]).toMatchObject({ actor: `client:${attacker}`, target: "GET /v1/status" });
    });

    it("keys an IPv6 visitor by its /64: rotating addresses inside it does not escape the lock", async () => {
      for (let i = 0; i < 10; i++) expect((await viaTunnel(`2001:db8:7:7::${i + 1}`, "/v1/targets", fake())).status).toBe(401);
      expect((await viaTunnel("2001:db8:7:7::ffff", "/v1/targets", fake())).status).toBe(429);
      expect((await viaTunnel("2001:db8:7:8::1", "/v1/targets", fake())).status).toBe(401);
    });
  });

  describe("4. streaming body limits", () => {
    const hb = `/v1/agent/heartbeat`;
    it("a 100 MB chunked heartbeat is cut off at its 16 KiB limit: 413 after a few MB at most, not after reading it all", async () => {
      const rssBefore = process.memoryUsage().rss;
      const r = await streamBody<ErrorBody>(url(), { path: hb, total: 100 * 1024 * 1024, chunked: true });
      expect(r.status).toBe(413);
      expect(r.body.error).toMatchObject({ code: "ERR_PAYLOAD_TOO_LARGE", details: { limit: 16 * 1024 } });
      expect(r.sentBeforeAnswer).toBeLessThan(16 * 1024 * 1024);
      expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * 1024 * 1024);
    });

    it("a declared 600 MB heartbeat is refused 413 before it is read", async () => {
      const r = await streamBody<ErrorBody>(url(), { path: hb, total: 600 * 1024 * 1024, chunked: false });
      expect(r.status).toBe(413);
      expect(r.body.error.code).toBe("ERR_PAYLOAD_TOO_LARGE");
      expect(r.sentBeforeAnswer).toBeLessThan(16 * 1024 * 1024);
    });

    it("the relay, the dashboard's login and an authenticated route take 64 KiB, chunked or not", async () => {
      for (const path of ["/v1/relay", "/ui/login"]) {
        const r = await streamBody<ErrorBody>(url(), { path, total: 10 * 1024 * 1024, chunked: true });
        expect([path, r.status, r.body.error.code]).toEqual([path, 413, "ERR_PAYLOAD_TOO_LARGE"]);
      }
      const r = await streamBody<ErrorBody>(url(), {
        path: "/v1/releases",
        total: DEFAULT_MAX_BODY_BYTES + 1,
        chunked: true,
        headers: { authorization: `Bearer ${rig.token}` },
      });
      expect([r.status, r.body.error.code]).toEqual([413, "ERR_PAYLOAD_TOO_LARGE"]);
    });

    it("every route refuses a body over its limit with 413; a secret's larger limit still lets the vault name its own", async () => {
      const doc = (await local("/v1/openapi.json")).body as { paths: Record<string, Record<string, unknown>> };
      const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops)
          .filter((m) => m !== "get")
          .map((m) => [m.toUpperCase(), path.replace(/\{[^}]+\}/g, "x")] as const),
      );
      expect(operations.length).toBeGreaterThan(15);
      for (const [method, path] of operations) {
        const r = await streamBody<ErrorBody | undefined>(url(), {
          method,
          path,
          total: 1024 * 1024,
          chunked: false,
          headers: { authorization: `Bearer ${rig.token}` },
        });
        expect([method, path, r.status, r.body?.error?.code]).toEqual([method, path, 413, "ERR_PAYLOAD_TOO_LARGE"]);
      }
      const big = await rawRequest<ErrorBody>(url(), {
        method: "PUT",
        path: "/v1/secrets/BIG",
        headers: { authorization: `Bearer ${rig.token}`, "content-type": "application/json" },
        body: JSON.stringify({ value: "v".repeat(70 * 1024) }),
      });
      expect([big.status, big.body.error.code, big.body.error.message]).toEqual([
        400,
        "ERR_VALIDATION",
        expect.stringContaining("at most 65536 bytes"),
      ]);
    });
  });

  describe("5. refusals cannot grow the audit log", () => {
    it("300 unsigned relay requests and 300 unsigned heartbeats: a bounded number of entries, all 600 counted; 429 once the address is locked", {
      timeout: 30_000,
    }, async () => {
      const visitor = "192.0.2.55";
      const head = rig.d.security.audit.head().seq;
      const statuses: number[] = [];
      const heartbeat = JSON.stringify({
        worker: "api",
        target: "eu",
        versionId: "v1",
        configVersion: null,
        isolate: "i-1",
        sentAt: new Date().toISOString(),
        uptimeMs: 1,
        totals: { requests: 0, errors: 0 },
        window: { sinceMs: 0, requests: 0, errors: 0 },
        rejections: [],
      });
      const relay = JSON.stringify({ worker: "api", target: "eu", secret: "RELAYED", nonce: "nonce-123456" });
      for (let i = 0; i < 300; i++) {
        for (const [path, body] of [
          ["/v1/relay", relay],
          ["/v1/agent/heartbeat", heartbeat],
        ] as const) {
          const r = await rawRequest(url(), {
            method: "POST",
            path,
            body,
            headers: { host: HOST, "cf-connecting-ip": visitor, "content-type": "application/json" },
          });
          statuses.push(r.status);
        }
      }
      expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
      expect(statuses.slice(20).every((s) => s === 429)).toBe(true);
      // A correctly signed heartbeat from the same (locked) address is still taken.
      const { key } = rig.d.security.workerKeys.current({ tenant: "default", worker: "api", target: "eu" }, "test");
      const t = Math.floor(Date.now() / 1000);
      const signed = await rawRequest(url(), {
        method: "POST",
        path: "/v1/agent/heartbeat",
        body: heartbeat,
        headers: {
          host: HOST,
          "cf-connecting-ip": visitor,
          "content-type": "application/json",
          "cbo-signature": `t=${t},v1=${createHmac("sha256", key).update(`${t}.${heartbeat}`).digest("hex")}`,
        },
      });
      expect(signed.status).toBe(202);

      const written = () =>
        rig.d.security.audit.search({ limit: 10_000 }).filter((e) => e.seq > head && JSON.stringify(e).includes(visitor));
      // Before the window ends: the first ten of each kind in full, one lock.
      expect(written().length).toBeLessThanOrEqual(21);
      // Once it ends, one summary per kind carries the count: nothing refused is unrecorded.
      await new Promise((r) => setTimeout(r, 4_500));
      const all = written();
      expect(all.length).toBeLessThanOrEqual(24);
      for (const action of ["relay.denied", "agent.denied"]) {
        const full = all.filter((e) => e.action === action && e.details.aggregated === undefined);
        const summaries = all.filter((e) => e.action === action && e.details.aggregated === true);
        expect(full).toHaveLength(10);
        expect(summaries).toHaveLength(1);
        expect(summaries[0]).toMatchObject({
          actor: `client:${visitor}`,
          outcome: "denied",
          details: { count: 290, writtenSeparately: 10 },
        });
      }
      expect(all.filter((e) => e.action === "auth.rate_limited")).toHaveLength(1);
      expect((await rig.d.security.verify()).ok).toBe(true);
    });
  });

  describe("6. hosts, stream caps, backup paths, spec size", () => {
    it("answers only for loopback, the tunnel's hostnames and the configured extras (DNS rebinding)", async () => {
      for (const host of ["attacker.example", `attacker.example:${port}`, "127.0.0.1.attacker.example"]) {
        const r = await rawRequest<ErrorBody | undefined>(url(), { path: "/v1/health", headers: { host } });
        expect([host, r.status, r.body?.error?.code]).toEqual([host, 421, "ERR_HOST_NOT_ALLOWED"]);
      }
      const hb = await rawRequest<ErrorBody>(url(), {
        method: "POST",
        path: "/v1/agent/heartbeat",
        body: "{}",
        headers: { host: "attacker.example", "content-type": "application/json" },
      });
      expect([hb.status, hb.body.error.code]).toEqual([421, "ERR_HOST_NOT_ALLOWED"]);
      const ui = await rawRequest(url(), { path: "/ui/", headers: { host: "attacker.example" } });
      expect(ui.status).toBe(421);
      for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, HOST, "ops.example.net"]) {
        expect([host, (await rawRequest(url(), { path: "/v1/health", headers: { host } })).status]).toEqual([host, 200]);
      }
      const ws = await new Promise<number>((resolve, reject) => {
        const s = new WebSocket(`ws://127.0.0.1:${port}/v1/events/stream`, {
          headers: { host: "attacker.example", authorization: `Bearer ${rig.token}` },
        });
        s.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
        s.on("open", () => (s.close(), resolve(101)));
        s.on("error", reject);
      });
      expect(ws).toBe(421);
      expect(rig.d.security.audit.search({ action: "host.denied", limit: 100 }).length).toBeGreaterThan(0);
    });

    type Opened = { ws: WebSocket; closed: Promise<{ code: number; reason: string }>; status: Promise<number> };
    const open = (token: string, headers: Record<string, string> = {}): Opened => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/events/stream`, { headers: { authorization: `Bearer ${token}`, ...headers } });
      let refused: (n: number) => void;
      const status = new Promise<number>((r) => (refused = r));
      ws.on("unexpected-response", (_q, res) => refused(res.statusCode ?? 0));
      ws.on("open", () => refused(101));
      ws.on("error", () => {});
      return { ws, status, closed: new Promise((r) => ws.once("close", (code, reason) => r({ code, reason: reason.toString() }))) };
    };
    const settle = () => new Promise((r) => setTimeout(r, 300));

    it("caps event streams per token (32) and per client address (128), with a clear code", async () => {
      const mine = Array.from({ length: 32 }, () => open(tokens.viewer));
      expect(await Promise.all(mine.map((o) => o.status))).toEqual(Array(32).fill(101));
      const over = open(tokens.viewer);
      const stillOpen = new Promise((r) => setTimeout(() => r({ code: 0, reason: "still open after 5 s" }), 5_000));
      expect(await Promise.race([over.closed, stillOpen])).toEqual({
        code: 1008,
        reason: expect.stringMatching(/^ERR_TOO_MANY_STREAMS: .*token/),
      });
      // Another token is not held by this one's streams.
      const other = open(tokens.viewer2);
      expect(await other.status).toBe(101);
      await settle();
      expect(other.ws.readyState).toBe(WebSocket.OPEN);
      for (const o of [...mine, other]) o.ws.close();
      await Promise.all([...mine, other].map((o) => o.closed));

      // One visitor through the tunnel with four tokens: 128 streams, then refused before upgrading.
      const visitor = { host: HOST, "cf-connecting-ip": "203.0.113.99" };
      const many = ["viewer", "viewer2", "viewer3", "viewer4"].flatMap((role) =>
        Array.from({ length: 32 }, () => open(tokens[role]!, visitor)),
      );
      expect(await Promise.all(many.map((o) => o.status))).toEqual(Array(128).fill(101));
      await settle();
      expect(many.every((o) => o.ws.readyState === WebSocket.OPEN)).toBe(true);
      const refused = await new Promise<{ status: number; body: string }>((resolve) => {
        const s = new WebSocket(`ws://127.0.0.1:${port}/v1/events/stream`, {
          headers: { authorization: `Bearer ${tokens.viewer5}`, ...visitor },
        });
        s.on("unexpected-response", (_q, res) => {
          let body = "";
          res.on("data", (d: Buffer) => (body += d.toString()));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        });
        s.on("error", () => {});
      });
      expect(refused.status).toBe(429);
      expect(JSON.parse(refused.body).error.code).toBe("ERR_TOO_MANY_STREAMS");
      // The local admin is another address: not held by the visitor's streams.
      const admin = open(rig.token);
      expect(await admin.status).toBe(101);
      for (const o of [...many, admin]) o.ws.close();
      await Promise.all([...many, admin].map((o) => o.closed));
      // Closed streams free their places.
      const again = open(tokens.viewer5, visitor);
      expect(await again.status).toBe(101);
      again.ws.close();
      await again.closed;
    });

    it("POST /v1/backups refuses bad paths with 4xx and a code, and creates nothing", async () => {
      const post = (body: unknown) =>
        rawRequest<ErrorBody | undefined>(url(), {
          method: "POST",
          path: "/v1/backups",
          body: JSON.stringify(body),
          headers: { authorization: `Bearer ${rig.token}`, "content-type": "application/json" },
        });
      const cases: Array<[unknown, number, string]> = [
        [{ out: "/dev/null" }, 409, "ERR_CONFLICT"],
        [{ out: "/etc/passwd" }, 409, "ERR_CONFLICT"],
        [{ dir: "/dev/null" }, 400, "ERR_VALIDATION"],
        [{ dir: "/etc/passwd" }, 400, "ERR_VALIDATION"],
        [{ out: "/tmp/cbo-nul\0.cbobak" }, 400, "ERR_VALIDATION"],
        [{ out: `/tmp/${"n".repeat(4000)}.cbobak` }, 400, "ERR_VALIDATION"],
        [{ out: "/nonexistent/dir/x" }, 400, "ERR_VALIDATION"],
        [{ dir: "/nonexistent/dir/x" }, 400, "ERR_VALIDATION"],
        [{ dir: rig.dataDir }, 400, "ERR_VALIDATION"],
        [{ out: "relative.cbobak" }, 400, "ERR_VALIDATION"],
      ];
      for (const [body, status, code] of cases) {
        const r = await post(body);
        expect([body, r.status, r.body?.error?.code]).toEqual([body, status, code]);
      }
      expect(existsSync("/nonexistent")).toBe(false);
      expect(readdirSync(rig.dataDir).filter((n) => n.endsWith(".cbobak"))).toEqual([]);
      // Where the daemon does write: a new directory directly inside one of its user's.
      const ok = await post({ out: join(rig.dir, "kept", "one.cbobak") });
      expect(ok.status).toBe(200);
      expect(existsSync(join(rig.dir, "kept", "one.cbobak"))).toBe(true);
    });

    it("an orchestrator.yaml over 1 MiB is refused with its size and the limit; the daemon keeps its spec and answers fast", async () => {
      writeFileSync(
        join(rig.dir, "orchestrator.yaml"),
        SPEC.replace("agent: true", `agent: true, vars: { BIG: "${"x".repeat(2 * MAX_SPEC_FILE_BYTES)}" }`),
      );
      const deadline = Date.now() + 5_000;
      while (!rig.logs.some((l) => l.includes("may be at most")) && Date.now() < deadline) {
        await local("/v1/workers", rig.token);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(rig.logs.find((l) => l.includes("may be at most"))).toMatch(
        new RegExp(`the file is \\d+ bytes; it may be at most ${MAX_SPEC_FILE_BYTES} bytes`),
      );
      const started = Date.now();
      const workers = await local("/v1/workers", rig.token);
      expect(workers.status).toBe(200);
      expect(JSON.stringify(workers.body)).not.toContain("xxxxxxxx");
      expect(Date.now() - started).toBeLessThan(1_000);
      writeFileSync(join(rig.dir, "orchestrator.yaml"), SPEC);
    });
  });
});
