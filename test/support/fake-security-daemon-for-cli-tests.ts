// fakeSecurityDaemonForCliTests: a TEST DOUBLE of the daemon's secrets, tokens and audit routes
// (issue 4's REST contract), on real HTTP on 127.0.0.1, holding everything in memory. It lets the
// CLI tests check what the CLI sends (request bodies, query strings), what it prints, its error
// mapping and exit codes, before and apart from the real daemon. It is not the daemon: no vault,
// no encryption, no hash chain. test/cli-secrets-e2e.test.ts runs the CLI against the real one.
// Tokens: FAKE_ADMIN (admin), FAKE_DEPLOYER (deployer), FAKE_VIEWER (viewer), plus created ones.
import http from "node:http";
import type { AddressInfo } from "node:net";

export const FAKE_ADMIN = "cbo_fakesec_admin_0123456789";
export const FAKE_DEPLOYER = "cbo_fakesec_deployer_0123456789";
export const FAKE_VIEWER = "cbo_fakesec_viewer_0123456789";

type Role = "admin" | "deployer" | "viewer" | "agent";
type Version = {
  version: number;
  value: string;
  encoding: "utf8" | "base64";
  createdAt: string;
  createdBy: string;
  createdByToken: string;
  destroyed: boolean;
};
type Secret = {
  name: string;
  current: number;
  versions: Version[];
  mode: string;
  jurisdictions: string[];
  deleted: boolean;
  updatedAt: string;
};
type Token = {
  id: string;
  token: string;
  name: string;
  role: Role;
  tenant: string | null;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
};
type Entry = {
  seq: number;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  tenant: string | null;
  outcome: string;
  details: Record<string, unknown>;
  prev_hash: string;
  hash: string;
};

export type FakeSecurityDaemon = {
  url: string;
  secrets: Map<string, Secret>;
  tokens: Token[];
  audit: Entry[];
  requests: Array<{ method: string; path: string; body: unknown }>;
  close(): Promise<void>;
};

const RANK: Record<Role, number> = { viewer: 0, agent: 1, deployer: 1, admin: 2 };
const now = () => new Date().toISOString();

export async function fakeSecurityDaemonForCliTests(): Promise<FakeSecurityDaemon> {
  const secrets = new Map<string, Secret>();
  const audit: Entry[] = [];
  const requests: FakeSecurityDaemon["requests"] = [];
  const tokens: Token[] = (["admin", "deployer", "viewer"] as const).map((role, i) => ({
    id: `tok_${i + 1}`,
    token: role === "admin" ? FAKE_ADMIN : role === "deployer" ? FAKE_DEPLOYER : FAKE_VIEWER,
    name: `fake ${role}`,
    role,
    tenant: null,
    createdAt: now(),
    expiresAt: null,
    revokedAt: null,
  }));
  let nextToken = tokens.length + 1;

  const record = (actor: Token, action: string, target: string | null, details: Record<string, unknown> = {}) =>
    audit.push({
      seq: audit.length + 1,
      at: now(),
      actor: `token:${actor.name}`,
      action,
      target,
      tenant: "default",
      outcome: "ok",
      details,
      prev_hash: "0".repeat(64),
      hash: "0".repeat(64),
    });

  const server = http.createServer(async (req, res) => {
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
      res.end(text);
    };
    const fail = (status: number, code: string, message: string, details?: Record<string, unknown>) =>
      send(status, { error: { code, message, ...(details ? { details } : {}) } });
    const url = new URL(req.url ?? "/", "http://x");
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    let body: Record<string, unknown> = {};
    if (text) {
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        return fail(400, "ERR_VALIDATION", "The body is not JSON.");
      }
    }
    requests.push({ method: req.method ?? "", path: url.pathname + url.search, body: text ? body : undefined });
    const bearer = req.headers.authorization?.startsWith("Bearer ") ? req.headers.authorization.slice(7) : undefined;
    const who = tokens.find((t) => t.token === bearer && !t.revokedAt && (!t.expiresAt || Date.parse(t.expiresAt) > Date.now()));
    if (!who) return fail(401, "ERR_UNAUTHORIZED", "Missing or unknown bearer token.");
    const need = (role: Role) =>
      RANK[who.role] >= RANK[role] || (fail(403, "ERR_FORBIDDEN", `This needs the ${role} role; the token has ${who.role}.`), false);
    const method = req.method;
    const path = url.pathname;
    let m: RegExpExecArray | null;

    if (method === "GET" && path === "/v1/secrets") {
      if (!need("viewer")) return;
      return send(
        200,
        [...secrets.values()].map((s) => ({
          name: s.name,
          version: s.current,
          mode: s.mode,
          jurisdictions: s.jurisdictions,
          deleted: s.deleted,
          updatedAt: s.updatedAt,
        })),
      );
    }
    if ((m = /^\/v1\/secrets\/([^/]+)(?:\/(versions|value|rollback|undelete|destroy))?$/.exec(path))) {
      const name = decodeURIComponent(m[1]!);
      const sub = m[2];
      const s = secrets.get(name);
      const missing = () => fail(404, "ERR_NOT_FOUND", `secret ${name} does not exist`);
      const stale = (cas: unknown) => {
        const current = s?.current ?? 0;
        if (cas === undefined || cas === null || cas === current) return false;
        fail(409, "ERR_CONFLICT", `secret ${name} is at version ${current}, not ${String(cas)}`, {
          current_version: current,
          expected_version: cas,
        });
        return true;
      };
      const bump = (sec: Secret, value: string, encoding: Version["encoding"]) => {
        sec.current = Math.max(0, ...sec.versions.map((v) => v.version)) + 1;
        sec.versions.push({
          version: sec.current,
          value,
          encoding,
          createdAt: now(),
          createdBy: who.name,
          createdByToken: who.id,
          destroyed: false,
        });
        sec.updatedAt = now();
      };
      if (method === "PUT" && !sub) {
        if (!need("deployer")) return;
        const {
          value,
          encoding = "utf8",
          cas,
          mode,
          jurisdictions,
        } = body as { value?: unknown; encoding?: unknown; cas?: unknown; mode?: unknown; jurisdictions?: unknown };
        if (typeof value !== "string" || value === "" || (encoding !== "utf8" && encoding !== "base64"))
          return fail(400, "ERR_VALIDATION", "value must be a non-empty string; encoding utf8 or base64");
        if (s?.deleted)
          return fail(409, "ERR_CONFLICT", `secret ${name} is deleted; undelete it before changing it`, { current_version: s.current });
        if (stale(cas)) return;
        const sec = s ?? { name, current: 0, versions: [], mode: "relay", jurisdictions: [], deleted: false, updatedAt: now() };
        if (typeof mode === "string") sec.mode = mode;
        if (Array.isArray(jurisdictions)) sec.jurisdictions = jurisdictions as string[];
        bump(sec, value, encoding);
        secrets.set(name, sec);
        record(who, "secret.put", `secret:${name}`, { version: sec.current });
        return send(200, { name, version: sec.current });
      }
      if (!s) return missing();
      if (method === "GET" && sub === "versions") {
        if (!need("viewer")) return;
        return send(
          200,
          s.versions.map((v) => ({
            version: v.version,
            createdAt: v.createdAt,
            createdBy: v.createdBy,
            createdByToken: v.createdByToken,
            destroyed: v.destroyed,
            current: v.version === s.current,
          })),
        );
      }
      if (method === "GET" && sub === "value") {
        if (!need("admin")) return;
        if (s.deleted) return fail(404, "ERR_NOT_FOUND", `secret ${name} is deleted`);
        const want = url.searchParams.has("version") ? Number(url.searchParams.get("version")) : s.current;
        const v = s.versions.find((x) => x.version === want);
        if (!v || v.destroyed) return fail(404, "ERR_NOT_FOUND", `secret ${name} has no version ${want}`);
        record(who, "secret.read", `secret:${name}`, { version: v.version });
        return send(200, { name, version: v.version, value: v.value, encoding: v.encoding });
      }
      if (method === "POST" && sub === "rollback") {
        if (!need("deployer")) return;
        if (stale(body.cas)) return;
        const v = s.versions.find((x) => x.version === body.to && !x.destroyed);
        if (!v) return fail(404, "ERR_NOT_FOUND", `secret ${name} has no version ${String(body.to)}`);
        bump(s, v.value, v.encoding);
        record(who, "secret.rollback", `secret:${name}`, { to: v.version, version: s.current });
        return send(200, { name, version: s.current });
      }
      if (method === "DELETE" && !sub) {
        if (!need("deployer")) return;
        if (stale(url.searchParams.has("cas") ? Number(url.searchParams.get("cas")) : undefined)) return;
        s.deleted = true;
        record(who, "secret.delete", `secret:${name}`);
        return send(200, { name, deleted: true });
      }
      if (method === "POST" && sub === "undelete") {
        if (!need("admin")) return;
        s.deleted = false;
        record(who, "secret.undelete", `secret:${name}`);
        return send(200, { name, deleted: false });
      }
      if (method === "POST" && sub === "destroy") {
        if (!need("admin")) return;
        const which = Array.isArray(body.versions) ? (body.versions as number[]) : s.versions.map((v) => v.version);
        const destroyed: number[] = [];
        for (const v of s.versions)
          if (which.includes(v.version) && !v.destroyed) (v.destroyed = true), (v.value = ""), destroyed.push(v.version);
        record(who, "secret.destroy", `secret:${name}`, { versions: destroyed });
        return send(200, { name, destroyed });
      }
    }
    const view = (t: Token) => ({
      id: t.id,
      name: t.name,
      role: t.role,
      tenant: t.tenant,
      createdAt: t.createdAt,
      expiresAt: t.expiresAt,
      revokedAt: t.revokedAt,
    });
    if (path === "/v1/tokens" && method === "GET") return need("admin") && send(200, tokens.map(view));
    if (path === "/v1/tokens" && method === "POST") {
      if (!need("admin")) return;
      const { name, role, tenant, expiresAt } = body as { name?: unknown; role?: unknown; tenant?: unknown; expiresAt?: unknown };
      if (typeof name !== "string" || typeof role !== "string" || !(role in RANK))
        return fail(400, "ERR_VALIDATION", "name and role are required");
      const t: Token = {
        id: `tok_${nextToken++}`,
        token: `cbo_${role}_fake_${nextToken}_${Math.random().toString(36).slice(2)}`,
        name,
        role: role as Role,
        tenant: typeof tenant === "string" ? tenant : null,
        createdAt: now(),
        expiresAt: typeof expiresAt === "string" ? expiresAt : null,
        revokedAt: null,
      };
      tokens.push(t);
      record(who, "token.create", `token:${t.id}`, { role: t.role });
      return send(201, { token: t.token, ...view(t) });
    }
    if (method === "DELETE" && (m = /^\/v1\/tokens\/([^/]+)$/.exec(path))) {
      if (!need("admin")) return;
      const t = tokens.find((x) => x.id === decodeURIComponent(m![1]!));
      if (!t) return fail(404, "ERR_NOT_FOUND", `no token ${decodeURIComponent(m[1]!)}`);
      t.revokedAt ??= now();
      record(who, "token.revoke", `token:${t.id}`);
      return send(200, { id: t.id, revoked: true });
    }
    if (method === "GET" && path === "/v1/audit") {
      if (!need("admin")) return;
      const q = Object.fromEntries(url.searchParams);
      const hit = (e: Entry) =>
        (!q.actor || e.actor === q.actor) &&
        (!q.action || (q.action.endsWith("*") ? e.action.startsWith(q.action.slice(0, -1)) : e.action === q.action)) &&
        (!q.target || e.target === q.target) &&
        (!q.since || e.at >= q.since) &&
        (!q.until || e.at <= q.until) &&
        (!q.beforeSeq || e.seq < Number(q.beforeSeq)) &&
        (!q.text || JSON.stringify(e).toLowerCase().includes(q.text.toLowerCase()));
      // One page, newest first, as the daemon answers (this fake never has a second page).
      return send(200, {
        items: audit
          .filter(hit)
          .reverse()
          .slice(0, Number(q.limit ?? 100)),
      });
    }
    return fail(404, "ERR_NOT_FOUND", `No route ${method} ${path}.`);
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    secrets,
    tokens,
    audit,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
